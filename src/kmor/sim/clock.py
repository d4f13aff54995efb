"""The simulated laboratory's own clock.

At full speed (`speed=None`) the clock moves only when someone waits: a `sleep` advances it and
returns at once, so hours of lab time run in seconds. At a finite speed the clock runs by itself,
`speed` simulated seconds per wall-clock second (1 = real time, for the GUI demo and for
`kmor sim serve`, whose clients wait on their own wall clocks), and a `sleep` waits for real.
Every time-dependent quantity in the simulation (laser drift, lock-in filtering, noise averaging)
reads `now_s()` from here, never the wall clock directly.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

SAME_INSTANT_S = 1e-9
"""Lab times closer than this are one instant. A time reached by different sums of waits (a job
started at another lab time, after a resume) differs in its last bits; the simulation treats
such times alike, so that the same job draws the same random numbers at the same steps."""


class SimClock:
    """Seconds of simulated lab time since the lab was built."""

    def __init__(self, speed: float | None = None) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"clock speed must be positive or None (full speed), got {speed!r}")
        self.speed = speed
        self._offset_s = 0.0
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._alarms: list[tuple[float, int, Callable[[], None]]] = []
        self._alarm_ids = itertools.count()

    def now_s(self) -> float:
        """Current simulated time in seconds (fires any alarm that has come due)."""
        with self._lock:
            now = self._offset_s + self._running_s()
        if self._alarms:
            self._fire(now)
        return now

    def call_at(self, t_s: float, callback: Callable[[], None]) -> None:
        """Call `callback()` once lab time reaches `t_s` (fault injection). It runs in whichever
        thread next reads or advances the clock, never in the middle of a clock update."""
        with self._lock:
            heapq.heappush(self._alarms, (float(t_s), next(self._alarm_ids), callback))

    def _fire(self, now: float) -> None:
        due = []
        with self._lock:
            while self._alarms and self._alarms[0][0] <= now:
                due.append(heapq.heappop(self._alarms)[2])
        for callback in due:
            callback()

    def _running_s(self) -> float:
        return 0.0 if self.speed is None else (time.monotonic() - self._t0) * self.speed

    def advance(self, dt_s: float) -> None:
        """Move the clock forward by `dt_s` seconds at once (an instrument's dead time, a timeout)."""
        if dt_s < 0:
            raise ValueError(f"cannot move the clock backwards ({dt_s} s)")
        with self._lock:
            self._offset_s += dt_s
            now = self._offset_s + self._running_s()
        if self._alarms:
            self._fire(now)

    def sleep(self, dt_s: float) -> None:
        """Let `dt_s` seconds of lab time pass: at once at full speed, else in scaled real time."""
        if dt_s <= 0:
            return
        if self.speed is None:
            self.advance(dt_s)
        else:
            time.sleep(dt_s / self.speed)
