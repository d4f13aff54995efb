"""The Batch tab: load a sequence file, run it by clicking, see each job's status; resume an
interrupted run; the Results tab fills in from the finished B scans."""

from __future__ import annotations

from gui_helpers import click, is_safe, wait_idle

from kmor.sequences.queue import QueueState
from kmor.storage import list_scans, read_scan

TWO_STEPS = """
[batch]
name = "two-steps"

[[steps]]
kind = "laser"
settle_s = 0.1

[[steps]]
kind = "bscan"
field_range_uG = 10.0
step_uG = 1.0
averages = 2
time_constant_s = 0.03
"""

SERIES = """
[batch]
name = "series"

[[steps]]
kind = "laser"
settle_s = 0.1

[[steps]]
kind = "lock_point_search"
piezo_start_pct = 44.0
piezo_stop_pct = 51.0
piezo_step_pct = 0.5
field_uG = 6.0
light_power_uW = 10.0

[[steps]]
kind = "lock"

[[steps]]
kind = "bscan_series"
light_powers_uW = [2.0, 4.0, 6.0]
field_range_uG = 30.0
step_uG = 1.0
averages = 2
time_constant_s = 0.03
"""


def test_load_and_run_a_two_step_batch(qtbot, window, tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(TWO_STEPS)
    panel = window.batch_panel
    panel.path_edit.setText(str(path))
    click(qtbot, panel.load_button)
    assert panel.table.rowCount() == 2
    assert [panel.job_status(j) for j in ("s00-000-laser", "s01-000-bscan")] == ["pending", "pending"]
    assert "2 steps" in panel.summary.text()

    click(qtbot, panel.buttons.start_button)
    wait_idle(qtbot, window)
    assert [panel.job_status(j) for j in ("s00-000-laser", "s01-000-bscan")] == ["done", "done"]
    assert panel.progress.value() == 100
    run_dir = window.session.last_run_dir
    assert run_dir.name.endswith("-two-steps")
    scan = read_scan(run_dir / "00001-bscan.h5")
    assert scan.status == "complete" and scan.n_points == 42
    assert window.bscan_panel.n_points() == 42        # the batch's B scan is drawn in the B-field tab


def test_a_bad_batch_file_is_refused_naming_the_key(qtbot, window, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TWO_STEPS.replace("field_range_uG = 10.0", "field_range_uG = 9000.0"))
    panel = window.batch_panel
    assert not panel.load(path)
    assert "steps[1].field_range_uG" in panel.message.text() and "5000 uG" in panel.message.text()
    assert panel.table.rowCount() == 0


def test_abort_then_resume_completes_the_batch_in_its_run_folder(qtbot, window, lab, tmp_path):
    _, station = lab
    path = tmp_path / "long.toml"
    path.write_text(TWO_STEPS.replace("field_range_uG = 10.0", "field_range_uG = 300.0"))  # 1202 points
    panel = window.batch_panel
    assert panel.load(path)
    click(qtbot, panel.buttons.start_button)
    qtbot.waitUntil(lambda: window.bscan_panel.n_points() >= 5, timeout=30_000)
    click(qtbot, panel.buttons.abort_button)
    wait_idle(qtbot, window)
    run_dir = window.session.last_run_dir
    assert panel.job_status("s00-000-laser") == "done"
    assert panel.job_status("s01-000-bscan") == "aborted"
    assert is_safe(station)
    assert panel.resume_dir == run_dir                   # Start now continues this run

    click(qtbot, panel.buttons.start_button)
    wait_idle(qtbot, window)
    queue = QueueState.load(run_dir)
    assert queue.data["status"] == "complete"
    assert [j["status"] for j in queue.jobs] == ["done", "done"]
    assert panel.job_status("s01-000-bscan") == "done"
    final = read_scan(run_dir / queue.complete_scans()[-1])
    assert final.status == "complete" and final.n_points == 1202
    assert [p.name for p in list_scans(run_dir)] == ["00001-bscan.h5", "00002-bscan.h5"]


def test_results_fill_in_with_the_width_extrapolated_to_zero_power(qtbot, window, tmp_path):
    path = tmp_path / "series.toml"
    path.write_text(SERIES)
    panel = window.batch_panel
    assert panel.load(path)
    click(qtbot, panel.buttons.start_button)
    wait_idle(qtbot, window)
    results = window.results_panel
    qtbot.waitUntil(lambda: len(results.bscans) == 3 and not results.busy(), timeout=30_000)
    z = results.zeeman["D1"]
    assert z.extrapolation is not None and z.extrapolation.n_points == 3
    widths = sorted(s.fit.width_uG for s in z.scans)
    assert widths[0] < widths[-1]                              # power broadening
    assert 0 < z.delta_b0_uG < widths[0]
    assert "ΔB0" in results.zeeman_label.text() and "γ/2π" in results.zeeman_label.text()
