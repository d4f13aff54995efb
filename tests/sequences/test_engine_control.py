"""Pause, resume and abort act at point boundaries; nothing is lost or measured twice."""

from __future__ import annotations

import threading

import numpy as np

from kmor.sequences import events as ev
from kmor.storage import read_scan

from seq_helpers import is_safe

N_POINTS = 20
COLUMNS = {"index": ("", "i8"), "field_set_uG": "uG", "x_V": "V", "time_s": "s"}


def stepping_plan(n: int = N_POINTS):
    """A plain scan: Bz steps, X read after a 0.3 s settle (the engine's wait)."""
    def plan(engine):
        st = engine.station
        with engine.scan("bscan", COLUMNS, {"test": True}, expected_points=n) as scan:
            for i in range(n):
                def measure(i=i):
                    st.coils.set_field_uG("bz", float(i))
                    engine.wait(0.3)
                    return {"index": i, "field_set_uG": float(i),
                            "x_V": st.lockin_polarimeter.snap("x_V", "y_V")["x_V"],
                            "time_s": engine.now_s()}
                scan.point(measure)
            return scan.path
    return plan


def subscribe_at_point(engine, index, action):
    def hook(event):
        if event.kind == ev.POINT and event.index == index:
            action()
    engine.bus.subscribe(hook, synchronous=True)


def test_pause_holds_at_a_point_boundary_and_resume_loses_nothing(engine, station):
    paused = threading.Event()
    engine.bus.subscribe(lambda e: paused.set() if e.kind == ev.PAUSED else None, synchronous=True)
    points_when_paused = []
    engine.bus.subscribe(lambda e: points_when_paused.append(e.index) if e.kind == ev.POINT else None,
                         synchronous=True)
    subscribe_at_point(engine, 6, engine.pause)
    thread = engine.start(stepping_plan())
    assert paused.wait(30), "the run never paused"
    assert engine.state == "paused"
    seen_while_paused = list(points_when_paused)
    engine.resume()
    thread.join(60)
    assert not thread.is_alive()
    assert engine.outcome.status == "complete"
    # the pause came after point 6 was acknowledged and before point 7 was measured
    assert seen_while_paused == list(range(7))
    scan = read_scan(engine.outcome.result)
    assert scan.status == "complete"
    np.testing.assert_array_equal(scan.columns["index"], np.arange(N_POINTS))
    assert [s.reason for s in scan.suspensions] == ["paused by the operator"]
    assert scan.suspensions[0].end_s >= scan.suspensions[0].start_s


def test_abort_stops_after_the_current_point_and_keeps_every_point(engine, station):
    subscribe_at_point(engine, 8, lambda: engine.abort("operator pressed Abort"))
    paths = []
    engine.bus.subscribe(lambda e: paths.append(e.scan) if e.kind == ev.SCAN_STARTED else None,
                         synchronous=True)
    outcome = engine.run(stepping_plan())
    assert outcome.status == "aborted"
    assert "operator pressed Abort" in outcome.message
    scan = read_scan(paths[0])
    assert scan.status == "aborted"
    np.testing.assert_array_equal(scan.columns["index"], np.arange(9))
    assert is_safe(station)


def test_abort_while_paused_ends_the_run(engine):
    def pause_then_abort():
        engine.pause()
        engine.abort("abort while paused")
    subscribe_at_point(engine, 2, pause_then_abort)
    outcome = engine.run(stepping_plan())
    assert outcome.status == "aborted"
    assert engine.state == "finished"


def test_pause_requested_before_a_point_is_a_state_not_an_error(engine):
    finished = []
    engine.bus.subscribe(lambda e: finished.append(e) if e.kind in (ev.ERROR, ev.FINISHED) else None,
                         synchronous=True)
    subscribe_at_point(engine, 0, engine.pause)
    engine.bus.subscribe(lambda e: engine.resume() if e.kind == ev.PAUSED else None, synchronous=True)
    outcome = engine.run(stepping_plan(5))
    assert outcome.status == "complete"
    assert [e.kind for e in finished] == [ev.FINISHED]
    assert finished[0].status == "complete"


def test_the_station_satisfies_the_protocol_the_sequences_use(station):
    from kmor.sequences.protocols import Station
    assert isinstance(station, Station)
