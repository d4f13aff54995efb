"""The run's side of kmor watch: status.json and live-scan.json say what the run is doing, are
always whole JSON that a browser can parse, and a failure to write them never reaches the run."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest
from watch_helpers import write_batch

from kmor.config.files import load_config
from kmor.sequences import events as ev
from kmor.sequences.events import Event, EventBus
from kmor.sequences.live_status import LIVE_SCAN_FILE, STATUS_FILE, LiveStatus
from kmor.sequences.runner import run_batch


class FakeServo:
    last_error_V = 0.002
    control_V = 1.25
    lost = False


class FakeEngine:
    def __init__(self) -> None:
        self.bus = EventBus()
        self.servo: FakeServo | None = FakeServo()
        self.progress = {"step": 3, "n_steps": 4, "label": "bscan 3 uW", "job": 3, "n_jobs": 5}


def _event(kind: str, t: float, **fields) -> Event:
    fields.setdefault("step", 3)
    fields.setdefault("n_steps", 4)
    return Event(kind=kind, time_s=t, **fields)


def _read(path: Path) -> dict:
    return json.loads(path.read_text())   # json.loads refuses NaN only with a hook; check below


def _no_nan(text: str) -> None:
    assert "NaN" not in text and "Infinity" not in text


def test_events_become_status_and_live_points(tmp_path):
    engine = FakeEngine()
    live = LiveStatus.attach(engine, tmp_path, name="paper", interval_s=0.05)
    bus = engine.bus
    bus.publish(_event(ev.SCAN_STARTED, 1.0, scan=str(tmp_path / "00004-bscan.h5"), total=6, label="bscan 3 uW",
                       remaining_s=100.0))
    for i, (field, sweep) in enumerate([(2, "down"), (1, "down"), (0, "down"), (0, "up"), (1, "up"), (2, "up")]):
        bus.publish(_event(ev.POINT, 2.0 + i, scan=str(tmp_path / "00004-bscan.h5"), index=i, total=6,
                           remaining_s=90.0 - i,
                           row={"field_uG": float(field), "field_set_uG": float(field), "x_V": math.nan if i == 2 else 0.1 * i,
                                "sweep": sweep, "locked": True, "y_V": 5.0}))
    bus.publish(_event(ev.SUSPENDED, 9.0, message="lock-in overload: X at 1 V", info={"suspender": "lock-in overload"}))
    bus.publish(_event(ev.RESUMED, 10.0, message="lock-in overload: X at 1 V",
                       info={"suspender": "lock-in overload", "suspended_s": 1.0}))
    bus.publish(_event(ev.SUSPENDED, 11.0, message="counter reference missing", info={"suspender": "counter reference"}))
    bus.publish(_event(ev.SCAN_FINISHED, 12.0, scan=str(tmp_path / "00004-bscan.h5"), status="complete", index=6,
                       label="bscan 3 uW"))
    assert bus.drain(5)
    time.sleep(0.3)
    status_text = (tmp_path / STATUS_FILE).read_text()
    _no_nan(status_text)
    status = json.loads(status_text)
    assert status["state"] == "running" and status["name"] == "paper"
    assert (status["step"], status["n_steps"], status["job"], status["n_jobs"]) == (3, 4, 3, 5)
    assert status["point"] == 6 and status["progress"] == 1.0 and status["remaining_lab_s"] == 85.0
    assert status["remaining_text"].startswith("left: 1 min 25 s lab time")
    assert status["overloads"]["count"] == 1 and "overload" in status["overloads"]["last"]
    assert status["reference"]["state"] == "missing"
    assert [s["duration_s"] for s in status["suspensions"]] == [1.0, None]
    assert status["scans_closed"] == [{"scan": "00004-bscan.h5", "status": "complete", "points": 6,
                                       "label": "bscan 3 uW", "message": ""}]
    assert status["lock"]["locked"] is True and status["lock"]["control_V"] == 1.25
    assert len(status["lock"]["time_s"]) >= 2 and status["lock"]["strip_error_V"][-1] == 0.002
    scan_text = (tmp_path / LIVE_SCAN_FILE).read_text()
    _no_nan(scan_text)
    scan = json.loads(scan_text)
    assert scan["scan"] == "00004-bscan.h5" and scan["kind"] == "bscan" and scan["n_points"] == 6
    assert scan["columns"]["sweep"] == ["down"] * 3 + ["up"] * 3
    assert scan["columns"]["x_V"][2] is None          # NaN is null for the browser
    assert "y_V" not in scan["columns"]               # only the plotted columns
    live.finish("paused", "lock-in overload: kept overloading")
    status = json.loads((tmp_path / STATUS_FILE).read_text())
    assert status["state"] == "paused" and status["reason"] == "lock-in overload: kept overloading"
    assert status["resume_command"] == f"kmor run --resume {tmp_path}"
    assert not live._thread.is_alive()


def test_operator_pause_and_unpause(tmp_path):
    engine = FakeEngine()
    live = LiveStatus.attach(engine, tmp_path, interval_s=0.05)
    engine.bus.publish(_event(ev.PAUSED, 1.0, message="paused"))
    engine.bus.drain(5)
    time.sleep(0.2)
    assert json.loads((tmp_path / STATUS_FILE).read_text())["state"] == "paused"
    engine.bus.publish(_event(ev.UNPAUSED, 2.0))
    engine.bus.drain(5)
    time.sleep(0.2)
    assert json.loads((tmp_path / STATUS_FILE).read_text())["state"] == "running"
    live.finish("complete")
    status = json.loads((tmp_path / STATUS_FILE).read_text())
    assert status["state"] == "complete" and status["resume_command"] == "" and status["remaining_lab_s"] == 0.0


def test_a_status_that_cannot_be_written_never_reaches_the_run(tmp_path, caplog):
    engine = FakeEngine()
    gone = tmp_path / "no-such-folder"
    live = LiveStatus.attach(engine, gone, interval_s=0.01)
    for i in range(50):
        engine.bus.publish(_event(ev.POINT, float(i), index=i, total=50, row={"x_V": 1.0}))
    engine.bus.drain(5)
    time.sleep(0.1)
    live.finish("complete")
    assert live.write_failures >= 1
    assert sum("live status for kmor watch not written" in r.message for r in caplog.records) == 1


def test_writes_are_bounded_in_rate(tmp_path):
    engine = FakeEngine()
    live = LiveStatus.attach(engine, tmp_path, interval_s=0.2)
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < 1.0:
        engine.bus.publish(_event(ev.POINT, float(i), index=i, total=10**6, row={"x_V": 1.0}))
        i += 1
        time.sleep(0.0005)
    live.finish("complete")
    assert i > 500
    assert live.writes <= 1.0 / 0.2 + 3     # about one write per interval, not one per point


def test_a_batch_run_leaves_its_status_and_last_scan(tmp_path):
    result = run_batch(write_batch(tmp_path), load_config(), data_dir=tmp_path / "data")
    assert result.status == "complete"
    status = json.loads((result.run_dir / STATUS_FILE).read_text())
    assert status["state"] == "complete" and status["pid"] == os.getpid()
    assert [c["scan"] for c in status["scans_closed"]] == result.scans
    assert status["step"] == 3 and status["n_steps"] == 4 and status["label"].startswith("bscan 10")
    assert status["lock"]["time_s"], "the lock strip chart has samples"
    scan = json.loads((result.run_dir / LIVE_SCAN_FILE).read_text())
    assert scan["scan"] == result.scans[-1] and scan["n_points"] == 242
    assert set(scan["columns"]) >= {"field_uG", "x_V", "sweep"}


@pytest.mark.parametrize("state", ["complete", "failed"])
def test_finish_never_raises(tmp_path, state):
    live = LiveStatus(tmp_path / "missing")
    live.finish(state, "x")


def test_a_resumed_run_keeps_its_history(tmp_path):
    (tmp_path / STATUS_FILE).write_text(json.dumps({
        "state": "paused", "scans_closed": [{"scan": "00001-bscan.h5", "status": "complete"}],
        "suspensions": [{"reason": "lock lost"}], "overloads": {"count": 2, "last": "x"}}))
    live = LiveStatus(tmp_path, interval_s=0.01)
    live.finish("complete")
    status = json.loads((tmp_path / STATUS_FILE).read_text())
    assert status["scans_closed"][0]["scan"] == "00001-bscan.h5"
    assert status["suspensions"] == [{"reason": "lock lost"}] and status["overloads"]["count"] == 2
