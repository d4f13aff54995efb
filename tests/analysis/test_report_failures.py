"""What `analyze` does with imperfect runs: interrupted and aborted files analysed for what they
hold, scans missing a column listed as failed with the reason, other kinds skipped, bad points
excluded and counted, bad inputs stopped with one error before anything is written."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from test_files_loading import _interrupt
from test_report_synthetic_data import (RF_COLUMNS, SyntheticLab, bscan_rows, rf_rows, write_bscan,
                                        write_rfscan)

from kmor.analysis.files import AnalysisInputError
from kmor.analysis.report import analyze
from kmor.storage import ScanWriter, new_run_dir, next_scan_path


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A run with: two good B scans, an interrupted one, an aborted one, one without the light
    power column, one with flagged garbage points, one without a sweep column, a zeroing scan,
    and an rf scan without its transmission column."""
    root = tmp_path_factory.mktemp("messy")
    run = new_run_dir(root / "data", "messy")
    lab = SyntheticLab(11)
    files = {}
    files["good4"] = write_bscan(run, lab, 4.0, range_uG=40.0)
    files["good8"] = write_bscan(run, lab, 8.0, range_uG=40.0)
    files["interrupted"] = write_bscan(run, lab, 6.0, range_uG=40.0)
    _interrupt(files["interrupted"], 120)                    # the down sweep and 39 points of the up sweep
    files["aborted"] = write_bscan(run, lab, 10.0, range_uG=40.0)
    with h5py.File(files["aborted"], "r+") as f:
        f.attrs.create("status", np.bytes_(b"aborted"), dtype=h5py.string_dtype("utf-8", 16))
    files["no_light"] = write_bscan(run, lab, 3.0, range_uG=40.0, drop_columns=["light_power_uW"])
    rows = bscan_rows(lab, 5.0, 40.0, 1.0)
    for i, row in enumerate(rows):
        row["flag"] = int(i % 10 == 0)
        if row["flag"]:
            row["x_V"] = 1.0                                  # garbage a fit must not see
    files["flagged"] = write_bscan(run, lab, 5.0, rows=rows, extra_columns={"flag": ("", "i8")})
    files["no_sweep"] = write_bscan(run, lab, 7.0, range_uG=40.0, drop_columns=["sweep"])
    with ScanWriter(next_scan_path(run, "zeroing"), kind="zeroing", columns={"bx_uG": "uG"}, parameters={},
                    snapshot={}, config_text="", kmor_version="t") as w:
        w.append({"bx_uG": 0.0})
        files["zeroing"] = w.path
    rows = rf_rows(lab, 8.0, -36.0, 461_719_711.0, 60.0, 1.0, 2, 2e-7)
    columns = {k: v for k, v in RF_COLUMNS.items() if k != "transmission_V"}
    with ScanWriter(next_scan_path(run, "rfscan"), kind="rfscan", columns=columns,
                    parameters={"rf_power_dBm": -36.0}, snapshot={}, config_text="", kmor_version="t") as w:
        for row in rows:
            w.append({k: row[k] for k in columns})
        files["rf_no_transmission"] = w.path
    summary = analyze([run], root / "report")
    by_file = {s.file: s for s in summary.scans}
    return summary, {k: by_file[str(p.resolve())] for k, p in files.items()}


def test_every_scan_is_listed_none_silently_dropped(messy):
    summary, recs = messy
    assert len(summary.scans) == len(recs) == 9


def test_missing_columns_put_the_scan_in_the_failed_list_with_the_reason(messy):
    summary, recs = messy
    assert recs["no_light"].outcome == "failed"
    assert "light_power_uW" in recs["no_light"].reason
    assert recs["rf_no_transmission"].outcome == "failed"
    assert "missing column 'transmission_V'" in recs["rf_no_transmission"].reason
    failed = {f["file"]: f["reason"] for f in summary.document["failed"]}
    assert set(failed) == {recs["no_light"].file, recs["rf_no_transmission"].file}
    report = summary.report_path.read_text()
    assert "Failed to analyse" in report and "missing column 'transmission_V'" in report
    assert any("2 scan(s) failed" in line for line in summary.headline())


def test_interrupted_and_aborted_files_are_analysed_for_what_they_hold(messy):
    summary, recs = messy
    interrupted, aborted = recs["interrupted"], recs["aborted"]
    assert interrupted.status == "interrupted" and interrupted.n_points == 120
    assert aborted.status == "aborted"
    assert interrupted.outcome == aborted.outcome == "used"
    fits = {s.file: s for s in summary.zeeman["D1"].scans}
    part = fits[interrupted.file]
    assert part.n_points == 120
    assert abs(part.fit.width_uG - (2.9 + 0.91 * 6.0)) < 3 * part.fit.width_err_uG
    assert any("interrupted" in note for note in part.notes)


def test_flagged_points_are_excluded_and_counted(messy):
    summary, recs = messy
    scan = next(s for s in summary.zeeman["D1"].scans if s.file == recs["flagged"].file)
    assert scan.excluded == {"flagged": 17}
    assert scan.n_points == 162 - 17
    assert abs(scan.fit.width_uG - (2.9 + 0.91 * 5.0)) < 3 * scan.fit.width_err_uG


def test_sweeps_are_told_apart_by_the_field_when_there_is_no_sweep_column(messy):
    summary, recs = messy
    scan = next(s for s in summary.zeeman["D1"].scans if s.file == recs["no_sweep"].file)
    assert set(scan.sweeps) == {"down", "up"}
    assert (scan.direction == "down").sum() == 81 and (scan.direction == "up").sum() == 81


def test_other_kinds_are_listed_as_skipped(messy):
    _, recs = messy
    assert recs["zeroing"].outcome == "skipped" and "'zeroing' is not analysed" in recs["zeroing"].reason


def test_the_zeeman_extrapolation_uses_the_good_and_partial_scans(messy):
    summary, recs = messy
    z = summary.zeeman["D1"]
    used = {s.file for s, u in zip(z.scans, z.used) if u}
    assert used == {recs[k].file for k in ("good4", "good8", "interrupted", "aborted", "flagged", "no_sweep")}
    assert abs(z.delta_b0_uG - 2.9) < 2.5 * z.delta_b0_err_uG


def test_a_file_that_is_not_a_kmor_scan_stops_the_analysis_before_writing(tmp_path):
    run = new_run_dir(tmp_path / "data", "r")
    write_bscan(run, SyntheticLab(1), 4.0, range_uG=10.0)
    bad = run / "00002-bscan.h5"
    with h5py.File(bad, "w") as f:
        f["x"] = [1.0]
    out = tmp_path / "report"
    with pytest.raises(AnalysisInputError, match="00002-bscan.h5: not a kmor scan file"):
        analyze([run], out)
    assert not out.exists()
    with pytest.raises(AnalysisInputError, match="no such file or folder"):
        analyze([tmp_path / "nowhere"], out)


def test_an_rf_scan_without_rf_power_is_fitted_but_not_extrapolated(tmp_path):
    run = new_run_dir(tmp_path / "data", "r")
    path = write_rfscan(run, SyntheticLab(3), 8.0, -36.0, span_hz=80.0, repeats=2)
    with h5py.File(path, "r+") as f:
        del f["meta/parameters_json"]
        f["meta/parameters_json"] = '{"light_power_uW": 8.0}'
    summary = analyze([run], tmp_path / "report")
    (rec,) = summary.scans
    assert rec.outcome == "fitted" and "no rf power" in rec.reason
    assert summary.hyperfine.fwhm_fit is None and summary.hyperfine.notes


def test_a_fragment_without_the_resonance_is_no_signal_not_used(tmp_path):
    """An aborted scan's first points (far out on one wing) give no width: "no signal", with why."""
    run = new_run_dir(tmp_path / "data", "fragment")
    lab = SyntheticLab(5)
    good = write_bscan(run, lab, 4.0, range_uG=40.0)
    fragment = write_bscan(run, lab, 6.0, rows=bscan_rows(lab, 6.0, 40.0, 1.0)[:25])
    summary = analyze([run], tmp_path / "report")
    records = {s.file: s for s in summary.scans}
    assert records[str(fragment.resolve())].outcome == "no signal"
    reason = records[str(fragment.resolve())].reason   # either test may say it first
    assert "not inside the scanned field" in reason or "no significant NMOR resonance" in reason
    assert all(s.file != str(fragment.resolve()) for s in summary.zeeman["D1"].scans)
    assert records[str(good.resolve())].outcome in ("used", "fitted")
