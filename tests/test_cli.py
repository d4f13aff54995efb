"""The `kmor` command: help, version, and user mistakes as one clear line without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import kmor


def kmor_cmd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmor", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_help_lists_commands():
    out = kmor_cmd("--help")
    assert out.returncode == 0
    for command in ("config", "sim"):
        assert command in out.stdout


def test_version():
    out = kmor_cmd("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"kmor {kmor.__version__}"


def test_config_error_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[lab]\nsimulated = "yes"\n')
    out = kmor_cmd("config", str(bad))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"kmor: error: {bad}: lab.simulated: expected true or false, got a string ('yes')")


def test_missing_config_file(tmp_path):
    out = kmor_cmd("sim", "describe", "--config", str(tmp_path / "nope.toml"))
    assert out.returncode == 2 and "nope.toml: file not found" in out.stderr and "Traceback" not in out.stderr


def test_sim_describe_shows_the_model():
    out = kmor_cmd("sim", "describe")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "sim.physics.nmor.intrinsic_width_uG" in text
    assert "Larmor" in text and "0.70" in text
    assert "cm^-3" in text
