"""`kmor check` warns in plain words about a sequence that will run but record nothing useful."""

from __future__ import annotations

import subprocess
import sys

from kmor.config.files import load_config
from kmor.sequences.batch import parse_batch_text

BSCAN = """
[[steps]]
kind = "bscan_series"
light_powers_uW = [3.0]
field_range_uG = 60.0
step_uG = 1.0
"""


def test_a_scan_without_a_laser_step_says_the_light_will_be_off(tmp_path):
    path = tmp_path / "dark.toml"
    path.write_text('[batch]\nname = "dark"\n' + BSCAN)
    out = subprocess.run([sys.executable, "-m", "kmor", "check", str(path)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    warning = next(line for line in out.stdout.splitlines() if line.startswith("warning:"))
    assert "steps[0] (bscan_series) comes before any laser step" in warning
    assert "the light will be off" in warning and "no signal" in warning


def test_a_laser_step_first_leaves_only_the_lock_warning():
    text = '[batch]\nname = "lit"\n[[steps]]\nkind = "laser"\n' + BSCAN
    batch = parse_batch_text(text, "lit.toml", load_config().config)
    assert batch.warnings == ["steps[1] (bscan_series) runs with the laser unlocked (no lock step before it)"]
