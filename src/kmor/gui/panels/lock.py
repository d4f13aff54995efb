"""Laser lock: strip chart of the 2f error signal and the control voltage, lock on/off, the set
level and gains, and the lock-point search with its scan.

The settings here (laser, lock-point search, lock) are also what the B-field and rf scan tabs put
before their measurement (`preparation`). "Lock on" keeps the laser locked between runs
(Session.start_lock_hold); "Find lock point" runs a batch [laser?, lock_point_search, lock] whose
scan is drawn here. The strip chart reads the running servo's last step (no instrument access from
the GUI thread); with no lock running and nothing else using the instruments, the error input and
the control output are read a few times a second on the poll thread.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout,
                               QWidget)

from kmor.config.loader import ConfigError
from kmor.gui.buffers import Columns, Strip
from kmor.gui.forms import ERROR_STYLE, ParamForm
from kmor.gui.panels.base import Panel, scan_kind
from kmor.gui.plots import DOWN_COLOR, FIT_COLOR, UP_COLOR, make_curve, make_plot, set_curve
from kmor.gui.session import IDLE, LOCK_HOLD, LOCKED, LOCKING, Session
from kmor.sequences import events as ev
from kmor.sequences.batch_writer import batch_text
from kmor.sequences.compose import PREPARE_SEARCH, lock_hold_steps, preparation_steps
from kmor.sequences.events import Event
from kmor.sequences.laser import LaserSetupParams
from kmor.sequences.lock import LockParams
from kmor.sequences.lockpoint import LockPointParams
from kmor.sequences.runner import check_batch

SEARCH_VALUES = {"piezo_start_pct": 44.0, "piezo_stop_pct": 51.0, "piezo_step_pct": 0.5,
                 "field_uG": 6.0, "light_power_uW": 10.0}
"""Start values of the search in the window (config/sequences/demo.toml): 15 piezo settings."""
MONITOR_INTERVAL_S = 0.25
STRIP_SAMPLES = 6000
STRIP_WINDOW_S = 30.0
"""The strip chart shows at most the last this many seconds of station time."""
STRIP_MIN_SPAN_S = 2.0
"""...and at least this many, so the first samples are not stretched over the whole width."""
STRIP_GAP_S = 2.0
"""Samples further apart than this (station time) are not joined by a line."""


def read_lock_inputs(station: Any) -> tuple[float, float, float]:
    """(station time s, lock error input V, laser control output V) read on the poll thread."""
    return (float(station.clock.now_s()), float(station.daq.read_ai_V(station.lock_error_ai)),
            float(station.daq.ao_V(station.laser_control_ao)))


def strip_x_range(t_s: np.ndarray, values: np.ndarray, window_s: float = STRIP_WINDOW_S,
                  min_span_s: float = STRIP_MIN_SPAN_S) -> tuple[float, float]:
    """The strip chart's x range (station time, s): from the first sample of the last `window_s`
    (NaN gap markers do not count) to the last, not an empty window with the data squeezed at its
    right edge when there are fewer seconds than that (a lock just started; a run before it moved
    the station clock on)."""
    t_last = float(t_s[-1])
    recent = t_s[(t_s >= t_last - window_s) & np.isfinite(values)]
    t_first = float(recent.min()) if recent.size else t_last
    return min(t_first, t_last - min_span_s), t_last


class LockPanel(Panel):
    """The Laser lock tab."""

    title = "Laser lock"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        config = session.config
        search_values = dict(SEARCH_VALUES)
        if not config.daq.attenuator_ao:
            search_values["light_power_uW"] = 0.0
        self.laser_form = ParamForm(LaserSetupParams, ("line", "current_mA", "piezo_pct"),
                                    title="laser", config=config, limits_kind="laser",
                                    labels={"piezo_pct": "piezo start"})
        self.search_form = ParamForm(LockPointParams, ("piezo_start_pct", "piezo_stop_pct", "piezo_step_pct",
                                                       "field_uG", "light_power_uW", "averages"),
                                     title="lock-point search", config=config,
                                     limits_kind="lock_point_search", values=search_values)
        self.lock_form = ParamForm(LockParams, ("setpoint_from", "setpoint_V", "loop_gain",
                                                "integral_rate_per_s", "band_V", "lost_after_s"),
                                   title="laser lock", config=config, limits_kind="lock",
                                   labels={"setpoint_from": "set level", "setpoint_V": "set level value",
                                           "loop_gain": "gain (P)", "integral_rate_per_s": "integral rate"})
        self.lock_on = QPushButton("Lock on")
        self.lock_on.setToolTip("lock the laser at the known lock point (or here) and keep it locked "
                                "until Lock off or a run starts")
        self.lock_off = QPushButton("Lock off")
        self.search_button = QPushButton("Find lock point")
        self.search_button.setToolTip("run the lock-point search (saved as a run, like every scan), then lock")
        self.lock_on.clicked.connect(self.start_hold)
        self.lock_off.clicked.connect(session.stop_lock_hold)
        self.search_button.clicked.connect(self.start_search)
        self.state_label = QLabel("not locked")
        self.record_label = QLabel("no lock point known yet")
        self.record_label.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.error_plot = make_plot("2f error signal", "station time", "s", "error", "V", si_x=False)
        self.error_curve = make_curve(self.error_plot, DOWN_COLOR, symbol=None)
        self.setpoint_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(FIT_COLOR, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.setpoint_line.hide()
        self.error_plot.addItem(self.setpoint_line)
        self.control_plot = make_plot("laser control voltage", "station time", "s", "control", "V", si_x=False)
        self.control_curve = make_curve(self.control_plot, UP_COLOR, symbol=None)
        self.control_plot.setXLink(self.error_plot)
        for plot in (self.error_plot, self.control_plot):
            plot.getViewBox().setAutoVisible(y=True)   # y scales to the visible window
        self.search_plot = make_plot("lock-point search: rotation amplitude", "piezo", "%",
                                     "amplitude (X+ − X−)/2", "V")
        self.search_curve = make_curve(self.search_plot, DOWN_COLOR)
        self.search_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(FIT_COLOR, width=2))
        self.search_line.hide()
        self.search_plot.addItem(self.search_line)

        self.strip = Strip(2, STRIP_SAMPLES)
        self.search_data = Columns(("piezo_pct", "amplitude_V"))
        self._search_scan = ""
        self._dirty = False
        self._last_t = -np.inf
        self._last_monitor = 0.0

        left = QWidget()
        ll = QVBoxLayout(left)
        for title, form in (("Laser", self.laser_form), ("Lock-point search", self.search_form),
                            ("Lock: set level and gains", self.lock_form)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(form)
            ll.addWidget(box)
        row = QHBoxLayout()
        for b in (self.lock_on, self.lock_off, self.search_button):
            row.addWidget(b)
        ll.addLayout(row)
        ll.addWidget(self.state_label)
        ll.addWidget(self.record_label)
        ll.addWidget(self.status)
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(340)
        scroll.setMaximumWidth(420)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.error_plot, 1)
        rl.addWidget(self.control_plot, 1)
        rl.addWidget(self.search_plot, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(right, 1)
        self.on_state(IDLE, None)

    # ------------------------------------------------------------------ settings
    def preparation(self, mode: str) -> list[tuple[str, Any]] | None:
        """Steps before a measurement for `mode` (see kmor.gui.compose), or None if a laser,
        search or lock setting is invalid (shown next to the field here)."""
        laser = self.laser_form.validate()
        search = self.search_form.validate()
        lock = self.lock_form.validate()
        if laser is None or search is None or lock is None:
            return None
        return preparation_steps(mode, self.session.context, laser=laser, search=search, lock=lock)

    def start_hold(self) -> None:
        lock = self.lock_form.validate()
        laser = self.laser_form.validate()
        if lock is None or laser is None:
            self._status("Not locked: correct the field marked in red.", error=True)
            return
        lock_step, laser_step = lock_hold_steps(self.session.context, laser=laser, lock=lock)
        try:
            self.session.start_lock_hold(lock_step, laser_step)
        except RuntimeError as exc:
            self._status(str(exc), error=True)
            return
        self._status("locking ...")

    def start_search(self) -> None:
        steps = self.preparation(PREPARE_SEARCH)
        if steps is None:
            self._status("Not started: correct the field marked in red.", error=True)
            return
        text = batch_text("gui-lockpoint", "lock-point search started from the kmor window", steps)
        try:
            path = self.session.write_batch(text, "gui-lockpoint")
            check_batch(path, self.session.loaded)
            self.session.start_batch(path)
        except (ConfigError, OSError, RuntimeError) as exc:
            self._status(f"Not started: {exc}", error=True)
            return
        self._status(f"Started {path.name}")

    def _status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    # ------------------------------------------------------------------ events and drawing
    def on_events(self, events: list[Event]) -> None:
        for e in events:
            if e.kind == ev.POINT and e.scan == self._search_scan and e.row is not None:
                self.search_data.append(float(e.row["piezo_pct"]), float(e.row["amplitude_V"]))
                self._dirty = True
            elif e.kind == ev.SCAN_STARTED and scan_kind(e.scan) == "lockpoint":
                self._search_scan = e.scan
                self.search_data.clear(e.total or None)
                self.search_line.hide()
                self._dirty = True
            elif e.kind == ev.LOCK:
                info = e.info
                self.record_label.setText(
                    f"{e.message}: set level {info.get('setpoint_V', float('nan')):+.4g} V at piezo "
                    f"{info.get('piezo_pct', float('nan')):.3f} %, error slope "
                    f"{info.get('slope_V_per_V', float('nan')):+.3g} V per V of control")
                self.search_line.setPos(float(info.get("piezo_pct", np.nan)))
                self.search_line.show()
            elif e.kind == ev.SUSPENDED and "lock" in e.message:
                self._status(f"{e.message} — re-locking", error=True)
            elif e.kind == ev.RESUMED and "lock" in e.message:
                self._status("re-locked")

    def sample(self) -> None:
        readout = self.session.servo_readout()
        if readout is not None:
            if readout.time_s > self._last_t:
                if readout.time_s - self._last_t > STRIP_GAP_S:
                    self.strip.append(readout.time_s, np.nan, np.nan)   # break the line at a gap
                self._last_t = readout.time_s
                self.strip.append(readout.time_s, readout.error_V + readout.setpoint_V, readout.control_V)
                self.setpoint_line.setPos(readout.setpoint_V)
                self.setpoint_line.show()
                self._dirty = True
            if self.isVisible():
                self.state_label.setText("LOCK LOST — re-locking" if readout.lost else
                                         f"locked: error {readout.error_V:+.3g} V from the set level")
            return
        now = time.monotonic()
        if not self.session.running and now - self._last_monitor >= MONITOR_INTERVAL_S:
            if self.session.poll(read_lock_inputs, self._monitored):
                self._last_monitor = now

    def _monitored(self, result: Any) -> None:
        if isinstance(result, Exception):
            self.state_label.setText(f"cannot read the lock error input: {result}")
            return
        t, error_V, control_V = result
        if t > self._last_t:
            if t - self._last_t > STRIP_GAP_S:
                self.strip.append(t, np.nan, np.nan)
            self._last_t = t
            self.strip.append(t, error_V, control_V)
            self.setpoint_line.hide()
            self._dirty = True
        self.state_label.setText(f"not locked (monitoring): error input {error_V:+.3g} V")

    def plots(self) -> list:
        return [self.error_plot, self.control_plot, self.search_plot]

    def refresh(self) -> bool:
        if not self._dirty:
            return False
        series = self.strip.series()
        set_curve(self.error_curve, series[0], series[1])
        set_curve(self.control_curve, series[0], series[2])
        if series.shape[1]:
            self.error_plot.setXRange(*strip_x_range(series[0], series[1]), padding=0.02)
        set_curve(self.search_curve, self.search_data.view("piezo_pct"), self.search_data.view("amplitude_V"))
        self._dirty = False
        return True

    def on_state(self, state: str, what: str | None) -> None:
        hold = what == LOCK_HOLD
        self.lock_on.setEnabled(state == IDLE)
        self.lock_off.setEnabled(hold and state in (LOCKED, LOCKING))
        self.search_button.setEnabled(state in (IDLE, LOCKED, LOCKING))
        if hold and state == LOCKED:
            self._status("locked; the lock is held until Lock off or a run starts")
