"""The diode laser's optical frequency: which line it sits on, tuning by piezo, control voltage and
diode current, slow drift (random walk plus linear) and sudden mode hops; and its output power factor.

The coarse wavelength (the TLB-6300's motor) only chooses the line: within `line_capture_nm` of D1 or
D2 the laser lands on the same external-cavity mode every time (offset `initial_offset_MHz`), because
the motor's absolute accuracy (~0.01 nm = 5 GHz) is far coarser than anything the lock cares about.
Fine tuning is the piezo, the frequency-control input and the current. Drift is advanced lazily:
each query at a later time adds a Gaussian step of rms D sqrt(dt) drawn from the Generator, so
results are reproducible for a given seed and sequence of query times.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from kmor.sim.clock import SAME_INSTANT_S

from kmor.sim.physics.constants import C_M_PER_S, LINES
from kmor.sim.physics.params import LaserParams


class Laser:
    """Frequency and power state of the laser (detunings in MHz from a line's 39K centre of gravity)."""

    def __init__(self, params: LaserParams, rng: np.random.Generator) -> None:
        self.params = params
        self._rng = rng
        self._t_last_s = 0.0
        self._walk_MHz = 0.0
        self._hops_MHz = 0.0
        self._lock = threading.Lock()     # emulators may query from several threads

    @property
    def last_query_s(self) -> float:
        """Latest time (s) at which the drift was advanced."""
        return self._t_last_s

    def line_of(self, wavelength_nm: float) -> str | None:
        """'D1' or 'D2' when the set wavelength is within the capture range of that line, else None."""
        for name, line in LINES.items():
            if abs(wavelength_nm - line.wavelength_nm) <= self.params.line_capture_nm:
                return name
        return None

    def drift_MHz(self, t_s: float) -> float:
        """Drift at time t_s: random walk (advanced from the last query) plus the linear term.

        A query earlier than the last one does not rewind the walk (the lab's clock only advances).
        """
        with self._lock:
            dt = t_s - self._t_last_s
            if dt > SAME_INSTANT_S:
                step = self.params.drift_random_walk_MHz_per_rtS * math.sqrt(dt)
                if step > 0.0:
                    self._walk_MHz += step * float(self._rng.standard_normal())
                self._t_last_s = t_s
            walk = self._walk_MHz
        return walk + self.params.drift_linear_MHz_per_h * t_s / 3600.0

    def reseed(self, rng: np.random.Generator, now_s: float) -> None:
        """From lab time `now_s` on, draw the random walk's steps from `rng`. The walk is first
        advanced to `now_s` from the old stream, so the frequency does not jump (a locked laser
        stays locked); only the increments after `now_s` come from `rng`, each over the time
        since `now_s` or a later query, whatever was queried before."""
        self.drift_MHz(now_s)
        with self._lock:
            self._rng = rng
            self._t_last_s = max(self._t_last_s, now_s)

    def mode_hop(self, jump_MHz: float) -> None:
        """Sudden, permanent frequency jump (a mode hop), for fault tests."""
        with self._lock:
            self._hops_MHz += jump_MHz

    def tuning_MHz(self, piezo_pct: float, control_V: float, current_mA: float) -> float:
        """Static tuning (MHz) from piezo, control input and current, relative to the initial offset."""
        p = self.params
        return (p.piezo_MHz_per_pct * (piezo_pct - p.piezo_center_pct) + p.control_MHz_per_V * control_V
                + p.current_MHz_per_mA * (current_mA - p.nominal_current_mA))

    def detuning_MHz(self, t_s: float, wavelength_nm: float, piezo_pct: float, control_V: float,
                     current_mA: float) -> tuple[str | None, float]:
        """(line, detuning MHz). Off every line the detuning is from the nearest line via c/lambda."""
        line = self.line_of(wavelength_nm)
        fine = self.params.initial_offset_MHz + self.tuning_MHz(piezo_pct, control_V, current_mA)
        fine += self.drift_MHz(t_s) + self._hops_MHz
        if line is not None:
            return line, fine
        freq_MHz = C_M_PER_S / (wavelength_nm * 1e-9) * 1e-6
        nearest = min(LINES.values(), key=lambda ln: abs(ln.freq_MHz - freq_MHz))
        return None, freq_MHz - nearest.freq_MHz + fine

    def power_factor(self, current_mA: float) -> float:
        """Output power relative to nominal: linear above threshold, zero below."""
        p = self.params
        span = p.nominal_current_mA - p.threshold_current_mA
        if span <= 0.0:
            return 1.0 if current_mA >= p.nominal_current_mA else 0.0
        return max(0.0, (current_mA - p.threshold_current_mA) / span)
