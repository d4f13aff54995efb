"""One writer per run folder (real processes): a `--resume` while the run is still going, or two
resumes started together, are refused with a message naming the process that holds the folder,
before any instrument is connected; a SIGKILLed run never blocks its own resume; two batches may
share a data folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from rel_helpers import SMALL_BATCH

from kmor.storage.run_lock import LOCK_FILE

CHILD = Path(__file__).parents[1] / "sequences" / "batch_child.py"


def kmor(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kmor", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def sessions(run: Path) -> int:
    lines = (run / "queue.journal").read_text().splitlines()
    return sum(json.loads(line)["event"] == "session" for line in lines)


def test_a_second_writer_is_refused_and_a_killed_one_never_blocks_resume(tmp_path):
    batch = tmp_path / "batch.toml"
    batch.write_text(SMALL_BATCH)
    child = subprocess.Popen([sys.executable, str(CHILD), str(batch), str(tmp_path / "data"), "1:3"],
                             stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in child.stdout:   # the child holds still (the run folder locked) at point 3 of scan 1
        if line.split()[-1] == "3":
            scan = Path(line.split()[1])
            break
    run = scan.parent
    before = (run / "queue.journal").read_text()

    second = kmor("run", "--resume", str(run))
    out, err = second.communicate(timeout=120)
    assert second.returncode == 1, err
    assert "another kmor process is writing this run folder" in err
    assert f"pid {child.pid} on {socket.gethostname()}" in err and "batch_child.py" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (run / "queue.journal").read_text() == before   # nothing recorded, nothing connected

    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    child.stdin.close()

    # two resumes at once: one takes the folder, the other is refused (or, if it starts after the
    # first has finished, finds nothing to do); never two sessions
    racers = [kmor("run", "--resume", str(run)) for _ in range(2)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in racers]
    assert sorted(code for code, _ in results)[0] == 0, results
    for code, err in results:
        assert code == 0 or "another kmor process is writing this run folder" in err, err
    assert sessions(run) == 2   # the killed one and the single resume
    assert (run / LOCK_FILE).exists()


def test_two_batches_may_share_a_data_folder(tmp_path):
    batch = tmp_path / "batch.toml"
    batch.write_text(SMALL_BATCH)
    runs = [kmor("run", str(batch), "--data-dir", str(tmp_path / "data")) for _ in range(2)]
    for p in runs:
        assert p.wait(timeout=300) == 0, p.communicate()[1]
        p.communicate()
    assert len([d for d in (tmp_path / "data").iterdir() if d.is_dir()]) == 2
