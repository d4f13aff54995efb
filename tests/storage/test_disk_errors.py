"""Disk trouble surfaces as one StorageError naming the file; what was acknowledged stays readable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import h5py
import pytest

from kmor.storage import ScanWriter, StorageError, read_scan

ARGS = dict(kind="bscan", columns={"v": "V"}, parameters={}, snapshot={}, config_text="", kmor_version="x")
Usage = namedtuple("Usage", "total used free")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_real_write_failure_mid_scan(tmp_path):
    """The child caps its file size (RLIMIT_FSIZE: writes past it fail with EFBIG, as on a full
    disk) just above the new file, then appends until the columns must grow."""
    path = tmp_path / "full.h5"
    child = Path(__file__).with_name("writer_child.py")
    out = subprocess.run([sys.executable, str(child), str(path), "diskfull"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr  # no crash, also not when HDF5 shuts down at exit
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    acked = int(lines["acked"])
    assert acked >= 16
    assert lines["error"].startswith(f"{path}: could not grow the columns beyond {acked} points")
    assert "File too large" in lines["error"] and f"the {acked} points acknowledged" in lines["error"]
    assert lines["again"].startswith(f"{path}: scan stopped after an earlier write error")
    assert "Traceback" not in out.stderr
    with h5py.File(path, "r") as f:
        assert f.attrs["n_points"] == acked
    scan = read_scan(path)
    assert scan.status == "interrupted" and scan.n_points == acked
    assert scan.columns["k"].tolist() == [7 * i for i in range(acked)]


def test_low_disk_space_stops_before_hdf5_ever_fails(tmp_path, monkeypatch):
    path = tmp_path / "s.h5"
    w = ScanWriter(path, **ARGS, expected_points=8, chunk_rows=8, min_free_bytes=100 * 2**20)
    for i in range(8):
        w.append({"v": float(i)})
    monkeypatch.setattr(shutil, "disk_usage", lambda _: Usage(10**9, 10**9 - 5 * 2**20, 5 * 2**20))
    with pytest.raises(StorageError, match=r"only 5\.0 MiB free .* 8 points are on disk") as info:
        w.append({"v": 8.0})
    assert info.value.path == path
    w.close("failed", str(info.value))  # the file is healthy: it closes normally
    scan = read_scan(path)
    assert (scan.status, scan.n_points) == ("failed", 8) and "MiB free" in scan.message
    with pytest.raises(StorageError, match="only 5.0 MiB free"):
        ScanWriter(tmp_path / "next.h5", **ARGS)
    assert not (tmp_path / "next.h5").exists()


def test_a_failing_flush_is_one_storage_error_and_stops_the_scan(tmp_path, monkeypatch):
    path = tmp_path / "s.h5"
    w = ScanWriter(path, **ARGS)
    w.append({"v": 1.0})
    w.append({"v": 2.0})

    def no_space(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(h5py.File, "flush", no_space)
    with pytest.raises(StorageError) as info:
        w.append({"v": 3.0})
    assert str(info.value) == (f"{path}: could not write point 3: [Errno 28] No space left on device; "
                               f"the 2 points acknowledged before are on disk")
    assert isinstance(info.value.__cause__, OSError)
    monkeypatch.undo()
    with pytest.raises(StorageError, match="earlier write error"):
        w.append({"v": 4.0})
    w.close()  # already closed by the failure: nothing to do
    scan = read_scan(path)
    assert scan.n_points == 2 and scan.columns["v"].tolist() == [1.0, 2.0]


def test_a_failing_create_leaves_no_file(tmp_path, monkeypatch):
    import os

    def broken_write(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", broken_write)
    with pytest.raises(StorageError, match="could not create the scan file: .*No space left"):
        ScanWriter(tmp_path / "s.h5", **ARGS)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
