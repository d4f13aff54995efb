"""The B-field scan tab on the simulated lab at full speed: start by clicking, points in the plot,
the live fit, a file on disk like `kmor run` writes; pause, resume, abort to a safe state; bad
values refused next to the field."""

from __future__ import annotations

import json

import numpy as np
from gui_helpers import click, is_safe, type_into, wait_idle

from kmor.config.files import load_config
from kmor.sequences.queue import QueueState
from kmor.sequences.runner import run_batch
from kmor.storage import list_scans, read_scan


def test_start_by_clicking_plots_points_fits_and_writes_the_files_of_kmor_run(qtbot, window, tmp_path):
    panel = window.bscan_panel
    type_into(panel.form, "field_range_uG", "20")
    type_into(panel.form, "step_uG", "1")
    click(qtbot, panel.buttons.start_button)
    qtbot.waitUntil(lambda: panel.plotted_points() > 0, timeout=30_000)
    wait_idle(qtbot, window)
    panel.refresh()

    run_dir = window.session.last_run_dir
    names = [p.name for p in list_scans(run_dir)]
    assert names == ["00001-lockpoint.h5", "00002-bscan.h5"]   # laser, lock-point search, lock, B scan
    scan = read_scan(run_dir / "00002-bscan.h5")
    assert scan.status == "complete" and scan.n_points == 82      # 41 fields down, 41 up
    assert scan.columns["field_uG"].units == "uG"
    assert panel.plotted_points() == 82
    x, y = panel.curves["down"].getData()
    np.testing.assert_allclose(np.sort(x), np.sort(scan.columns["field_uG"][scan.columns["sweep"] == "down"]))
    assert (run_dir / "queue.json").exists() and (run_dir / "run.log").exists()

    qtbot.waitUntil(lambda: panel.last_fit_n == 82, timeout=30_000)        # the fit of the whole scan
    fit = panel.last_fit
    assert 2.0 < fit.width_uG < 20.0 and 0 < fit.width_err_uG < fit.width_uG
    assert "µG" in panel.result.text() and "Hz" in panel.result.text()

    # the batch file the window wrote, run headless as `kmor run` would, gives the same files
    batch_file = json.loads((run_dir / "queue.json").read_text())["batch_file"]
    headless = run_batch(batch_file, load_config(), data_dir=tmp_path / "headless")
    assert [p.name for p in list_scans(headless.run_dir)] == names
    again = read_scan(headless.run_dir / "00002-bscan.h5")
    assert list(again.columns) == list(scan.columns) and again.n_points == scan.n_points


def test_pause_resume_then_abort_leaves_saved_points_and_a_safe_lab(qtbot, window, lab):
    _, station = lab
    panel = window.bscan_panel
    panel.prepare_mode.setCurrentIndex(panel.prepare_mode.findData("none"))
    type_into(panel.form, "light_power_uW", "0")      # no laser set up: leave the light alone
    type_into(panel.form, "field_range_uG", "400")
    type_into(panel.form, "step_uG", "0.5")           # 3202 points: long enough to pause in
    click(qtbot, panel.buttons.start_button)
    qtbot.waitUntil(lambda: panel.n_points() >= 5, timeout=30_000)

    click(qtbot, panel.buttons.pause_button)
    qtbot.waitUntil(lambda: window.session.state == "paused", timeout=30_000)
    qtbot.waitUntil(lambda: any("paused" in line for line in window.log_panel.visible_lines()), timeout=10_000)
    window.tick()
    assert panel.buttons.resume_button.isEnabled() and not panel.buttons.pause_button.isEnabled()
    shown = panel.n_points()
    on_disk = read_scan(panel._scan)
    assert on_disk.status == "running" and on_disk.n_points == shown   # every point acknowledged is shown

    click(qtbot, panel.buttons.resume_button)
    qtbot.waitUntil(lambda: panel.n_points() > shown + 5, timeout=30_000)
    click(qtbot, panel.buttons.abort_button)
    wait_idle(qtbot, window)

    scan = read_scan(panel._scan)
    assert scan.status == "aborted"
    assert scan.n_points == panel.n_points() < 3202
    assert [s.reason for s in scan.suspensions] == ["paused by the operator"]
    assert is_safe(station)
    queue = QueueState.load(window.session.last_run_dir)
    assert queue.data["status"] == "aborted" and queue.jobs[-1]["status"] == "aborted"


def test_a_bad_value_is_refused_with_a_message_and_nothing_starts(qtbot, window, tmp_path):
    panel = window.bscan_panel
    type_into(panel.form, "step_uG", "abc")
    click(qtbot, panel.buttons.start_button)
    assert panel.form.errors["step_uG"].text() == "'abc' is not a number"
    assert "Not started" in panel.status.text()

    type_into(panel.form, "step_uG", "1")
    type_into(panel.form, "field_range_uG", "9000")
    click(qtbot, panel.buttons.start_button)
    message = panel.form.errors["field_range_uG"].text()
    assert "9000 uG exceeds the lab limit limits.max_field_uG = 5000 uG" in message
    assert panel.form.errors["step_uG"].text() == ""

    type_into(panel.form, "field_range_uG", "20")
    type_into(panel.form, "averages", "0")
    click(qtbot, panel.buttons.start_button)
    assert "outside the allowed range" in panel.form.errors["averages"].text()

    window.tick()
    assert window.session.state == "idle" and not window.session.running
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").glob("*/*.h5"))
