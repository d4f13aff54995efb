"""run.log records the safe state every run ends in, read back from the instruments: rf output
off and each coil at zero (field and drive), also when the batch pauses on a fault."""

from __future__ import annotations

import re

from rel_helpers import SMALL_BATCH, config_with

from kmor.config.files import load_config
from kmor.sequences.runner import run_batch


def safe_line(run_dir) -> str:
    """The last safe state the run reached (a paused run is made safe by the engine at the fault
    and again, as every run, when its lab session closes: both are logged)."""
    lines = [x for x in (run_dir / "run.log").read_text().splitlines() if "apparatus safe:" in x]
    assert 1 <= len(lines) <= 2, lines
    return lines[-1]


def check_zeroed(line: str) -> None:
    assert "rf output off (read back)" in line
    coils = re.findall(r"coil (\w+) (\S+) uG \((\S+) (mA|V) read back\)", line)
    assert {axis for axis, *_ in coils} >= {"bx", "by", "bz"}
    assert all(float(field) == 0.0 and float(drive) == 0.0 for _, field, drive, _ in coils)


def test_a_complete_run_logs_the_safe_state_read_back(tmp_path):
    batch = tmp_path / "b.toml"
    batch.write_text(SMALL_BATCH)
    result = run_batch(batch, load_config(), data_dir=tmp_path / "data")
    assert result.status == "complete"
    check_zeroed(safe_line(result.run_dir))


def test_a_paused_run_logs_the_safe_state_read_back(tmp_path):
    batch = tmp_path / "b.toml"
    batch.write_text(SMALL_BATCH)
    loaded = config_with(tmp_path, {"sim.faults.disk": {"enabled": True, "after_points": 5}})
    result = run_batch(batch, loaded, data_dir=tmp_path / "data")
    assert result.status == "paused"
    check_zeroed(safe_line(result.run_dir))
