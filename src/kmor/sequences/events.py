"""Events of a run and the bus that hands them to subscribers.

The engine publishes an `Event` at every state change (run started, scan started, each acknowledged
point, suspensions, pauses, scan finished, run finished, errors). Subscribers are either

- synchronous: called in the acquisition thread before `publish` returns (for code that must see
  every event in order and may stop the run, e.g. a test hook); keep them fast; or
- asynchronous (the default): each has its own thread and a bounded queue. `publish` never waits
  for them. When a subscriber falls behind by `max_queued` point events, the oldest queued point
  events are dropped (and counted in `Subscription.dropped`); lifecycle events are never dropped.
  A slow display therefore cannot stall acquisition or grow memory without bound (at most
  `max_queued` queued points plus one batch being delivered). The thread takes everything queued
  at once and then rests `min_interval_s` (20 ms), so a display is woken at most 50 times a
  second instead of competing with acquisition for every point.

The durable HDF5 record is not a bus subscriber: the engine writes each point through its recorder
before publishing it (docs/decisions/0061), so "acknowledged" means "on disk".
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger("kmor.sequences.events")



class EventKind(StrEnum):
    """What an event reports (its `kind`; the values are the strings subscribers see)."""

    RUN_STARTED = "run_started"
    STEP_STARTED = "step_started"
    SCAN_STARTED = "scan_started"
    POINT = "point"
    SCAN_FINISHED = "scan_finished"
    STEP_FINISHED = "step_finished"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    PAUSED = "paused"
    UNPAUSED = "unpaused"
    LOCK = "lock"            # lock acquired / released / re-acquired (message says which)
    FINISHED = "finished"    # the run ended: status is "complete", "aborted" or "failed"
    ERROR = "error"


RUN_STARTED = EventKind.RUN_STARTED
STEP_STARTED = EventKind.STEP_STARTED
SCAN_STARTED = EventKind.SCAN_STARTED
POINT = EventKind.POINT
SCAN_FINISHED = EventKind.SCAN_FINISHED
STEP_FINISHED = EventKind.STEP_FINISHED
SUSPENDED = EventKind.SUSPENDED
RESUMED = EventKind.RESUMED
PAUSED = EventKind.PAUSED
UNPAUSED = EventKind.UNPAUSED
LOCK = EventKind.LOCK
FINISHED = EventKind.FINISHED
ERROR = EventKind.ERROR
KINDS = tuple(EventKind)


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run.

    time_s: station clock (s). step / n_steps: position in the batch (0-based step index of the
    job). label: human name of the step or scan. scan: file of the scan (or its kind when not
    recorded). index / total: point index in the scan (0-based) and the expected point count.
    row: the acknowledged point (column -> value). remaining_s: estimated lab time left in the
    batch (s). status: the scan's or run's final status for *_FINISHED events.
    """

    kind: str
    time_s: float
    message: str = ""
    step: int | None = None
    n_steps: int | None = None
    label: str = ""
    scan: str = ""
    index: int | None = None
    total: int | None = None
    row: Mapping[str, Any] | None = None
    remaining_s: float | None = None
    status: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    wall_time_unix_s: float = field(default_factory=time.time)


Callback = Callable[[Event], None]


class Subscription:
    """A subscriber's handle: `dropped` counts point events it never saw; `cancel()` stops it."""

    def __init__(self, bus: EventBus, callback: Callback, name: str, synchronous: bool,
                 max_queued: int, min_interval_s: float = 0.0) -> None:
        self.bus = bus
        self.callback = callback
        self.name = name
        self.synchronous = synchronous
        self.max_queued = max_queued
        self.min_interval_s = min_interval_s
        self.dropped = 0
        self.failures = 0
        self._queue: deque[Event] = deque()
        self._points_queued = 0
        self._busy = False
        self._cond = threading.Condition()
        self._closing = False
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if not synchronous:
            self._thread = threading.Thread(target=self._loop, name=f"kmor-events-{name}",
                                            daemon=True)
            self._thread.start()

    # publisher side -----------------------------------------------------------------------
    def _offer(self, event: Event) -> None:
        if self.synchronous:
            self.callback(event)
            return
        with self._cond:
            if self._closing:
                return
            if event.kind == POINT:
                if self._points_queued >= self.max_queued:
                    self._drop_oldest_point()
                self._points_queued += 1
            self._queue.append(event)
            if not self._busy:
                self._cond.notify()

    def _drop_oldest_point(self) -> None:
        for i, queued in enumerate(self._queue):
            if queued.kind == POINT:
                del self._queue[i]
                self._points_queued -= 1
                self.dropped += 1
                return

    # subscriber thread --------------------------------------------------------------------
    def _loop(self) -> None:
        """Take everything queued at once, deliver it, then rest `min_interval_s` (so a display
        wakes at most that often and does not compete with acquisition for every point)."""
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait()
                if not self._queue:
                    self._busy = False
                    self._cond.notify_all()
                    return
                batch = list(self._queue)
                self._queue.clear()
                self._points_queued = 0
                self._busy = True
            for event in batch:
                try:
                    self.callback(event)
                except Exception:  # a broken display must not stop the run
                    self.failures += 1
                    log.exception("event subscriber %s failed on %s", self.name, event.kind)
            if self.min_interval_s > 0:
                self._closed.wait(self.min_interval_s)

    def drain(self, timeout_s: float | None = None) -> bool:
        """Wait until every queued event was delivered; False on timeout (wall seconds)."""
        if self.synchronous:
            return True
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while self._queue or self._busy:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.notify_all()
                self._cond.wait(remaining)
        return True

    def cancel(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (up to `timeout_s` wall seconds), then stop."""
        self.bus._remove(self)
        if self._thread is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._closed.set()
        self._thread.join(timeout_s)


class EventBus:
    """Thread-safe publish/subscribe for run events."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callback, *, name: str = "", synchronous: bool = False,
                  max_queued: int = 1000, min_interval_s: float = 0.02) -> Subscription:
        """Register `callback(event)`. Asynchronous by default: its own thread, a queue bounded
        to `max_queued` point events, woken at most every `min_interval_s` wall seconds (it then
        gets everything queued, in order). `synchronous=True` calls it in the publishing thread
        and lets its exceptions propagate into the run."""
        if max_queued < 1:
            raise ValueError(f"max_queued must be >= 1, got {max_queued}")
        sub = Subscription(self, callback, name or getattr(callback, "__name__", "subscriber"),
                           synchronous, max_queued, min_interval_s)
        with self._lock:
            self._subs = [*self._subs, sub]
        return sub

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber (synchronous ones first, in subscription order)."""
        subs = self._subs  # copy-on-write list: no lock needed to iterate
        for sub in subs:
            if sub.synchronous:
                sub._offer(event)
        for sub in subs:
            if not sub.synchronous:
                sub._offer(event)

    def drain(self, timeout_s: float | None = 10.0) -> bool:
        """Wait for every asynchronous subscriber to catch up."""
        return all(sub.drain(timeout_s) for sub in list(self._subs))

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued and stop every subscriber thread."""
        for sub in list(self._subs):
            sub.cancel(timeout_s)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = [s for s in self._subs if s is not sub]
