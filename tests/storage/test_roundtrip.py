"""A scan written by ScanWriter reads back complete, through read_scan and through plain h5py."""

from __future__ import annotations

import json
import math
import pickle

import h5py
import numpy as np
import pytest

from kmor.storage import Column, ScanWriter, StorageError, Suspension, read_scan

B_COLUMNS = {
    "set_field_uG": "uG", "coil_current_mA": "mA", "x_V": "V", "y_V": "V", "sensitivity_V": "V",
    "light_power_uW": "uW", "lock_error_V": "V", "time_s": "s", "direction": ("", "str"),
}
SNAPSHOT = {
    "lockin_rotation": {"sensitivity_V": 1e-3, "time_constant_s": 0.1, "harmonic": 1, "reserve": "low"},
    "coils": {"bz": {"calibration_uG_per_mA": 12.5, "current_mA": 0.0}, "by": {"current_mA": -0.31}},
    "laser": {"wavelength_nm": 770.108, "lock_point_MHz": -250.0, "locked": True, "notes": None},
    "rf": {"freq_hz": 461_719_720.1, "amplitude_dBm": -20.0, "steps": [1, 2, 3]},
}
PARAMETERS = {"field_span_uG": 800.0, "n_points": 9, "direction_order": ["down", "up"], "repeats": 1}


def b_point(i: int) -> dict:
    field = -800.0 + 200.0 * i
    return {"set_field_uG": field, "coil_current_mA": field / 12.5, "x_V": 1e-4 * math.sin(i),
            "y_V": -2e-5 * i, "sensitivity_V": 1e-3, "light_power_uW": 10.0 + i,
            "lock_error_V": 1e-3 * (-1) ** i, "time_s": 0.3 * i, "direction": "up" if i < 5 else "down"}


def write_b_scan(path, n=9, **kwargs):
    with ScanWriter(path, kind="bscan", columns=B_COLUMNS, parameters=PARAMETERS, snapshot=SNAPSHOT,
                    config_text="[lab]\nsimulated = true\n", kmor_version="0.1.0",
                    extra_attrs={"operator": "sim", "cell": "K39 coated"}, **kwargs) as w:
        counts = [w.append(b_point(i)) for i in range(n)]
        w.add_suspension(100.5, 103.25, "laser lock lost")
        w.add_suspension(200.0, 200.5, "light power out of range")
        w.write_array("rf_average_V", np.linspace(0, 1, 11), "V", {"n_repeats": 4, "method": "mean"})
    return counts


def test_columns_units_and_metadata_round_trip(tmp_path):
    path = tmp_path / "00001-bscan.h5"
    counts = write_b_scan(path)
    scan = read_scan(path)

    assert counts == list(range(1, 10))
    assert scan.status == "complete" and scan.message == "" and scan.n_points == 9
    assert scan.kind == "bscan" and scan.kmor_version == "0.1.0"
    assert list(scan.columns) == list(B_COLUMNS)
    assert scan.units == {"set_field_uG": "uG", "coil_current_mA": "mA", "x_V": "V", "y_V": "V",
                          "sensitivity_V": "V", "light_power_uW": "uW", "lock_error_V": "V",
                          "time_s": "s", "direction": ""}
    expected = [b_point(i) for i in range(9)]
    for name in B_COLUMNS:
        assert list(scan.columns[name]) == [p[name] for p in expected], name
    assert scan.columns["x_V"].dtype == np.float64 and scan.columns["x_V"].units == "V"
    assert scan.parameters == {**PARAMETERS}
    assert scan.snapshot["rf"]["freq_hz"] == 461_719_720.1
    assert scan.snapshot == json.loads(json.dumps(SNAPSHOT))
    assert scan.config_text == "[lab]\nsimulated = true\n"
    assert scan.attrs == {"operator": "sim", "cell": "K39 coated"}
    assert scan.suspensions == [Suspension(100.5, 103.25, "laser lock lost"),
                                Suspension(200.0, 200.5, "light power out of range")]
    rf = scan.arrays["rf_average_V"]
    assert rf.units == "V" and rf.attrs == {"n_repeats": 4, "method": "mean"}
    np.testing.assert_array_equal(rf, np.linspace(0, 1, 11))
    assert scan.warnings == []


def test_times_are_utc_iso_and_unix_seconds(tmp_path):
    path = tmp_path / "s.h5"
    write_b_scan(path)
    scan = read_scan(path)
    assert scan.start_time_iso.endswith("+00:00") and scan.end_time_iso.endswith("+00:00")
    from datetime import datetime
    assert datetime.fromisoformat(scan.start_time_iso).timestamp() == pytest.approx(scan.start_time_unix_s, abs=1e-5)
    assert datetime.fromisoformat(scan.end_time_iso).timestamp() == pytest.approx(scan.end_time_unix_s, abs=1e-5)
    assert 0 <= scan.end_time_unix_s - scan.start_time_unix_s < 600


def test_plain_h5py_sees_the_documented_layout(tmp_path):
    path = tmp_path / "s.h5"
    write_b_scan(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["kmor_format"] == "kmor-scan" and f.attrs["kmor_format_version"] == 1
        assert f.attrs["status"] == b"complete" and f.attrs["n_points"] == 9
        assert f["columns/set_field_uG"].shape == (9,)  # trimmed to the points on close
        assert f["columns/set_field_uG"].attrs["units"] == "uG"
        assert f["columns/set_field_uG"][0] == -800.0
        assert list(f["columns/direction"].asstr()[:]) == ["up"] * 5 + ["down"] * 4
        assert json.loads(f["meta/snapshot_json"].asstr()[()])["laser"]["locked"] is True
        assert json.loads(f["meta/parameters_json"].asstr()[()]) == PARAMETERS
        assert f["meta/config_text"].asstr()[()].startswith("[lab]")
        assert f["snapshot/coils/bz"].attrs["calibration_uG_per_mA"] == 12.5
        assert f["snapshot/lockin_rotation"].attrs["reserve"] == "low"
        assert f["parameters"].attrs["field_span_uG"] == 800.0
        assert f["suspensions"].shape == (2,) and f["suspensions"]["reason"][0] == b"laser lock lost"
        assert f["arrays/rf_average_V"].attrs["units"] == b"V"
        assert f.attrs["start_time_iso"].endswith("+00:00")


def test_integer_bool_and_long_string_columns(tmp_path):
    path = tmp_path / "rf.h5"
    cols = {"freq_hz": "Hz", "repeat": ("", "i8"), "locked": ("", "bool"), "note": ("", "str64")}
    with ScanWriter(path, kind="rfscan", columns=cols, parameters={}, snapshot={}, config_text="",
                    kmor_version="x") as w:
        w.append({"freq_hz": 461_719_720.1, "repeat": np.int64(2), "locked": True, "note": "é" * 30})
        w.append({"freq_hz": 461_719_721, "repeat": 3, "locked": np.bool_(False), "note": ""})
    scan = read_scan(path)
    assert scan.columns["freq_hz"].tolist() == [461_719_720.1, 461_719_721.0]
    assert scan.columns["repeat"].dtype == np.int64 and scan.columns["repeat"].tolist() == [2, 3]
    assert scan.columns["locked"].tolist() == [True, False]
    assert scan.columns["note"].tolist() == ["é" * 30, ""]


@pytest.mark.parametrize("point, match", [
    ({"a": 1.0}, "missing \\['b'\\]"),
    ({"a": 1.0, "b": "up", "c": 2.0}, "unknown \\['c'\\]"),
    ({"a": "1.0", "b": "up"}, "column 'a' \\(f8\\) cannot hold '1.0'"),
    ({"a": None, "b": "up"}, "column 'a'"),
    ({"a": 1.0, "b": 3}, "column 'b'"),
    ({"a": 1.0, "b": "x" * 33}, "at most 32 UTF-8 bytes"),
])
def test_a_wrong_point_is_refused_and_nothing_is_written(tmp_path, point, match):
    path = tmp_path / "s.h5"
    with ScanWriter(path, kind="k", columns={"a": "V", "b": ("", "str")}, parameters={}, snapshot={},
                    config_text="", kmor_version="x") as w:
        w.append({"a": 0.5, "b": "up"})
        with pytest.raises(ValueError, match=match):
            w.append(point)
        assert w.append({"a": 2.5, "b": "down"}) == 2
    assert read_scan(path).columns["a"].tolist() == [0.5, 2.5]


def test_columns_grow_past_expected_points_and_are_trimmed(tmp_path):
    path = tmp_path / "s.h5"
    with ScanWriter(path, kind="k", columns={"v": "V"}, parameters={}, snapshot={}, config_text="",
                    kmor_version="x", expected_points=10, chunk_rows=4) as w:
        for i in range(1000):
            w.append({"v": i * 0.5})
        with h5py.File(path, "r") as f:  # while open: capacity rows, only n_points valid
            assert f["columns/v"].shape[0] >= 1000 and f.attrs["n_points"] == 1000
    scan = read_scan(path)
    np.testing.assert_array_equal(scan.columns["v"], np.arange(1000) * 0.5)
    with h5py.File(path, "r") as f:
        assert f["columns/v"].shape == (1000,)


def test_status_follows_how_the_with_block_ends(tmp_path):
    def run(name, exc):
        with pytest.raises(type(exc)):
            with ScanWriter(tmp_path / name, kind="k", columns={"v": "V"}, parameters={}, snapshot={},
                            config_text="", kmor_version="x") as w:
                w.append({"v": 1.0})
                raise exc
        return read_scan(tmp_path / name)

    failed = run("failed.h5", RuntimeError("lock-in timed out"))
    assert (failed.status, failed.message, failed.n_points) == ("failed", "RuntimeError: lock-in timed out", 1)
    aborted = run("aborted.h5", KeyboardInterrupt())
    assert aborted.status == "aborted"
    with ScanWriter(tmp_path / "a2.h5", kind="k", columns={"v": "V"}, parameters={}, snapshot={},
                    config_text="", kmor_version="x") as w:
        w.close("aborted", "user pressed Abort")
    assert (read_scan(tmp_path / "a2.h5").status, read_scan(tmp_path / "a2.h5").message) == \
        ("aborted", "user pressed Abort")


def test_reading_an_open_scan_in_the_same_process_says_running(tmp_path):
    path = tmp_path / "s.h5"
    w = ScanWriter(path, kind="k", columns={"v": "V"}, parameters={}, snapshot={}, config_text="",
                   kmor_version="x")
    w.append({"v": 1.0})
    w.append({"v": 2.0})
    scan = read_scan(path)
    assert (scan.status, scan.n_points, scan.columns["v"].tolist()) == ("running", 2, [1.0, 2.0])
    assert scan.end_time_iso is None and scan.end_time_unix_s is None
    w.append({"v": 3.0})  # reading did not disturb the writer's handles
    w.close()
    scan = read_scan(path)
    assert (scan.status, scan.columns["v"].tolist()) == ("complete", [1.0, 2.0, 3.0])
    with pytest.raises(StorageError, match="already closed"):
        w.append({"v": 3.0})


def test_column_keeps_units_on_slices_but_not_through_arithmetic(tmp_path):
    col = Column(np.array([1.0, 2.0, 3.0]), "uG")
    assert col[1:].units == "uG"
    doubled = col * 2
    assert type(doubled) is np.ndarray and doubled.tolist() == [2.0, 4.0, 6.0]
    assert type(col.mean()) is np.float64 and col.mean() == 2.0
    again = pickle.loads(pickle.dumps(col))
    assert again.units == "uG" and again.tolist() == [1.0, 2.0, 3.0]


def test_snapshot_with_numpy_values_tuples_and_odd_objects(tmp_path):
    from pathlib import Path
    snap = {"daq": {"channels": ("ai0", "ai1"), "rate_hz": np.float32(1000.0), "n": np.int64(3),
                    "trace": np.arange(3.0), "file": Path("/tmp/x"), "big": list(range(5000))}}
    path = tmp_path / "s.h5"
    with ScanWriter(path, kind="k", columns={"v": "V"}, parameters={"p": {"q": 1}}, snapshot=snap,
                    config_text="", kmor_version="x"):
        pass
    scan = read_scan(path)
    assert scan.snapshot["daq"] == {"channels": ["ai0", "ai1"], "rate_hz": 1000.0, "n": 3,
                                    "trace": [0.0, 1.0, 2.0], "file": "/tmp/x", "big": list(range(5000))}
    assert scan.n_points == 0 and scan.columns["v"].tolist() == [] and scan.columns["v"].units == "V"
    with h5py.File(path, "r") as f:  # a 40 kB list is left to the JSON copy, not mirrored
        assert "big" not in f["snapshot/daq"].attrs and f["snapshot/daq"].attrs["n"] == 3


def test_bad_writer_arguments_create_no_file(tmp_path):
    common = dict(parameters={}, snapshot={}, config_text="", kmor_version="x")
    for kwargs, match in [(dict(kind="k", columns={}), "at least one column"),
                          (dict(kind="k", columns={"a/b": "V"}), "without '/'"),
                          (dict(kind="k", columns={"a": ("V", "f4")}), "dtype of column 'a'"),
                          (dict(kind="", columns={"a": "V"}), "kind"),
                          (dict(kind="k", columns={"a": "V"}, extra_attrs={"status": "x"}), "reserved")]:
        with pytest.raises(ValueError, match=match):
            ScanWriter(tmp_path / "s.h5", **kwargs, **common)
    assert list(tmp_path.iterdir()) == []


def test_write_array_refuses_duplicates_and_objects(tmp_path):
    with ScanWriter(tmp_path / "s.h5", kind="k", columns={"v": "V"}, parameters={}, snapshot={},
                    config_text="", kmor_version="x") as w:
        w.write_array("sweep_V", np.zeros((2, 3)), "V")
        w.write_array("labels", ["a", "bb"], "")
        with pytest.raises(ValueError, match="already exists"):
            w.write_array("sweep_V", [1.0], "V")
        with pytest.raises(ValueError, match="numbers or strings"):
            w.write_array("bad", [{"a": 1}], "")
    scan = read_scan(tmp_path / "s.h5")
    assert scan.arrays["sweep_V"].shape == (2, 3) and scan.arrays["labels"].tolist() == ["a", "bb"]


def test_reading_something_else_is_a_storage_error(tmp_path):
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    for name, match in [("junk.h5", "not readable as HDF5"), ("other.h5", "not a kmor scan"),
                        ("missing.h5", "no such scan file")]:
        with pytest.raises(StorageError, match=match) as info:
            read_scan(tmp_path / name)
        assert info.value.path == tmp_path / name


def test_fsync_mode_and_many_suspensions(tmp_path):
    path = tmp_path / "s.h5"
    with ScanWriter(path, kind="k", columns={"v": "V"}, parameters={}, snapshot={}, config_text="",
                    kmor_version="x", fsync=True) as w:
        for i in range(5):
            w.append({"v": float(i)})
        for i in range(70):  # past the 64 preallocated rows of the suspension table
            w.add_suspension(np.float32(i), i + 0.25, f"reason {i}" + " x" * 150 * (i == 69))
        with pytest.raises(ValueError, match="start_s <= end_s"):
            w.add_suspension(5.0, 4.0, "backwards")
    scan = read_scan(path)
    assert scan.columns["v"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(scan.suspensions) == 70 and scan.suspensions[3] == Suspension(3.0, 3.25, "reason 3")
    last = scan.suspensions[-1].reason
    assert last.startswith("reason 69 x x") and last.endswith("...") and len(last.encode()) <= 256
