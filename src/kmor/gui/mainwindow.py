"""The kmor lab window: a tab per panel, a status bar with the run state, the step and the time
left, one redraw timer, and a safe close.

Events reach the panels in batches (Session.events) in the GUI thread; panels only store them
(numpy buffers) and a 10 Hz timer redraws the visible panel. Closing during a run asks first,
then aborts at the next point boundary (the scan is saved as "aborted", rf off, coils ramped to
zero) and closes once the run has ended.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QProgressBar, QTabWidget

from kmor.gui.panels.base import Panel
from kmor.gui.panels.batch import BatchPanel
from kmor.gui.panels.browser import BrowserPanel
from kmor.gui.panels.bscan import BScanPanel
from kmor.gui.panels.instruments import InstrumentsPanel
from kmor.gui.panels.lock import LockPanel
from kmor.gui.panels.log import LogPanel
from kmor.gui.panels.results import ResultsPanel
from kmor.gui.panels.rfscan import RfScanPanel
from kmor.gui.session import IDLE, RunReport, Session
from kmor.sequences import events as ev
from kmor.sequences.batch import format_duration
from kmor.sequences.events import Event

log = logging.getLogger("kmor.gui")
REDRAW_HZ = 10.0
"""Most redraws per second (the timer also samples the lock servo at this rate)."""
REDRAW_BUDGET = 0.02
"""Redraws may take at most this fraction of the time: a redraw that took 6 ms waits 300 ms for
the next. Painting pyqtgraph items runs Python, which holds the GIL the acquisition thread needs
(docs/decisions/0072)."""


class MainWindow(QMainWindow):
    """Tabs: B-field scan, rf scan, Laser lock, Batch, Results, Data browser, Instruments, Log."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        lab = session.config.lab
        speed = session.sim_speed()
        where = ("simulated lab, " + ("full speed" if speed is None else f"{speed:g}x real time")
                 if lab.simulated else "real instruments")
        self.setWindowTitle(f"kmor — {lab.name} ({where})")
        self.log_panel = LogPanel(session)  # first, so it sees everything the others log
        self.lock_panel = LockPanel(session)
        self.bscan_panel = BScanPanel(session, self.lock_panel.preparation)
        self.rf_panel = RfScanPanel(session, self.lock_panel.preparation)
        self.batch_panel = BatchPanel(session)
        self.results_panel = ResultsPanel(session)
        self.browser_panel = BrowserPanel(session)
        self.instruments_panel = InstrumentsPanel(session)
        self.panels: list[Panel] = [self.bscan_panel, self.rf_panel, self.lock_panel, self.batch_panel,
                                    self.results_panel, self.browser_panel, self.instruments_panel,
                                    self.log_panel]
        self.tabs = QTabWidget()
        for panel in self.panels:
            self.tabs.addTab(panel, panel.title)
        self.tabs.currentChanged.connect(lambda _: self._refresh_current())
        self.setCentralWidget(self.tabs)

        self.state_label = QLabel("idle")
        self.step_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("%p % of the batch")
        self.progress.hide()
        bar = self.statusBar()
        bar.addWidget(self.state_label)
        bar.addWidget(self.step_label, 1)
        bar.addPermanentWidget(self.progress)

        session.events.connect(self._on_events)
        session.run_ended.connect(self._on_run_ended)
        session.run_started.connect(lambda what: self._update_state())
        self._state: tuple[str, str | None] = (IDLE, None)
        self._close_when_idle = False
        self._next_redraw = 0.0
        self.redraw_cost_s = 0.0
        """Duration of the last redraw (refresh + synchronous repaint of the visible panel)."""
        self._batch_total_s: float | None = None
        self._wall_start: tuple[float, float] | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / REDRAW_HZ))
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.resize(1360, 860)

    # ------------------------------------------------------------------ events and redraw
    def _on_events(self, events: list[Event]) -> None:
        for panel in self.panels:
            panel.on_events(events)
        latest = None
        for e in events:
            if e.kind in (ev.POINT, ev.STEP_STARTED, ev.SCAN_STARTED) and e.remaining_s is not None:
                latest = e
            if e.kind == ev.RUN_STARTED:
                self._batch_total_s = e.remaining_s
                self._wall_start = None
        if latest is not None:
            self._show_progress(latest)   # once per batch of events, not per point
        self._update_state()

    def _show_progress(self, e: Event) -> None:
        step = f"step {e.step + 1}/{e.n_steps}: " if e.step is not None and e.n_steps else ""
        point = f"  point {e.index + 1}/{e.total}" if e.kind == ev.POINT and e.index is not None and e.total else ""
        remaining = e.remaining_s or 0.0
        if self._batch_total_s is None or remaining > self._batch_total_s:
            self._batch_total_s = remaining
        if self._wall_start is None:
            self._wall_start = (time.monotonic(), remaining)
        text = f"{step}{e.label}{point}   left: {format_duration(remaining)} lab time"
        speed = self.session.sim_speed()
        wall0, lab0 = self._wall_start
        done_lab, elapsed = lab0 - remaining, time.monotonic() - wall0
        if speed is None and done_lab > 0 and elapsed > 1.0:
            text += f" (~{format_duration(remaining * elapsed / done_lab)} here)"
        self.step_label.setText(text)
        if self._batch_total_s:
            self.progress.setValue(int(100 * (1 - remaining / self._batch_total_s)))
            self.progress.show()

    def tick(self) -> None:
        """10 Hz: sample strip charts, redraw the visible panel (within the redraw budget),
        follow the session state."""
        for panel in self.panels:
            panel.sample()
        if time.monotonic() >= self._next_redraw:
            self._refresh_current()
        self._update_state()

    def _refresh_current(self) -> None:
        panel = self.tabs.currentWidget()
        if not isinstance(panel, Panel):
            return
        start = time.monotonic()
        if panel.refresh():
            panel.repaint_now()                 # now, so that its cost can be measured
            self.redraw_cost_s = time.monotonic() - start
            self._next_redraw = start + max(1.0 / REDRAW_HZ, self.redraw_cost_s / REDRAW_BUDGET)

    def _update_state(self) -> None:
        state = (self.session.state, self.session.what)
        if state == self._state:
            return
        self._state = state
        self.state_label.setText(state[0] if state[1] != "lock" else f"laser lock: {state[0]}")
        for panel in self.panels:
            panel.on_state(*state)

    def _on_run_ended(self, report: RunReport) -> None:
        self._update_state()
        self.progress.hide()
        where = f" — {report.run_dir}" if report.run_dir else ""
        if report.what == "lock":
            self.step_label.setText("laser lock released" if report.status != "failed"
                                    else f"laser lock failed: {report.message}")
        else:
            self.step_label.setText(f"last run: {report.status}{where}"
                                    + (f": {report.message}" if report.message and report.status != "complete" else ""))
        if self._close_when_idle and not self.session.running:
            self.close()

    # ------------------------------------------------------------------ closing
    def ask_abort_on_close(self) -> bool:
        """Ask whether to stop the run and close (tests replace this)."""
        answer = QMessageBox.question(
            self, "A run is in progress",
            "A run is in progress. Stop it and close?\n\nThe run stops after the current point: the "
            "scan is saved as 'aborted', the rf is switched off and the coils are ramped to zero.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        if self.session.busy and not self._close_when_idle:
            if not self.ask_abort_on_close():
                event.ignore()
                return
            self._close_when_idle = True
        if self.session.running:
            self._close_when_idle = True
            self.session.abort("the window is closing")
            self.step_label.setText("stopping safely: finishing the current point, then rf off and coils to zero ...")
            event.ignore()
            return
        self.timer.stop()
        for panel in self.panels:
            panel.shutdown()
        self.session.shutdown()
        event.accept()

    def panel(self, title: str) -> Any:
        """The panel with tab title `title`."""
        return next(p for p in self.panels if p.title == title)
