"""Runs started from the window share one lab session: what one run established (the zeroed
transverse fields, the lock) is still there for the next run; closing the window makes it safe."""

from __future__ import annotations

import pytest

from gui_helpers import is_safe
from kmor.sequences.batch_writer import batch_text
from kmor.sequences.laser import LaserSetupParams
from kmor.sequences.zeroing import ZeroingParams
from kmor.storage import read_scan

RUN_TIMEOUT_MS = 120_000


def _run(qtbot, session, name, steps):
    path = session.write_batch(batch_text(name, "test", steps), name)
    with qtbot.waitSignal(session.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        session.start_batch(path)
    report = ended.args[0]
    assert report.status == "complete", report.message
    return report


def test_zeroed_fields_and_lock_are_kept_for_the_next_run_from_the_window(qtbot, window, lab):
    _, station = lab
    session = window.session
    zeroing = ZeroingParams(max_passes=1, trials=5, bz_points=11, span_uG=4.0)
    _run(qtbot, session, "zero", [("laser", LaserSetupParams(piezo_pct=47.5, settle_s=0.1)),
                                  ("lock", {}), ("zeroing", zeroing)])
    zeroed = session.context["zeroing"]["fields_uG"]
    assert any(abs(v) > 0.01 for v in zeroed.values())
    assert session.lab.locked
    report = _run(qtbot, session, "scan", [("bscan", {"field_range_uG": 4.0, "step_uG": 2.0})])
    scan = read_scan(report.run_dir / report.scans[0])
    for axis, value in zeroed.items():
        assert scan.parameters["transverse_uG"][axis] == pytest.approx(value)
    assert scan.columns["locked"].all()
    session.shutdown()
    assert is_safe(station)
