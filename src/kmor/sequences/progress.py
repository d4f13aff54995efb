"""Text progress for `kmor run`: step, point in the scan, lab time left and (when it differs) wall
time left.

    run_batch(path, cfg, progress=TextProgress(sys.stderr))

On a terminal one line is rewritten in place (`\\r`) at most every `min_interval_s`. Into a file or
a pipe (a log of a run under nohup) plain lines are written instead: one per step, one per finished
scan, suspension or lock change, and a status line every `line_interval_s` of wall time.

"Left" is the batch's estimate of lab time left, re-read at every event. The wall time left is that
figure times the recent rate of wall seconds per lab second, measured on the station clock the
events carry (not on the estimates, which move in steps when a job ends early or late), over the
last `RATE_WINDOW_S` of wall time so one slow lock or one fast wait does not swing it.

How the run ended (complete, paused with the fault, aborted) is for the caller to say once: the
ERROR and FINISHED events only end the status line.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import TextIO

from kmor.sequences import events as ev
from kmor.sequences.batch import format_duration
from kmor.sequences.events import Event

BAR_WIDTH = 20
RATE_WINDOW_S = 120.0
"""Wall time (s) over which the wall-per-lab-second rate is measured."""
MIN_RATE_SPAN_S = 2.0
"""Wall time (s) of data needed before a wall-time estimate is shown."""
SHOW_WALL_IF_OFF_BY = 0.1
"""Show the wall time left only when it differs from the lab time left by more than this fraction."""
LINE_EVENTS = (ev.SCAN_FINISHED, ev.SUSPENDED, ev.RESUMED, ev.PAUSED, ev.UNPAUSED, ev.LOCK)
END_EVENTS = (ev.ERROR, ev.FINISHED)


class WallRate:
    """Wall seconds per lab second over a sliding window of (wall, station clock) samples."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, wall_s: float, lab_s: float) -> None:
        """Record one event's wall time (s, any origin) and station time (s)."""
        if self._samples and (lab_s < self._samples[-1][1] or wall_s < self._samples[-1][0]):
            self._samples.clear()   # a new clock (resumed run): start over
        self._samples.append((wall_s, lab_s))
        while len(self._samples) > 2 and wall_s - self._samples[1][0] >= self.window_s:
            self._samples.popleft()

    def rate(self) -> float | None:
        """Wall s per lab s, or None until MIN_RATE_SPAN_S of wall time with lab progress."""
        if len(self._samples) < 2:
            return None
        (w0, l0), (w1, l1) = self._samples[0], self._samples[-1]
        if w1 - w0 < MIN_RATE_SPAN_S or l1 <= l0:
            return None
        return (w1 - w0) / (l1 - l0)


class RemainingClock:
    """The remaining-time estimate `kmor run` prints and `kmor watch` shows: the batch's lab time
    left (s), and the wall time left from the measured wall-per-lab-second rate (WallRate) when it
    differs from real time (the simulated lab at full speed)."""

    def __init__(self) -> None:
        self.rate = WallRate()

    def observe(self, event: Event) -> None:
        """Add one event's wall and station times to the rate."""
        self.rate.add(event.wall_time_unix_s, event.time_s)

    def wall_s(self, remaining_s: float | None) -> float | None:
        """Wall seconds left for `remaining_s` lab seconds left; None until the rate is known."""
        rate = self.rate.rate()
        return None if remaining_s is None or rate is None else remaining_s * rate

    def text(self, remaining_s: float | None) -> str:
        """"left: 1 h 02 min lab time, ~3 min wall" (empty without an estimate)."""
        if remaining_s is None:
            return ""
        text = f"left: {format_duration(remaining_s)} lab time"
        rate = self.rate.rate()
        if rate is not None and abs(rate - 1.0) > SHOW_WALL_IF_OFF_BY:
            text += f", ~{format_duration(remaining_s * rate)} wall"
        return text


class TextProgress:
    """Event subscriber printing the batch's progress to `stream` (default stderr)."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.2,
                 line_interval_s: float = 30.0, interactive: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.min_interval_s = min_interval_s
        self.line_interval_s = line_interval_s
        self.interactive = _is_terminal(self.stream) if interactive is None else interactive
        self.clock = RemainingClock()
        self._last_status_wall: float | None = None
        self._last_step: tuple[int | None, str] | None = None
        self._width = 0

    def __call__(self, event: Event) -> None:
        self.clock.observe(event)
        if event.kind in END_EVENTS:
            self._end_status()
            return
        if event.kind in LINE_EVENTS:
            self._line(self._describe(event))
        if self._due(event):
            self._status(self._bar(event), event.wall_time_unix_s)

    def _due(self, e: Event) -> bool:
        """Whether to (re)draw the status now: always after a step change or a printed line;
        points and other events at most every min_interval_s (terminal) / line_interval_s (file)."""
        step = (e.step, e.label)
        if step != self._last_step:
            self._last_step = step
            return True
        if self.interactive and e.kind in LINE_EVENTS:
            return True
        last = self._last_status_wall
        interval = self.min_interval_s if self.interactive else self.line_interval_s
        return last is None or e.wall_time_unix_s - last >= interval

    def _bar(self, e: Event) -> str:
        step = f"step {e.step + 1}/{e.n_steps}" if e.step is not None and e.n_steps else "starting"
        point = ""
        if e.index is not None and e.total:
            shown = min(e.index + 1, e.total)
            filled = int(shown / e.total * BAR_WIDTH)
            point = f" [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {shown}/{e.total}"
        return f"{step} {e.label}{point}{self._remaining(e)}"

    def _remaining(self, e: Event) -> str:
        text = self.clock.text(e.remaining_s)
        return f"  {text}" if text else ""

    def _describe(self, e: Event) -> str:
        if e.kind == ev.SCAN_FINISHED:
            return f"scan {e.status}: {e.scan} ({e.index} points)"
        return f"{e.kind}: {e.message}"

    def _status(self, text: str, wall_s: float) -> None:
        self._last_status_wall = wall_s
        if not self.interactive:
            self.stream.write(text + "\n")
        else:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        self.stream.flush()

    def _line(self, text: str) -> None:
        """A line that stays: on a terminal it replaces the status line, which is redrawn after."""
        if self.interactive:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad + "\n")
            self._width = 0
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _end_status(self) -> None:
        if self.interactive and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
