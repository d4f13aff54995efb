"""Data files are never overwritten; run folders are never reused; scans list in acquisition order."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kmor.storage import ScanWriter, StorageError, list_scans, new_run_dir, next_scan_path, read_scan

ARGS = dict(kind="bscan", columns={"v": "V"}, parameters={}, snapshot={}, config_text="", kmor_version="x")


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "00001-bscan.h5"
    with ScanWriter(path, **ARGS) as w:
        w.append({"v": 1.25})
    before = path.read_bytes()
    with pytest.raises(StorageError, match="never overwrites") as info:
        ScanWriter(path, **ARGS)
    assert info.value.path == path
    assert path.read_bytes() == before
    assert read_scan(path).columns["v"].tolist() == [1.25]
    other = tmp_path / "notes.h5"
    other.write_text("someone else's file")
    with pytest.raises(StorageError, match="never overwrites"):
        ScanWriter(other, **ARGS)
    assert other.read_text() == "someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00001-bscan.h5", "notes.h5"]  # no temp left


def test_a_missing_folder_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError, match="could not create the scan file") as info:
        ScanWriter(tmp_path / "nope" / "s.h5", **ARGS)
    assert info.value.path == tmp_path / "nope" / "s.h5"


def test_run_folders_are_utc_stamped_and_never_reused(tmp_path):
    t = datetime(2026, 3, 29, 1, 30, 5, tzinfo=timezone.utc)
    first = new_run_dir(tmp_path / "data", "power series #1", now=t)
    second = new_run_dir(tmp_path / "data", "power series #1", now=t)
    third = new_run_dir(tmp_path / "data", "power series #1", now=t)
    assert first.name == "20260329-013005-power-series-1"
    assert second.name == "20260329-013005-power-series-1-2" and third.name.endswith("-3")
    assert all(p.is_dir() for p in (first, second, third))
    with pytest.raises(ValueError):
        new_run_dir(tmp_path, "///")


def test_scans_are_numbered_and_listed_in_acquisition_order(tmp_path):
    run = new_run_dir(tmp_path, "grid")
    made = []
    for kind in ["bscan"] * 11 + ["rfscan"]:
        path = next_scan_path(run, kind)
        with ScanWriter(path, **{**ARGS, "kind": kind}):
            pass
        made.append(path)
    (run / ".00013-bscan.h5.999.h5.tmp").write_bytes(b"")  # a creation cut short: not a scan
    (run / "queue.json").write_text("{}")
    assert made[0].name == "00001-bscan.h5" and made[-1].name == "00012-rfscan.h5"
    assert list_scans(run) == made
    assert next_scan_path(run, "bscan").name == "00013-bscan.h5"


@pytest.mark.skipif(os.environ.get("HDF5_USE_FILE_LOCKING", "").upper() in ("FALSE", "0"),
                    reason="a live writer is recognised by its HDF5 file lock")
def test_a_live_writer_in_another_process_reads_as_running(tmp_path):
    path = tmp_path / "live.h5"
    child = Path(__file__).with_name("writer_child.py")
    proc = subprocess.Popen([sys.executable, str(child), str(path), "live", "30"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "30"
        scan = read_scan(path)  # the writer holds HDF5's file lock: read without locking
        assert (scan.status, scan.n_points) == ("running", 30)
        assert scan.columns["k"].tolist() == [7 * i for i in range(30)]
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0
    assert read_scan(path).status == "complete"
