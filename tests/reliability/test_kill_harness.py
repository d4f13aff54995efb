"""Crash harness: a real batch process killed with SIGKILL at seeded random moments, again and
again, each time resumed with `--resume` (run_batch(None, resume_dir=...)), until it finishes.

After every kill: every file in the run folder opens with plain h5py and holds every point the
process had acknowledged (the engine publishes a point only after it is on disk). At the end:
the complete scans are the same as those of an uninterrupted run. The batch process is forked
from the test process (same code, already imported) so 50+ kills cost seconds, not minutes;
KMOR_KILLS=1000 runs the same harness as a longer soak."""

from __future__ import annotations

import os
import random
import signal
import sys
import traceback
from pathlib import Path

import h5py
from rel_helpers import SMALL_BATCH, complete_scans

from kmor.config.files import load_config
from kmor.sequences import events as ev
from kmor.sequences.runner import run_batch

MIN_KILLS = int(os.environ.get("KMOR_KILLS", "50"))   # KMOR_KILLS=1000 for a soak
SEED = 20240607
EVENTS = (ev.STEP_STARTED, ev.SCAN_STARTED, ev.POINT)


def spawn(batch: Path | None, data_dir: Path, resume_dir: Path | None) -> tuple[int, object]:
    """Fork a process running the batch (or resuming it); it writes one line per event."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # the batch process
        os.close(r)
        code = 0
        try:
            def announce(e):
                if e.kind in EVENTS:
                    os.write(w, f"{e.kind} {Path(e.scan).name if e.scan else '-'} {e.index}\n".encode())
            result = run_batch(batch, load_config(), data_dir=data_dir, resume_dir=resume_dir,
                               subscribers=[announce])
            os.write(w, f"done {result.status}\n".encode())
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    return pid, os.fdopen(r)


def run_and_kill(batch, data_dir, resume_dir, kill_after: int) -> tuple[bool, list[tuple[str, int]], str]:
    """Run until the `kill_after`-th event, SIGKILL; returns (killed, acknowledged points, end line)."""
    pid, out = spawn(batch, data_dir, resume_dir)
    acked, seen, killed, end = [], 0, False, ""
    for line in out:
        kind, *rest = line.split()
        if kind == "done":
            end = line.strip()
            continue
        if kind == ev.POINT:
            acked.append((rest[0], int(rest[1])))
        seen += 1
        if seen == kill_after and not killed:
            os.kill(pid, signal.SIGKILL)
            killed = True       # keep reading: lines written before the kill are acknowledged too
    out.close()
    _, status = os.waitpid(pid, 0)
    if killed and os.WIFSIGNALED(status):
        return True, acked, end
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"batch process failed ({status})"
    return False, acked, end


def check_files(run_dir: Path, acked: list[tuple[str, int]]) -> int:
    """Every file opens with plain h5py and holds every acknowledged point; returns files checked."""
    n_files = 0
    for path in sorted(run_dir.glob("*.h5")):
        with h5py.File(path, "r") as f:
            n_points = int(f.attrs["n_points"])
            for name, column in f["points"].items() if "points" in f else []:
                assert column.shape[0] >= n_points, f"{path.name}:{name} shorter than n_points"
        needed = [i for scan, i in acked if scan == path.name]
        assert n_points >= (max(needed) + 1 if needed else 0), f"{path.name}: lost acknowledged points"
        n_files += 1
    return n_files


def test_fifty_sigkills_lose_nothing_and_resume_gives_the_same_scans(tmp_path):
    if not hasattr(os, "fork"):
        import pytest
        pytest.skip("needs fork")
    sys.stdout.flush()
    sys.stderr.flush()
    batch = tmp_path / "batch.toml"
    batch.write_text(SMALL_BATCH)
    counted = []
    reference = run_batch(batch, load_config(), data_dir=tmp_path / "reference",
                          subscribers=[lambda e: counted.append(1) if e.kind in EVENTS else None])
    expected = complete_scans(reference.run_dir)
    n_events = len(counted)
    rng = random.Random(SEED)
    kills = files_checked = chains = 0
    while kills < MIN_KILLS:
        chains += 1
        data_dir = tmp_path / f"chain{chains:03d}"
        run_dir = None
        while True:
            kill_after = rng.randint(1, n_events)
            killed, acked, end = run_and_kill(None if run_dir else batch, data_dir, run_dir, kill_after)
            if run_dir is None:
                (run_dir,) = data_dir.iterdir()
            if not killed:
                assert end == "done complete"
                break
            kills += 1
            files_checked += check_files(run_dir, acked)
        assert complete_scans(run_dir) == expected, f"chain {chains}"
    print(f"\nkill harness: {kills} SIGKILLs in {chains} batches, {files_checked} files checked after kills, "
          f"every batch resumed to the same {len(expected)} complete scans")
    assert kills >= MIN_KILLS
