"""`kmor sim describe`: the simulated lab's parameters and the physics they imply, as text."""

from __future__ import annotations

import numpy as np

from kmor.config.describe import format_value, iter_settings
from kmor.config.files import load_config
from kmor.sim.physics.breit_rabi import rf_transitions
from kmor.sim.physics.model import LabPhysics

RF_SCAN_BZ_UG = 1400.0
"""The rf scans' longitudinal field (uG; the default bz_uG of an rfscan step, as in the paper)."""


def describe_lab(config_path: str | None = None, bz_uG: float = RF_SCAN_BZ_UG) -> str:
    """Every simulation parameter (dotted key, value, units, meaning), the derived quantities, and
    the Zeeman neighbours of the 0-0 line at `bz_uG`."""
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
    return "\n".join(lines + ["", *zeeman_neighbours(bz_uG)])


def zeeman_neighbours(bz_uG: float) -> list[str]:
    """The F=1 -> F=2 rf lines at `bz_uG` (Breit-Rabi, exact for the ground state): the frequency of
    each from the 0-0 line (Hz) and its strength relative to the 0-0 line. An rf scan of the 0-0
    line must stay well inside the gap to the nearest neighbour."""
    lines = rf_transitions(bz_uG * 1e-6)
    zero = next(t for t in lines if t.m1 == 0 and t.m2 == 0)
    out = [f"Zeeman neighbours of the 0-0 line at Bz = {bz_uG:g} uG (F=1,m1 -> F=2,m2; Breit-Rabi):",
           f"  {'m1 -> m2':<10s} {'kind':<6s} {'from the 0-0 line':>20s} {'strength (0-0 = 1)':>20s}"]
    for t in lines:
        offset = t.offset_hz - zero.offset_hz
        out.append(f"  {t.m1:>2d} -> {t.m2:<4d} {t.kind:<6s} {offset:>17.1f} Hz {t.strength:>20.2f}")
    return out
