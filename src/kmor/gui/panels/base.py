"""What every panel shares: the event hook, the redraw hook, and the run buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from kmor.gui.session import IDLE, LOCKED, LOCKING, PAUSED, RUNNING, STARTING, Session
from kmor.sequences.events import Event
from kmor.storage import StorageError, read_scan

_KIND = re.compile(r"^\d+-([A-Za-z0-9_]+)\.h5$")


def scan_kind(path: str) -> str:
    """'.../00002-bscan.h5' -> 'bscan'; 'memory:bscan' -> 'bscan'; '' if unknown."""
    if path.startswith("memory:"):
        return path.split(":", 1)[1]
    m = _KIND.match(Path(path).name)
    return m.group(1) if m else ""


def rows_from_file(path: str, required: tuple[str, ...]) -> dict[str, Any] | None:
    """The acknowledged columns of a scan file (strings decoded), or None if it cannot be read or
    lacks a required column (the live view is then kept as it is)."""
    if not path or path.startswith("memory:"):
        return None
    try:
        scan = read_scan(path)
    except (StorageError, OSError, ValueError):
        return None
    if any(name not in scan.columns for name in required):
        return None
    return {name: [v.decode() if isinstance(v, bytes) else v for v in column] if column.dtype.kind in "SOU"
            else column for name, column in scan.columns.items()}


class Panel(QWidget):
    """A tab of the window. `on_events` gets every event batch (GUI thread); `refresh` redraws
    (called at most 10 times a second, only for the visible panel); `sample` is called at the
    same rate for every panel (strip charts); `on_state` when the session state changes."""

    title = "panel"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session

    def on_events(self, events: list[Event]) -> None:
        pass

    def refresh(self) -> bool:
        """Hand new data to the plots; True if anything changed (it will be repainted)."""
        return False

    def sample(self) -> None:
        pass

    def plots(self) -> list[Any]:
        """The panel's live plot widgets (repainted right after a refresh, to time the redraw)."""
        return []

    def repaint_now(self) -> None:
        """Paint what `refresh` changed now (plots' viewports: a plain repaint leaves the
        graphics scene to a later event)."""
        for plot in self.plots():
            plot.viewport().repaint()

    def on_state(self, state: str, what: str | None) -> None:
        pass

    def shutdown(self) -> None:
        pass


class RunButtons(QWidget):
    """Start / Pause / Resume / Abort, enabled according to the session state."""

    def __init__(self, session: Session, start: Callable[[], Any], start_text: str = "Start",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.start_button = QPushButton(start_text)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.abort_button = QPushButton("Abort")
        self.start_button.setToolTip("validate the settings and start (the laser lock hold, if on, is released first)")
        self.pause_button.setToolTip("pause at the next point boundary; the laser lock keeps running")
        self.abort_button.setToolTip("stop at the next point boundary: the scan is saved as 'aborted', "
                                     "rf off, coils ramped to zero")
        self.start_button.clicked.connect(start)
        self.pause_button.clicked.connect(session.pause)
        self.resume_button.clicked.connect(session.resume)
        self.abort_button.clicked.connect(lambda: session.abort())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for b in (self.start_button, self.pause_button, self.resume_button, self.abort_button):
            layout.addWidget(b)
        self.on_state(IDLE, None)

    def on_state(self, state: str, what: str | None) -> None:
        batch = what == "batch"
        self.start_button.setEnabled(state in (IDLE, LOCKED, LOCKING))
        self.pause_button.setEnabled(batch and state in (RUNNING, STARTING))
        self.resume_button.setEnabled(batch and state == PAUSED)
        self.abort_button.setEnabled(batch and state in (RUNNING, PAUSED, STARTING))
