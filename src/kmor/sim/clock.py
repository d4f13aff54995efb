"""The simulated laboratory's own clock.

At full speed (`speed=None`) the clock moves only when someone waits: a `sleep` advances it and
returns at once, so hours of lab time run in seconds. At a finite speed the clock runs by itself,
`speed` simulated seconds per wall-clock second (1 = real time, for the GUI demo and for
`kmor sim serve`, whose clients wait on their own wall clocks), and a `sleep` waits for real.
Every time-dependent quantity in the simulation (laser drift, lock-in filtering, noise averaging)
reads `now_s()` from here, never the wall clock directly.
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
        self._offset_s = 0.0
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

    def now_s(self) -> float:
        """Current simulated time in seconds."""
        with self._lock:
            return self._offset_s + self._running_s()

    def _running_s(self) -> float:
        return 0.0 if self.speed is None else (time.monotonic() - self._t0) * self.speed

    def advance(self, dt_s: float) -> None:
        """Move the clock forward by `dt_s` seconds at once (an instrument's dead time, a timeout)."""
        if dt_s < 0:
            raise ValueError(f"cannot move the clock backwards ({dt_s} s)")
        with self._lock:
            self._offset_s += dt_s

    def sleep(self, dt_s: float) -> None:
        """Let `dt_s` seconds of lab time pass: at once at full speed, else in scaled real time."""
        if dt_s <= 0:
            return
        if self.speed is None:
            self.advance(dt_s)
        else:
            time.sleep(dt_s / self.speed)
