"""A batch killed with SIGKILL and resumed ends with the same set of complete scans as an
uninterrupted one: none lost, none repeated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from kmor.config.files import load_config
from kmor.sequences.queue import QueueState
from kmor.sequences.runner import run_batch
from kmor.storage import list_scans, read_scan
from small_batch import small_batch

HERE = Path(__file__).resolve().parent
BATCH = small_batch("resume-test", ("bscan_series", {
    "light_powers_uW": [3.0, 6.0, 9.0], "field_range_uG": 20.0, "step_uG": 1.0, "averages": 1, "time_constant_s": 0.01,
    "sensitivity_V": 1e-4}), ("rfscan", {"light_power_uW": 5.0, "span_hz": 10.0, "repeats": 2, "transmission_samples": 2}))


def complete_scans(run_dir):
    """(kind, light power, rf power) of every complete scan in the folder, sorted."""
    found = []
    for path in list_scans(run_dir):
        scan = read_scan(path)
        if scan.status == "complete":
            p = scan.parameters
            found.append((scan.kind, p.get("light_power_uW"), p.get("rf_power_dBm")))
    return sorted(found, key=repr)


def test_sigkill_mid_batch_then_resume_gives_the_same_scans(tmp_path):
    batch = tmp_path / "batch.toml"
    batch.write_text(BATCH)
    reference = run_batch(batch, load_config(), data_dir=tmp_path / "reference")
    assert reference.status == "complete"
    expected = complete_scans(reference.run_dir)
    assert len(expected) == 4

    # the child holds still after acknowledging point 40 of its second scan (a B scan)
    child = subprocess.Popen([sys.executable, str(HERE / "batch_child.py"), str(batch),
                              str(tmp_path / "killed"), "2:40"], stdout=subprocess.PIPE,
                             stdin=subprocess.PIPE, text=True, cwd=tmp_path,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    scans_seen = []
    for line in child.stdout:
        _, scan, index = line.split()
        if scan not in scans_seen:
            scans_seen.append(scan)
        if len(scans_seen) == 2 and int(index) == 40:   # second B scan, half way
            child.send_signal(signal.SIGKILL)
            break
    child.stdin.close()
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    (run_dir,) = (tmp_path / "killed").iterdir()
    queue = QueueState.load(run_dir)
    assert [j["status"] for j in queue.jobs][:4] == ["done", "done", "done", "running"]
    interrupted = read_scan(run_dir / Path(scans_seen[1]).name)
    assert interrupted.status == "interrupted" and interrupted.n_points == 41

    resumed = run_batch(None, load_config(), resume_dir=run_dir)
    assert resumed.status == "complete"
    assert complete_scans(run_dir) == expected
    assert len(resumed.scans) == 4 and Path(scans_seen[1]).name not in resumed.scans
    state = QueueState.load(run_dir).data
    assert state["superseded_scans"] == [Path(scans_seen[1]).name]
    assert [s["resumed"] for s in state["sessions"]] == [False, True]
    assert "resume" in (run_dir / "run.log").read_text()


def test_a_scan_completed_just_before_the_kill_is_not_taken_again(tmp_path):
    batch = tmp_path / "batch.toml"
    batch.write_text(BATCH)
    done = run_batch(batch, load_config(), data_dir=tmp_path / "data")
    journal = done.run_dir / "queue.journal"
    lines = journal.read_text().splitlines()
    # as if killed between closing the last scan and writing "job done" (and half a line after)
    done_line = max(i for i, line in enumerate(lines) if '"job_done"' in line)
    journal.write_text("\n".join(lines[:done_line]) + '\n{"event": "job_do')
    n_files = len(list_scans(done.run_dir))
    resumed = run_batch(None, load_config(), resume_dir=done.run_dir)
    assert resumed.status == "complete"
    assert len(list_scans(done.run_dir)) == n_files
    state = QueueState.load(done.run_dir)
    assert state.jobs[-1]["status"] == "done" and state.jobs[-1]["result"]["repeats"] == 2
