"""`kmor run --resume` continues with the lab config the run started with (recorded in the run
folder), refuses a different --config unless told --config-change-ok, and the printed resume
command, followed verbatim, does exactly that."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from rel_helpers import SMALL_BATCH

from kmor.config.files import default_config_bytes
from kmor.storage import list_scans, read_scan


def kmor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmor", *args], capture_output=True, text=True, timeout=300)


def sessions(run: Path) -> int:
    return sum(json.loads(x)["event"] == "session" for x in (run / "queue.journal").read_text().splitlines())


def test_resume_uses_the_recorded_config_and_refuses_another(tmp_path):
    batch = tmp_path / "batch.toml"
    batch.write_text(SMALL_BATCH)
    lab = tmp_path / "bench lab.toml"   # a space: the printed command must quote it
    lab.write_text(default_config_bytes().decode()
                   .replace('name = "simulated potassium lab"', 'name = "bench lab 7"', 1)
                   .replace("[sim.faults.disk]\nenabled = false\nafter_points = 100",
                            "[sim.faults.disk]\nenabled = true\nafter_points = 25", 1))
    first = kmor("run", str(batch), "--config", str(lab), "--data-dir", str(tmp_path / "data"))
    assert first.returncode == 75, first.stderr
    command = re.search(r"continue with: (.*)", first.stderr).group(1)
    argv = shlex.split(command)
    assert argv[:3] == ["kmor", "run", "--resume"] and "--config" not in argv
    run = Path(argv[3])

    other = kmor("run", "--resume", str(run), "--config", str(Path(__file__).parents[2] / "config" / "sim.toml"))
    assert other.returncode == 2, other.stderr
    assert "differs from the lab config this run started with" in other.stderr
    assert "--config-change-ok" in other.stderr and other.stderr.count("\n") == 1
    assert sessions(run) == 1   # refused before anything ran

    scans_before = set(list_scans(run))
    again = subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=300)
    assert again.returncode == 75, again.stderr   # the recorded (faulty-disk) lab again
    new = set(list_scans(run)) - scans_before
    assert new and all('name = "bench lab 7"' in read_scan(p).config_text for p in new)

    changed = kmor("run", "--resume", str(run), "--config", str(Path(__file__).parents[2] / "config" / "sim.toml"),
                   "--config-change-ok")
    assert changed.returncode == 0, changed.stderr
