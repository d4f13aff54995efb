"""The engine's control flow on a fake station (no physics): pause, abort, suspend and re-take,
the safe state on every exit, and what counts as a lock-in overload."""

from __future__ import annotations

import threading

import pytest

from fake_station import FakeStation
from kmor.sequences import events as ev
from kmor.sequences.engine import Engine
from kmor.sequences.errors import LockinOverload, SequenceError
from kmor.sequences.recorder import MemoryRecorder
from kmor.sequences.states import RUN_TRANSITIONS, RunState

COLUMNS = {"index": ("", "i8"), "bz_uG": "uG"}


class TripOnce:
    """A suspender whose condition holds once, after `after` points; recovering takes 3 s."""

    name = "test condition"

    def __init__(self, after: int) -> None:
        self.after, self.points, self.tripped = after, 0, False

    def check(self, engine):
        if not self.tripped and self.points >= self.after:
            self.tripped = True
            return "condition lost"
        return None

    def handles(self, exc):
        return "overloaded" if isinstance(exc, LockinOverload) else None

    def recover(self, engine, reason):
        engine.wait(3.0)


def make(suspenders=()):
    station = FakeStation()
    recorder = MemoryRecorder()
    engine = Engine(station, recorder=recorder, suspenders=list(suspenders))
    return station, recorder, engine


def scan_plan(n, measure=None, on_point=None):
    def plan(engine):
        with engine.scan("test", COLUMNS, {}, expected_points=n) as scan:
            for i in range(n):
                def row(i=i):
                    engine.station.coils.set_field_uG("bz", float(i))
                    engine.wait(0.5)
                    if measure is not None:
                        measure(i)
                    return {"index": i, "bz_uG": float(i)}
                scan.point(row)
                if on_point is not None:
                    on_point(engine, i)
    return plan


def test_pause_holds_at_a_point_boundary_and_resume_continues_without_losing_points():
    station, recorder, engine = make()
    states = []

    def on_point(engine, i):
        if i == 2:
            engine.pause()
            threading.Timer(0.05, engine.resume).start()

    engine.bus.subscribe(lambda e: states.append(engine.state) if e.kind == ev.PAUSED else None,
                         synchronous=True)
    outcome = engine.run(scan_plan(6, on_point=on_point))
    scan = recorder.scans[0]
    assert outcome.status == "complete" and [r["index"] for r in scan.rows] == list(range(6))
    assert states == [RunState.PAUSED]
    assert [s[2] for s in scan.suspensions] == ["paused by the operator"]
    assert station.is_safe() and station.safe_calls == 1


def test_abort_closes_the_scan_as_aborted_and_makes_the_station_safe():
    station, recorder, engine = make()
    outcome = engine.run(scan_plan(10, on_point=lambda e, i: e.abort("enough") if i == 3 else None))
    scan = recorder.scans[0]
    assert (outcome.status, outcome.message) == ("aborted", "enough")
    assert scan.status == "aborted" and scan.n_points == 4
    assert station.is_safe() and engine.state == RunState.FINISHED


def test_a_tripped_condition_suspends_recovers_and_retakes_the_point():
    trip = TripOnce(after=3)
    station, recorder, engine = make([trip])

    def measure(i):
        trip.points = i
    engine.run(scan_plan(6, measure=measure))
    scan = recorder.scans[0]
    assert [r["index"] for r in scan.rows] == list(range(6))
    (start, end, reason), = scan.suspensions
    assert reason == "condition lost" and end - start == pytest.approx(3.0)


def test_a_lockin_overload_is_retaken_but_an_arithmetic_overflow_is_a_failure():
    station, recorder, engine = make([TripOnce(after=10**9)])
    failures = iter([True, False])

    def overload_once(i):
        if i == 1 and next(failures):
            raise LockinOverload("overloaded at 1 V")
    assert engine.run(scan_plan(3, measure=overload_once)).status == "complete"
    assert recorder.scans[0].n_points == 3 and len(recorder.scans[0].suspensions) == 1

    def overflow(i):
        if i == 1:
            raise OverflowError("math range error")
    with pytest.raises(OverflowError):
        engine.run(scan_plan(3, measure=overflow))
    assert recorder.scans[1].status == "failed" and station.is_safe()


def test_too_many_retakes_give_up_with_a_sequence_error():
    station, recorder, engine = make([TripOnce(after=10**9)])

    def always(i):
        raise LockinOverload("stuck")
    with pytest.raises(SequenceError, match="could not be measured after 10 re-takes"):
        engine.run(scan_plan(2, measure=always))
    assert station.is_safe()


def test_a_session_run_keeps_the_transverse_fields_but_a_failure_does_not():
    station, _, engine = make()

    def set_fields(engine):
        engine.station.coils.set_fields_uG({"bx": 2.0, "bz": 5.0})
        engine.station.rf.rf_on = True
    engine.run(set_fields, keep_state=True)
    assert station.coils.fields == {"bx": 2.0, "by": 0.0, "bz": 0.0}
    assert not station.rf.rf_on and station.safe_calls == 0

    def broken(engine):
        raise RuntimeError("bug")
    with pytest.raises(RuntimeError):
        engine.run(broken, keep_state=True)
    assert station.is_safe() and station.safe_calls == 1


def test_run_states_change_only_as_the_transition_table_allows():
    _, _, engine = make()
    seen = []
    original = engine.control.enter

    def spy(state):
        seen.append((engine.control.state, state))
        original(state)
    engine.control.enter = spy
    engine.run(scan_plan(3, on_point=lambda e, i: (e.pause(), threading.Timer(0.02, e.resume).start())
                         if i == 0 else None))
    assert seen and all(new in RUN_TRANSITIONS[old] for old, new in seen)
    with pytest.raises(RuntimeError, match="cannot go from finished to paused"):
        engine.control.enter(RunState.PAUSED)
