"""The heated, uncoated reference cell of the laser lock: Doppler-broadened 39K + 41K transmission and
the harmonics of the photodiode signal under the laser's frequency modulation.

The lock holds S_2 / S_0 (second harmonic over DC, which cancels laser power changes) at a set level on
the flank of the line. With the default 1 mm path at 100 C (peak D1 OD 0.45) and A = 400 MHz the
normalised 2f signal crosses zero about 550 MHz either side of the line and is monotonic from about
-860 to -50 MHz, with a slope of ~1.5e-4 per MHz at -250 MHz, where the rotation is largest.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from kmor.sim.physics import fm, vapor
from kmor.sim.physics.constants import LINES


def transmission(detuning_MHz: np.ndarray | float, line_name: str, temperature_C: float,
                 density_cm3: float, length_cm: float) -> np.ndarray:
    """Weak-probe transmission exp(-OD) at a detuning from the line's 39K centre of gravity."""
    line = LINES[line_name]
    return np.exp(-vapor.optical_depth(detuning_MHz, line, temperature_C, density_cm3, length_cm))


def harmonic_signal(detuning_MHz: np.ndarray | float, n: int, line_name: str, temperature_C: float,
                    density_cm3: float, length_cm: float, modulation_amplitude_MHz: float,
                    n_nodes: int = 64) -> np.ndarray:
    """S_n of the transmission under FM (Gauss-Chebyshev, N nodes); n = 0 gives twice the DC level."""
    def t(d: np.ndarray) -> np.ndarray:
        return transmission(d, line_name, temperature_C, density_cm3, length_cm)
    return fm.harmonic(t, detuning_MHz, modulation_amplitude_MHz, n, n_nodes)


@lru_cache(maxsize=16)
def tables(line_name: str, temperature_C: float, density_cm3: float, length_cm: float,
           modulation_amplitude_MHz: float) -> tuple[fm.Table, fm.Table]:
    """(DC transmission, S_2) tabulated on the detuning grid; cached because they depend only on
    the configuration."""
    def t(d: np.ndarray) -> np.ndarray:
        return transmission(d, line_name, temperature_C, density_cm3, length_cm)
    s0, s2 = fm.harmonics_on_grid(t, modulation_amplitude_MHz, (0, 2))
    return fm.Table(0.5 * s0), fm.Table(s2)
