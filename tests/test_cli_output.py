"""How `kmor` ends: the exit-status table (in --help, in the docs, and true), output into a closed
pipe, a second Ctrl-C, a missing run folder, `kmor gui` without a display."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmor.cli_output import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_INTERRUPTED,
    EXIT_USER_ERROR,
)

REPO = Path(__file__).resolve().parents[1]
KMOR = [sys.executable, "-m", "kmor"]


def kmor_cmd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*KMOR, *args], capture_output=True, text=True, timeout=120, env=env, check=False)


def test_help_ends_with_every_exit_status():
    out = kmor_cmd("--help")
    assert out.returncode == 0
    epilog = out.stdout.split("exit status:")[1]
    for code, _ in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+\w", epilog, re.MULTILINE), code


def test_docs_list_the_same_exit_statuses():
    doc = (REPO / "docs" / "getting-started.md").read_text()
    table = doc.split("## Exit status")[1]
    codes = [int(c) for c in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)]
    assert codes == [code for code, _ in EXIT_CODES]


@pytest.mark.parametrize("args", [("config",), ("config", "config/lab.example.toml"), ("sim", "describe"),
                                  ("check", "config/sequences/paper.toml")])
def test_output_into_a_pipe_closed_early_ends_quietly(args):
    """`kmor config | head -2`: the reader went away before kmor wrote; no traceback."""
    proc = subprocess.Popen([*KMOR, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()   # closed before kmor has imported itself, so every write meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE, err
    assert err == ""


def test_help_into_a_closed_pipe_ends_quietly():
    """argparse swallows the write error of --help itself (status 0); still no traceback."""
    proc = subprocess.Popen([*KMOR, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    assert proc.stderr.read().decode() == ""
    assert proc.wait(timeout=120) in (0, EXIT_BROKEN_PIPE)


def test_resume_of_a_missing_folder_is_a_user_mistake(tmp_path):
    out = kmor_cmd("run", "--resume", str(tmp_path / "nope"))
    assert out.returncode == EXIT_USER_ERROR
    assert out.stderr.strip() == f"kmor: error: {tmp_path / 'nope'}: no such run folder " \
                                 "(give the folder `kmor run` printed, e.g. data/20260101-120000-paper)"
    out = kmor_cmd("run", "--resume", str(tmp_path))
    assert out.returncode == EXIT_USER_ERROR and "not a kmor run folder (it has no queue.json)" in out.stderr


def test_gui_without_a_display_says_so_and_exits_2():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = kmor_cmd("gui", env=env)
    assert out.returncode == EXIT_USER_ERROR, out.stderr
    assert out.stderr.startswith("kmor gui: error: no display (DISPLAY and WAYLAND_DISPLAY are unset")
    assert "QT_QPA_PLATFORM=offscreen" in out.stderr and "Aborted" not in out.stderr


def test_a_second_ctrl_c_still_prints_the_resume_command(tmp_path):
    """The first Ctrl-C asks for a stop after the point; the second stops at once -- and the user
    still learns how to go on."""
    from kmor.config.files import default_config_bytes

    config = tmp_path / "lab.toml"   # real time, so the run is still inside a point for the second one
    config.write_text(default_config_bytes().decode().replace("speed = 0.0", "speed = 1.0", 1))
    proc = subprocess.Popen([*KMOR, "run", str(REPO / "config" / "sequences" / "demo.toml"), "--config",
                             str(config), "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    deadline = time.monotonic() + 60
    while "step 2/" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    assert "step 2/" in seen, seen
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    run_dir = next((tmp_path / "data").iterdir())
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "kmor: interrupted" in err
    assert f"kmor run --resume {run_dir}" in err
    assert "Traceback" not in err


def test_a_pause_is_said_once_with_the_resume_command(tmp_path):
    """A full disk mid-batch: the fault appears once (not in the progress, the result line and the
    pause line), then the resume command; exit 75."""
    from kmor.config.files import default_config_bytes

    config = tmp_path / "lab.toml"
    config.write_text(default_config_bytes().decode().replace(
        "[sim.faults.disk]\nenabled = false", "[sim.faults.disk]\nenabled = true", 1))
    out = kmor_cmd("run", str(REPO / "config" / "sequences" / "demo.toml"), "--config", str(config),
                   "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 75, out.stderr
    both = out.stdout + out.stderr
    assert both.count("No space left on device") == 1, both
    run_dir = next((tmp_path / "data").iterdir())
    assert out.stderr.rstrip().endswith(f"kmor: the apparatus is safe; continue with: kmor run --resume {run_dir}")
