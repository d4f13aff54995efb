"""config/sim-keithley.toml is the simulated lab with its coils on 6221 current sources: its cell,
optics and noise ([sim.physics.*], [polarimeter]) must be sim.toml's, so a change to the physics is
made in sim.toml and this test says where the Keithley lab lags behind."""

from __future__ import annotations

import tomllib
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "src" / "kmor" / "data"


def test_the_keithley_lab_has_the_physics_of_the_simulated_lab():
    sim = tomllib.loads((DATA / "sim.toml").read_text())
    keithley = tomllib.loads((DATA / "sim-keithley.toml").read_text())
    assert keithley["sim"]["physics"] == sim["sim"]["physics"]
    assert keithley.get("polarimeter") == sim.get("polarimeter")
