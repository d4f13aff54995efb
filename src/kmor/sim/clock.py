"""The simulated laboratory's own clock.

At full speed (`speed=None`) a `sleep` only advances the clock and returns at once, so hours of lab
time run in seconds; at `speed=1` a sleep waits for real (the GUI demo), and other speeds scale the
real wait. Every time-dependent quantity in the simulation (laser drift, lock-in filtering, noise
averaging) reads `now_s()` from here, never the wall clock.
"""

from __future__ import annotations

import threading
import time


class SimClock:
    """Seconds of simulated lab time since the lab was built."""

    def __init__(self, speed: float | None = None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"clock speed must be positive or None (full speed), got {speed!r}")
        self.speed = speed
        self._now_s = 0.0
        self._lock = threading.Lock()

    def now_s(self) -> float:
        """Current simulated time in seconds."""
        with self._lock:
            return self._now_s

    def advance(self, dt_s: float) -> None:
        """Move the clock forward by `dt_s` seconds without waiting."""
        if dt_s < 0:
            raise ValueError(f"cannot move the clock backwards ({dt_s} s)")
        with self._lock:
            self._now_s += dt_s

    def sleep(self, dt_s: float) -> None:
        """Let `dt_s` seconds of lab time pass: at once at full speed, else scaled real time."""
        if dt_s <= 0:
            return
        if self.speed is not None:
            time.sleep(dt_s / self.speed)
        self.advance(dt_s)
