"""A one-line text progress display for `kmor run`: step, point in the scan, remaining time.

    run_batch(path, cfg, progress=TextProgress(sys.stderr))

Remaining time is the batch's estimate of lab time left; at full simulated speed the wall time
left is shown too, from the rate at which lab time has been getting done.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from kmor.sequences import events as ev
from kmor.sequences.batch import format_duration
from kmor.sequences.events import Event

BAR_WIDTH = 20


class RemainingClock:
    """The remaining-time estimate `kmor run` prints (and `kmor watch` shows): the batch's lab time
    left (s), and at full simulated speed also the wall time left, from the rate at which lab time
    has been getting done since the first estimate."""

    def __init__(self) -> None:
        self._start: tuple[float, float] | None = None   # (wall monotonic, lab remaining)

    def wall_s(self, remaining_s: float | None) -> float | None:
        """Wall seconds left for `remaining_s` lab seconds left; None until it can be told
        (first call, or less than 1 s of wall time or no lab time done yet)."""
        if remaining_s is None:
            return None
        if self._start is None:
            self._start = (time.monotonic(), remaining_s)
            return None
        wall0, lab0 = self._start
        done_lab, elapsed = lab0 - remaining_s, time.monotonic() - wall0
        if done_lab > 0 and elapsed > 1.0:
            return remaining_s * elapsed / done_lab
        return None

    def text(self, remaining_s: float | None) -> str:
        """"left: 1 h 02 min lab time, ~3 min wall" (empty without an estimate)."""
        if remaining_s is None:
            return ""
        text = f"left: {format_duration(remaining_s)} lab time"
        wall = self.wall_s(remaining_s)
        if wall is not None:
            text += f", ~{format_duration(wall)} wall"
        return text


class TextProgress:
    """Event subscriber printing one updating line (and a line per finished scan/suspension)."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self._last_print = 0.0
        self._clock = RemainingClock()
        self._width = 0

    def __call__(self, event: Event) -> None:
        if event.remaining_s is not None:
            self._clock.wall_s(event.remaining_s)   # starts the clock at the first estimate
        if event.kind in (ev.SCAN_FINISHED, ev.SUSPENDED, ev.RESUMED, ev.PAUSED, ev.UNPAUSED,
                          ev.ERROR, ev.FINISHED, ev.LOCK):
            self._line(self._describe(event))
            return
        now = time.monotonic()
        if event.kind == ev.POINT and now - self._last_print < self.min_interval_s:
            return
        self._last_print = now
        self._status(self._bar(event))

    def _bar(self, e: Event) -> str:
        step = f"step {e.step + 1}/{e.n_steps}" if e.step is not None and e.n_steps else "step -"
        point = ""
        if e.index is not None and e.total:
            done = (e.index + 1) / e.total
            filled = int(done * BAR_WIDTH)
            point = f" [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {e.index + 1}/{e.total}"
        return f"{step} {e.label}{point}{self._remaining(e)}"

    def _remaining(self, e: Event) -> str:
        text = self._clock.text(e.remaining_s)
        return f"  {text}" if text else ""

    def _describe(self, e: Event) -> str:
        if e.kind == ev.SCAN_FINISHED:
            return f"scan {e.status}: {e.scan} ({e.index} points)"
        if e.kind == ev.FINISHED:
            return f"run {e.status}" + (f": {e.message}" if e.message else "")
        return f"{e.kind}: {e.message}"

    def _status(self, text: str) -> None:
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def _line(self, text: str) -> None:
        self._status(text)
        self.stream.write("\n")
        self.stream.flush()
        self._width = 0
