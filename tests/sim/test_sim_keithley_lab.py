"""config/sim-keithley.toml: every coil on a simulated Keithley 6221, packaged like sim.toml, and
kmor's own demo batch runs on it."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

from kmor.config.files import load_config
from kmor.config.model import COIL_AXES
from kmor.sim.lab import SimLab, emulators_by_name

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "sim-keithley.toml"


def test_the_repo_file_is_the_packaged_one():
    packaged = resources.files("kmor").joinpath("data/sim-keithley.toml").read_bytes()
    assert CONFIG.read_bytes() == packaged


def test_every_coil_is_a_served_6221_that_sets_its_field():
    lab = SimLab(load_config(CONFIG).config)
    served = emulators_by_name(lab)
    for axis in COIL_AXES:
        coil = getattr(lab.config.coils, axis)
        assert coil.drive == "current_source"
        source = served[axis]
        assert source is lab.current_sources[axis]
        source.handle(b"SOUR:CURR 2E-3;:OUTP ON")
        assert lab.coil_fields_uG()[axis] == 2.0 * coil.calibration_uG_per_mA


def test_kmors_demo_batch_completes_on_the_keithley_lab(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "kmor", "run", str(REPO / "config" / "sequences" / "demo.toml"),
                           "--config", str(CONFIG), "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    run_dir = next((tmp_path / "data").iterdir())
    assert len(list(run_dir.glob("*.h5"))) == 6
    assert "Traceback" not in done.stderr
