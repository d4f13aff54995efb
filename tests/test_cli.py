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
    for command in ("run", "check", "analyze", "gui", "config", "sim"):
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


REPO = Path(__file__).resolve().parents[1]


def test_check_prints_duration_without_hardware():
    out = kmor_cmd("check", str(REPO / "config" / "sequences" / "paper.toml"))
    assert out.returncode == 0, out.stderr
    assert "valid batch 'paper'" in out.stdout and "estimated duration" in out.stdout


def test_check_names_file_and_key_of_a_limit_violation(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((REPO / "config" / "sequences" / "demo.toml").read_text().replace(
        "light_power_uW = 10.0", "light_power_uW = 500.0", 1))
    out = kmor_cmd("check", str(bad))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert str(bad) in out.stderr and "steps[1].light_power_uW" in out.stderr


def test_run_needs_a_sequence_or_resume():
    out = kmor_cmd("run")
    assert out.returncode == 2 and "--resume" in out.stderr and "Traceback" not in out.stderr


def test_run_then_analyze_the_demo(tmp_path):
    out = kmor_cmd("run", str(REPO / "config" / "sequences" / "demo.toml"), "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0, out.stderr
    run_dir = next((tmp_path / "data").iterdir())
    assert sorted(p.suffix for p in run_dir.iterdir() if p.suffix == ".h5")
    assert (run_dir / "run.log").exists()
    report = kmor_cmd("analyze", str(run_dir), "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "summary.json").exists() and "report:" in report.stdout


def test_a_persistent_fault_pauses_the_run_with_the_resume_command(tmp_path):
    """A disk that fills up mid-batch: exit 75, the fault and the resume command named, no traceback."""
    from kmor.config.files import default_config_bytes

    config = tmp_path / "lab.toml"
    config.write_text(default_config_bytes().decode().replace(
        "[sim.faults.disk]\nenabled = false", "[sim.faults.disk]\nenabled = true", 1))
    out = kmor_cmd("run", str(REPO / "config" / "sequences" / "demo.toml"), "--config", str(config),
                   "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 75, out.stderr
    assert "kmor: paused:" in out.stderr and "kmor run --resume" in out.stderr
    assert "Traceback" not in out.stderr
