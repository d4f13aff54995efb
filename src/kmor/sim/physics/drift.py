"""Slow drifts of the simulated apparatus on the lab's clock: the shield's residual field, the light
power, the reference-cell temperature (which moves the 2f lock point) and the polarimeter's 1f offset.

Each is an Ornstein-Uhlenbeck process: a random walk of diffusion rms sqrt(2/tau) per sqrt(s) over
times short against its correlation time tau, bounded at the stationary rms over longer ones (a
regulated or shielded quantity wanders, it does not run away). It is one seeded path on a grid of
`hold_s` steps (exact OU steps, drawn in chunks as far as the path is read), held between grid
points: the drifts are minutes long, and not drawing a number for each of the lock servo's steps
keeps the simulation cheap.

The path is read at path time = lab time - origin. In a batch each job starts reading it at the
job's planned start (the sum of the estimates of the jobs before it, `start_path_at`, decision
0104), so a resumed job meets the same drifts as in the uninterrupted run, and from one job to the
next the drifts carry on as a real apparatus's do (the estimates are within 5 % of the run).
"""

from __future__ import annotations

import math
import threading

import numpy as np
from scipy.signal import lfilter

from kmor.sim.clock import SAME_INSTANT_S

CHUNK_STEPS = 4096
"""Grid steps drawn at a time (always whole chunks, so the path does not depend on how it is read)."""


class OUDrift:
    """One drifting quantity: zero mean, stationary rms `rms`, correlation time `correlation_s`."""

    def __init__(self, rms: float, correlation_s: float, rng: np.random.Generator, *,
                 hold_s: float = 1.0) -> None:
        """The path starts at a draw from the stationary distribution (the drift was going on before
        the lab was switched on), read from lab time 0 until `start_path_at` moves the origin."""
        if rms < 0 or not correlation_s > 0 or not hold_s > 0:
            raise ValueError(f"drift needs rms >= 0, correlation time > 0 and hold > 0, got {rms}, "
                             f"{correlation_s}, {hold_s}")
        self.rms = float(rms)
        self.correlation_s = float(correlation_s)
        self.hold_s = float(hold_s)
        self._rng = rng
        self._origin_s = 0.0
        self._path = np.array([self.rms * float(rng.standard_normal()) if self.rms > 0 else 0.0])
        self._lock = threading.Lock()

    def start_path_at(self, now_s: float, path_s: float) -> None:
        """From lab time `now_s` (s) on, read the path at `path_s` + (t - now_s)."""
        self._origin_s = float(now_s) - float(path_s)

    def value(self, t_s: float) -> float:
        """The drift at lab time `t_s` (s)."""
        if self.rms == 0.0:
            return 0.0
        step = max(0, math.floor((t_s - self._origin_s + SAME_INSTANT_S) / self.hold_s))
        with self._lock:
            if step >= self._path.size:
                self._extend(step)
            return float(self._path[step])

    def _extend(self, step: int) -> None:
        """Draw whole chunks of exact OU steps until the path reaches grid point `step`."""
        keep = math.exp(-self.hold_s / self.correlation_s)
        fresh = self.rms * math.sqrt(1.0 - keep * keep)
        n = CHUNK_STEPS * math.ceil((step + 1 - self._path.size) / CHUNK_STEPS)
        kicks = self._rng.standard_normal(n)
        more, _ = lfilter([fresh], [1.0, -keep], kicks, zi=[keep * self._path[-1]])
        self._path = np.concatenate([self._path, more])

    def diffusion_per_rtS(self) -> float:
        """Short-time random-walk rate, rms change per sqrt(second): rms sqrt(2 / tau)."""
        return self.rms * math.sqrt(2.0 / self.correlation_s)
