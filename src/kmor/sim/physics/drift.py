"""Slow drifts of the simulated apparatus on the lab's clock: the shield's residual field, the light
power, the reference-cell temperature (which moves the 2f lock point) and the polarimeter's 1f offset.

Each is an Ornstein-Uhlenbeck process: a random walk of diffusion rms sqrt(2/tau) per sqrt(s) over
times short against its correlation time tau, bounded at the stationary rms over longer ones (a
regulated or shielded quantity wanders, it does not run away). It is advanced lazily, like the
laser's random walk: a query at a later time draws one exact OU step from the process's own seeded
Generator, so the same seed and the same query times give the same run. Steps shorter than
`hold_s` return the held value: the drifts are minutes long, and not drawing a number for each of
the lock servo's 10 ms steps keeps the simulation cheap.

In a batch the lab re-makes every drift at the start of each job (`LabPhysics.reseed`): a fresh
draw from the stationary distribution out of the job's own stream, anchored at that lab time, so
a job's drifts depend only on the seed and the job (decision 0104).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from kmor.sim.clock import SAME_INSTANT_S


class OUDrift:
    """One drifting quantity: zero mean, stationary rms `rms`, correlation time `correlation_s`."""

    def __init__(self, rms: float, correlation_s: float, rng: np.random.Generator, *,
                 hold_s: float = 1.0, start_s: float = 0.0) -> None:
        """The process starts at lab time `start_s` (s) at a draw from its stationary distribution
        (the drift was going on before the lab was switched on, or before the job began)."""
        if rms < 0 or not correlation_s > 0:
            raise ValueError(f"drift needs rms >= 0 and correlation time > 0, got {rms}, {correlation_s}")
        self.rms = float(rms)
        self.correlation_s = float(correlation_s)
        self.hold_s = float(hold_s)
        self._rng = rng
        self._t_last_s = float(start_s)
        self._value = self.rms * float(rng.standard_normal()) if self.rms > 0 else 0.0
        self._lock = threading.Lock()

    def value(self, t_s: float) -> float:
        """The drift at lab time `t_s` (queries earlier than the last one return the last value)."""
        if self.rms == 0.0:
            return 0.0
        with self._lock:
            dt = t_s - self._t_last_s
            if dt >= self.hold_s - SAME_INSTANT_S:
                keep = math.exp(-dt / self.correlation_s)
                fresh = self.rms * math.sqrt(max(0.0, 1.0 - keep * keep))
                self._value = keep * self._value + fresh * float(self._rng.standard_normal())
                self._t_last_s = t_s
            return self._value

    def diffusion_per_rtS(self) -> float:
        """Short-time random-walk rate, rms change per sqrt(second): rms sqrt(2 / tau)."""
        return self.rms * math.sqrt(2.0 / self.correlation_s)
