"""Every way out of a run ends with the rf off and the coils ramped to zero."""

from __future__ import annotations

import dataclasses
import os
import signal

import pytest

from kmor.drivers.errors import InstrumentStatusError
from kmor.sequences import events as ev
from kmor.sequences.engine import Terminated

from seq_helpers import is_safe

COLUMNS = {"index": ("", "i8"), "x_V": "V"}


def energise(station):
    station.coils.set_fields_uG({"bx": 3.0, "by": -2.0, "bz": 1400.0})
    station.rf.amplitude_dBm = -30.0
    station.rf.rf_on = True
    assert not is_safe(station)


def scan_plan(n=10, fail_at=None, error=None):
    def plan(engine):
        energise(engine.station)
        with engine.scan("test", COLUMNS, {}, expected_points=n) as scan:
            for i in range(n):
                def measure(i=i):
                    engine.wait(0.1)
                    if i == fail_at:
                        raise error
                    return {"index": i, "x_V": 0.0}
                scan.point(measure)
    return plan


def test_normal_end_is_safe(engine, station):
    assert engine.run(scan_plan()).status == "complete"
    assert is_safe(station)


def test_instrument_error_is_safe_and_reported(engine, station):
    kinds = []
    engine.bus.subscribe(lambda e: kinds.append((e.kind, e.status)), synchronous=True)
    with pytest.raises(InstrumentStatusError):
        engine.run(scan_plan(fail_at=4, error=InstrumentStatusError("SR830 said no")))
    assert is_safe(station)
    assert (ev.ERROR, "") in kinds
    assert kinds[-1] == (ev.FINISHED, "failed")
    assert (ev.SCAN_FINISHED, "failed") in kinds


def test_keyboard_interrupt_is_safe(engine, station):
    with pytest.raises(KeyboardInterrupt):
        engine.run(scan_plan(fail_at=3, error=KeyboardInterrupt()))
    assert is_safe(station)


def test_abort_is_safe(engine, station):
    engine.bus.subscribe(lambda e: engine.abort() if e.kind == ev.POINT and e.index == 2 else None,
                         synchronous=True)
    assert engine.run(scan_plan()).status == "aborted"
    assert is_safe(station)


def test_first_sigterm_stops_at_the_next_point_boundary(engine, station):
    points = []

    def hook(event):
        if event.kind == ev.POINT:
            points.append(event.index)
            if event.index == 3:
                os.kill(os.getpid(), signal.SIGTERM)
    engine.bus.subscribe(hook, synchronous=True)
    previous = signal.getsignal(signal.SIGTERM)
    with engine.signals_stop_at_point_boundary():
        outcome = engine.run(scan_plan())
    assert signal.getsignal(signal.SIGTERM) is previous
    assert outcome.status == "aborted" and "SIGTERM" in outcome.message
    assert points == [0, 1, 2, 3]
    assert is_safe(station)


def test_second_sigterm_stops_at_once_and_is_safe(engine, station):
    def hook(event):
        if event.kind == ev.POINT and event.index == 1:
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
    engine.bus.subscribe(hook, synchronous=True)
    with pytest.raises(Terminated):
        with engine.signals_stop_at_point_boundary():
            engine.run(scan_plan())
    assert is_safe(station)


def test_a_failing_make_safe_does_not_hide_the_outcome(engine, station, monkeypatch):
    def broken():
        raise RuntimeError("coil supply unplugged")
    monkeypatch.setattr(station, "make_safe", broken)
    assert engine.run(scan_plan(3)).status == "complete"


def test_a_signal_during_make_safe_does_not_interrupt_the_ramp_down(engine, station, monkeypatch):
    real_make_safe = station.make_safe

    def make_safe_with_impatient_user():
        os.kill(os.getpid(), signal.SIGINT)     # Ctrl-C while the coils ramp down
        os.kill(os.getpid(), signal.SIGINT)
        return real_make_safe()
    monkeypatch.setattr(station, "make_safe", make_safe_with_impatient_user)
    with engine.signals_stop_at_point_boundary():
        assert engine.run(scan_plan(3)).status == "complete"
    assert is_safe(station)


def _batch_with_broken_bscan(tmp_path, monkeypatch, error):

    def broken(*args, **kwargs):
        raise error
    from kmor.sequences.steps import registry
    monkeypatch.setitem(registry._KINDS, "bscan", dataclasses.replace(registry.get("bscan"), run=broken))
    batch = tmp_path / "b.toml"
    batch.write_text('[[steps]]\nkind = "laser"\nsettle_s = 0.1\n[[steps]]\nkind = "bscan"\n'
                     'field_range_uG = 5.0\nstep_uG = 1.0\n')
    return batch


def test_a_persistent_instrument_fault_pauses_the_batch_resumably(tmp_path, monkeypatch):
    from kmor.config.files import load_config
    from kmor.sequences import runner
    from kmor.sequences.queue import QueueState

    error = InstrumentStatusError("SR830 lock-in (GPIB0::8::INSTR): DSP error",
                                  instrument="SR830 lock-in (GPIB0::8::INSTR)", command="SNAP? 1,2",
                                  reply="ERRS bit 6")
    batch = _batch_with_broken_bscan(tmp_path, monkeypatch, error)
    result = runner.run_batch(batch, load_config(), data_dir=tmp_path / "data")
    assert result.status == "paused"
    assert "DSP error" in result.message and "SNAP? 1,2" in result.message and "ERRS bit 6" in result.message
    jobs = QueueState.load(result.run_dir).jobs
    assert [j["status"] for j in jobs] == ["done", "paused"]
    assert "kmor run --resume" in (result.run_dir / "run.log").read_text()


def test_a_bug_fails_the_batch_and_says_where_its_data_are_and_how_to_resume(tmp_path, monkeypatch):
    from kmor.config.files import load_config
    from kmor.sequences import runner
    from kmor.sequences.queue import QueueState

    batch = _batch_with_broken_bscan(tmp_path, monkeypatch, RuntimeError("a bug"))
    with pytest.raises(RuntimeError) as info:
        runner.run_batch(batch, load_config(), data_dir=tmp_path / "data")
    run_dir = info.value.run_dir
    assert any("kmor run --resume" in note for note in info.value.__notes__)
    jobs = QueueState.load(run_dir).jobs
    assert [j["status"] for j in jobs] == ["done", "failed"]
    assert "a bug" in jobs[1]["message"]
