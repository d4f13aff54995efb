"""From worker threads to the GUI thread: run events and log records as Qt signals.

`EventBridge` is an event-bus subscriber (it runs on the bus's subscriber thread, never in the
acquisition thread). It only appends the event to a list and, when the list was empty, emits one
`ready` signal; the GUI thread then takes every waiting event at once. So a burst of thousands of
points costs the GUI one wake-up, not one per point, and acquisition never waits for the display.
If the GUI thread stalls, point events beyond `max_points` are dropped (oldest first, counted in
`dropped`); lifecycle events are always kept.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, Signal

from kmor.sequences import events as ev
from kmor.sequences.events import Event

MAX_QUEUED_POINTS = 50_000


class EventBridge(QObject):
    """Callable bus subscriber; `take()` (GUI thread) returns the waiting events in order."""

    ready = Signal()

    def __init__(self, max_points: int = MAX_QUEUED_POINTS) -> None:
        super().__init__()
        self.max_points = max_points
        self.dropped = 0
        self._events: deque[Event] = deque()
        self._points = 0
        self._signalled = False
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        """Bus subscriber thread: queue the event; wake the GUI once per batch."""
        with self._lock:
            if event.kind == ev.POINT:
                if self._points >= self.max_points:
                    self._drop_oldest_point()
                self._points += 1
            self._events.append(event)
            wake = not self._signalled
            self._signalled = True
        if wake:
            self.ready.emit()

    def _drop_oldest_point(self) -> None:
        for i, queued in enumerate(self._events):
            if queued.kind == ev.POINT:
                del self._events[i]
                self._points -= 1
                self.dropped += 1
                return

    def take(self) -> list[Event]:
        """GUI thread: every queued event, oldest first."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
            self._points = 0
            self._signalled = False
        return events


class LogBridge(QObject):
    """A logging handler's other half: `record(level, name, message, created_unix_s)` signals in
    the GUI thread for every record of the `kmor` loggers."""

    record = Signal(int, str, str, float)


class QtLogHandler(logging.Handler):
    """logging.Handler that forwards records to a LogBridge (any thread)."""

    def __init__(self, bridge: LogBridge, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = bridge
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            self.bridge.record.emit(record.levelno, record.name, text, record.created)
        except RuntimeError:  # the bridge was deleted while the app closes
            pass
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


def attach_log_handler(bridge: LogBridge, level: int = logging.INFO) -> QtLogHandler:
    """Attach a QtLogHandler to the `kmor` logger (INFO and above reach it); returns it."""
    handler = QtLogHandler(bridge, level)
    logger = logging.getLogger("kmor")
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    return handler


def detach_log_handler(handler: Any) -> None:
    logging.getLogger("kmor").removeHandler(handler)
