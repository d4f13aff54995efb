"""Loading scan files for analysis: trust only n_points rows, refuse what is not a kmor scan with
one error naming the file, find scans in run folders, convert units, and mark bad points."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from test_report_synthetic_data import SyntheticLab, bscan_rows, write_bscan

from kmor.analysis.files import (AnalysisInputError, ScanProblem, cluster_labels, find_scan_files,
                                 good_point_mask, load_scan)
from kmor.storage import ScanWriter, new_run_dir


def _interrupt(path, n_keep: int) -> None:
    """Make a complete file look like one whose writer was killed after `n_keep` points: status
    "running", n_points lowered, and the rows beyond it holding garbage (a reader must ignore them)."""
    with h5py.File(path, "r+") as f:
        f.attrs.create("status", np.bytes_(b"running"), dtype=h5py.string_dtype("utf-8", 16))
        f.attrs["n_points"] = np.int64(n_keep)
        for name, ds in f["columns"].items():
            if ds.dtype.kind == "f":
                ds[n_keep:] = 1e9


def test_only_the_first_n_points_rows_are_read_and_a_dead_writer_reads_interrupted(tmp_path):
    run = new_run_dir(tmp_path, "r")
    path = write_bscan(run, SyntheticLab(1), 4.0, range_uG=20.0, step_uG=1.0)
    _interrupt(path, 30)
    scan = load_scan(path)
    assert scan.status == "interrupted" and scan.n_points == 30
    assert scan.kind == "bscan"
    assert all(col.shape == (30,) for col in scan.columns.values())
    assert np.all(np.abs(scan.columns["x_V"]) < 1.0)          # no garbage row slipped in
    assert scan.units["field_uG"] == "uG" and scan.parameters["light_power_uW"] == 4.0
    assert list(scan.columns["sweep"][:2]) == ["down", "down"]  # strings come back as text


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_text("not hdf5 at all"), "not readable as HDF5"),
    (lambda p: h5py.File(p, "w").close(), "not a kmor scan file"),
])
def test_bad_inputs_give_one_clear_error_naming_the_file(tmp_path, make, message):
    path = tmp_path / "00001-bscan.h5"
    make(path)
    with pytest.raises(AnalysisInputError, match=message) as info:
        load_scan(path) if path.exists() else find_scan_files([path])
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_newer_format_version_is_refused(tmp_path):
    run = new_run_dir(tmp_path, "r")
    path = write_bscan(run, SyntheticLab(1), 4.0, range_uG=10.0)
    with h5py.File(path, "r+") as f:
        f.attrs["kmor_format_version"] = np.int64(2)
    with pytest.raises(AnalysisInputError, match="format 2.*update kmor"):
        load_scan(path)


def test_find_scan_files_orders_by_scan_number_and_skips_hidden_temporaries(tmp_path):
    run = new_run_dir(tmp_path, "r")
    for name in ("00010-bscan.h5", "00002-rfscan.h5", "00001-bscan.h5", ".00011-bscan.h5.123.h5.tmp",
                 ".00012-bscan.h5"):
        (run / name).write_bytes(b"")
    found = find_scan_files([tmp_path])           # a data folder: searched down to its runs
    assert [p.name for p in found] == ["00001-bscan.h5", "00002-rfscan.h5", "00010-bscan.h5"]
    assert find_scan_files([run, run / "00002-rfscan.h5"]) == found  # listed once
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AnalysisInputError, match="no scan files"):
        find_scan_files([empty])


def test_columns_by_alias_in_the_analysis_units_or_a_problem_naming_the_column(tmp_path):
    run = new_run_dir(tmp_path, "r")
    lab = SyntheticLab(2)
    rows = bscan_rows(lab, 4.0, 10.0, 1.0)
    for row in rows:
        row["field_mG"] = row["field_uG"] / 1000.0
    path = write_bscan(run, lab, 4.0, rows=rows, drop_columns=["field_uG", "field_set_uG"],
                       extra_columns={"field_mG": "mG"})
    scan = load_scan(path)
    field = scan.column(["field_uG", "field_mG"], "uG")
    np.testing.assert_allclose(field, [r["field_uG"] for r in rows])
    with pytest.raises(ScanProblem, match="missing column 'set_field_uG'"):
        scan.column(["set_field_uG"], "uG", "the field")
    with pytest.raises(ScanProblem, match="'field_mG' is in 'mG', which cannot be converted to Hz"):
        scan.column(["field_mG"], "Hz")


def test_flagged_and_unlocked_points_are_excluded_and_counted(tmp_path):
    run = new_run_dir(tmp_path, "r")
    columns = {"x_V": "V", "flag": ("", "i8"), "locked": ("", "bool"), "lock_error_V": "V"}
    path = run / "00001-bscan.h5"
    x = np.arange(10.0)
    x[3] = np.nan
    with ScanWriter(path, kind="bscan", columns=columns, parameters={}, snapshot={}, config_text="",
                    kmor_version="t") as w:
        for i in range(10):
            w.append({"x_V": x[i], "flag": int(i in (5, 6)), "locked": i != 8, "lock_error_V": 0.0})
    scan = load_scan(path)
    keep, excluded = good_point_mask(scan, [scan.column(["x_V"])])
    assert list(np.flatnonzero(~keep)) == [3, 5, 6, 8]
    assert excluded == {"not finite": 1, "flagged": 2, "laser unlocked": 1}


def test_without_a_running_servo_the_locked_column_excludes_nothing(tmp_path):
    # the engine writes locked=False and lock_error_V=NaN for every point when no servo runs
    run = new_run_dir(tmp_path, "r")
    path = run / "00001-bscan.h5"
    with ScanWriter(path, kind="bscan", columns={"x_V": "V", "locked": ("", "bool"), "lock_error_V": "V"},
                    parameters={}, snapshot={}, config_text="", kmor_version="t") as w:
        for i in range(5):
            w.append({"x_V": float(i), "locked": False, "lock_error_V": float("nan")})
    keep, excluded = good_point_mask(load_scan(path), [np.arange(5.0)])
    assert keep.all() and excluded == {}


def test_cluster_labels_groups_powers_near_the_same_nominal_value():
    assert cluster_labels([10.02, 2.0, 9.98, 4.01, 3.99, 115.0]) == [2, 0, 2, 1, 1, 3]
    assert cluster_labels([-40.0, -36.0, -40.01], rel_tol=0.0, abs_tol=0.05) == [0, 1, 0]


def test_the_engines_scans_have_the_columns_the_analysis_looks_for():
    # contract with kmor/sequences (bscan.py, rfscan.py): a renamed column would fail every scan
    from kmor.analysis import hyperfine, zeeman
    from kmor.sequences.bscan import columns as bscan_columns
    from kmor.sequences.rfscan import COLUMNS as RF_ENGINE_COLUMNS
    b = set(bscan_columns("mA"))
    for aliases in (zeeman.FIELD_COLUMNS, zeeman.SIGNAL_COLUMNS, zeeman.LIGHT_COLUMNS, zeeman.DIRECTION_COLUMNS):
        assert b & set(aliases), aliases
    rf = set(RF_ENGINE_COLUMNS)
    for aliases in (hyperfine.FREQ_COLUMNS, hyperfine.SIGNAL_COLUMNS, hyperfine.LIGHT_COLUMNS,
                    hyperfine.COUNTER_COLUMNS):
        assert rf & set(aliases), aliases


def test_a_damaged_column_makes_the_scan_fail_naming_it(tmp_path):
    from kmor.analysis.report import analyze
    run = new_run_dir(tmp_path / "data", "r")
    path = write_bscan(run, SyntheticLab(1), 4.0, range_uG=20.0)
    with h5py.File(path, "r+") as f:
        del f["columns/x_V"]
        f["columns/x_V"] = np.zeros(5)                  # shorter than n_points
    (rec,) = analyze([run], tmp_path / "report", figures=False).scans
    assert rec.outcome == "failed"
    assert rec.reason.startswith("column 'x_V' (the polarimeter lock-in X) is unreadable: 5 rows, fewer than")
