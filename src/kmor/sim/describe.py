"""`kmor sim describe`: the simulated lab's parameters and the physics they imply, as text."""

from __future__ import annotations

import numpy as np

from kmor.config.describe import format_value, iter_settings
from kmor.config.files import load_config
from kmor.sim.physics.model import LabPhysics


def describe_lab(config_path: str | None = None) -> str:
    """Every simulation parameter (dotted key, value, units, meaning) and the derived quantities."""
    loaded = load_config(config_path)
    sim = loaded.config.sim
    lines = [f"Simulated potassium lab from {loaded.source}", "", "Parameters:"]
    for s in iter_settings(sim, "sim"):
        units = f" {s.units}" if s.units else ""
        lines.append(f"  {s.key} = {format_value(s.value)}{units}    # {s.doc}")
    lines += ["", "Derived physics:"]
    physics = LabPhysics(sim.physics, np.random.default_rng(sim.seed),
                         polarimeter_V_per_rad=loaded.config.polarimeter.calibration_V_per_rad)
    for name, value, units in physics.describe():
        lines.append(f"  {name:<58s} {value:>14.6g} {units}")
    return "\n".join(lines)
