"""Log: what kmor did and any errors (every `kmor` logger at INFO and above, plus the run's
lifecycle events), filterable by level and by text.

The lock hold (Lock on ... Lock off) is a run that locks and then waits in the engine's pause
state until it is stopped: its pause and resume are how it waits, not something the user did, and
its stop is the normal end ("lock released"), not an abort; the log says so.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from kmor.gui.panels.base import Panel
from kmor.gui.session import Session
from kmor.sequences import events as ev
from kmor.sequences.events import Event

MAX_RECORDS = 20_000
LEVELS = (("everything", logging.DEBUG), ("info", logging.INFO), ("warnings", logging.WARNING),
          ("errors", logging.ERROR))
EVENT_LEVELS: dict[str, int] = {ev.ERROR: logging.ERROR, ev.SUSPENDED: logging.WARNING}
LOGGED_EVENTS = (ev.RUN_STARTED, ev.STEP_STARTED, ev.SCAN_STARTED, ev.SCAN_FINISHED, ev.SUSPENDED,
                 ev.RESUMED, ev.PAUSED, ev.UNPAUSED, ev.LOCK, ev.FINISHED, ev.ERROR)


def event_detail(e: Event) -> str:
    """Label, status, message and scan of an event, each once (a step's label is often its message)."""
    parts: list[str] = []
    for x in (e.label, e.status, e.message, e.scan):
        if x and x not in parts:
            parts.append(x)
    return " ".join(parts)


class LogPanel(Panel):
    """The Log tab."""

    title = "Log"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.level = QComboBox()
        for text, level in LEVELS:
            self.level.addItem(text, level)
        self.level.setCurrentIndex(1)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("show only lines containing ... (e.g. lock, bscan, error)")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_RECORDS)
        self.records: deque[tuple[int, str]] = deque(maxlen=MAX_RECORDS)
        self.level.currentIndexChanged.connect(self.rebuild)
        self.filter.textChanged.connect(self.rebuild)
        top = QHBoxLayout()
        top.addWidget(QLabel("show:"))
        top.addWidget(self.level)
        top.addWidget(self.filter, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        session.log_bridge.record.connect(self.add_record)

    def add_record(self, level: int, name: str, message: str, created: float) -> None:
        stamp = datetime.fromtimestamp(created).strftime("%H:%M:%S")
        line = f"{stamp} {logging.getLevelName(level):7s} {name}: {message}"
        self.records.append((level, line))
        if self._shown(level, line):
            self.text.appendPlainText(line)

    def on_events(self, events: list[Event]) -> None:
        holding = self.session.holding_lock
        for e in events:
            if e.kind not in LOGGED_EVENTS or (holding and e.kind in (ev.PAUSED, ev.UNPAUSED)):
                continue
            if holding and e.kind == ev.FINISHED and e.status == "aborted":
                text = f"lock released ({e.message})" if e.message else "lock released"
            else:
                text = f"{e.kind}: {event_detail(e)}"
            self.add_record(EVENT_LEVELS.get(e.kind, logging.INFO), "run", text, e.wall_time_unix_s)

    def _shown(self, level: int, line: str) -> bool:
        text = self.filter.text().strip().lower()
        return level >= self.level.currentData() and (not text or text in line.lower())

    def rebuild(self) -> None:
        """Show the kept records that pass the filter."""
        self.text.setPlainText("\n".join(line for level, line in self.records if self._shown(level, line)))

    def visible_lines(self) -> list[str]:
        return [line for line in self.text.toPlainText().splitlines() if line]
