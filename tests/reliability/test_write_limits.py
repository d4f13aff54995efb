"""A write that fails at any moment of a real batch (a file-size limit, RLIMIT_FSIZE, in the child
process: writes past it fail with EFBIG as on a full disk or a quota) pauses the batch cleanly:
no crash at exit, every file opens with plain h5py holding its acknowledged points, the batch
resumes, and `kmor analyze` reads the run folder."""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from kmor.storage import list_scans, read_scan, read_scans

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
DEMO = Path(__file__).parents[2] / "config" / "sequences" / "demo.toml"


def kmor(*args: str, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def cap() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write(), as `trap '' XFSZ`
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "kmor", *args], capture_output=True, text=True,
                          timeout=300, preexec_fn=cap if limit_bytes else None)


def only_run_dir(data: Path) -> Path:
    (run,) = [p for p in data.iterdir() if p.is_dir()]
    return run


@pytest.mark.parametrize("limit_kib", [133, 170, 215])
def test_a_file_size_limit_pauses_the_batch_and_leaves_every_file_whole(tmp_path, limit_kib):
    data = tmp_path / "data"
    out = kmor("run", str(DEMO), "--data-dir", str(data), limit_bytes=limit_kib * 1024)
    assert out.returncode == 75, (out.returncode, out.stderr[-2000:])  # paused, not 139 (SIGSEGV)
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr
    assert "kmor: paused: disk error:" in out.stderr and "File too large" in out.stderr
    run = only_run_dir(data)
    journal = [json.loads(line) for line in (run / "queue.journal").read_text().splitlines()]
    opened = [r["scan"] for r in journal if r["event"] == "scan_opened"]
    for name in opened:
        with h5py.File(run / name, "r") as f:   # plain h5py, no "truncated file"
            n = int(f.attrs["n_points"])
            assert all(ds.shape[0] >= n for ds in f["columns"].values())
        assert read_scan(run / name).n_points == n
    resumed = kmor("run", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    scans, damaged = read_scans(list_scans(run))
    assert damaged == []
    assert sum(s.status == "complete" for s in scans) == 6
    if limit_kib == 133:   # the case; analysing the others proves nothing more
        report = kmor("analyze", str(run), "--out", str(tmp_path / "report"))
        assert report.returncode == 0, report.stderr


def test_a_damaged_scan_is_reported_and_skipped_by_analyze(tmp_path):
    data = tmp_path / "data"
    assert kmor("run", str(DEMO), "--data-dir", str(data)).returncode == 0
    run = only_run_dir(data)
    victim = next(p for p in list_scans(run) if p.name.endswith("bscan.h5"))
    damaged_copy = tmp_path / "damaged.h5"
    shutil.copy(victim, damaged_copy)
    with open(victim, "r+b") as f:   # what a failed write used to leave: the end of the file missing
        f.truncate(victim.stat().st_size // 2)
    scans, damaged = read_scans(list_scans(run))
    assert [p for p, _ in damaged] == [victim] and len(scans) == 5
    out = kmor("analyze", str(run), "--out", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    (failed,) = summary["failed"]
    assert failed["file"].endswith(victim.name) and "damaged" in failed["reason"]
    assert "width" in (tmp_path / "report" / "report.md").read_text()  # the other B scan is fitted
