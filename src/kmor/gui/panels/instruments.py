"""Instruments: each device with its identity, connection state and key settings; status lights
for the laser lock, the lock-in overloads and the counter's 10 MHz reference; errors in words,
where they happened.

The instruments are read on the session's poll thread (every few seconds, only while no run holds
them: `Session.poll`). During a run the acquisition thread owns the instruments, so the lights come
from what the run reports: the lock servo's state, suspensions (lock lost, counter reference
missing, instrument timeouts) and errors, and for the polarimeter lock-in its overloads: a point
whose sensitivity is coarser than the point before ranged up after an overload (amber, kept until
the next run), a point that overloaded even at 1 V suspends the scan (red) until it is re-taken.
The reference lock-in is not read during a run.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPlainTextEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from kmor.drivers.errors import ReferenceClockMissing
from kmor.gui.panels.base import Panel
from kmor.gui.plots import LIGHT_COLORS, status_light
from kmor.gui.session import Session
from kmor.sequences import events as ev
from kmor.sequences.events import Event

POLL_INTERVAL_S = 2.0
DEVICES = (("rf_generator", "rf generator"), ("counter", "frequency counter"),
           ("lockin_polarimeter", "polarimeter lock-in (1f)"), ("lockin_reference", "reference lock-in (2f)"),
           ("laser", "laser controller"))
KEY_SETTINGS = {
    "rf_generator": (("freq_hz", "{:,.1f} Hz"), ("amplitude_dBm", "{:g} dBm"), ("rf_on", "rf {}")),
    "counter": (("mode", "{}"), ("gate_s", "gate {:g} s"), ("external_clock", "external 10 MHz: {}")),
    "lockin_polarimeter": (("harmonic", "harmonic {}"), ("sensitivity_V", "sens. {:g} V"),
                           ("time_constant_s", "tau {:g} s"), ("filter_slope_dB_per_oct", "{} dB/oct")),
    "lockin_reference": (("harmonic", "harmonic {}"), ("sensitivity_V", "sens. {:g} V"),
                         ("time_constant_s", "tau {:g} s"), ("filter_slope_dB_per_oct", "{} dB/oct")),
    "laser": (("output_on", "emission {}"), ("wavelength_nm", "{:.4f} nm"), ("piezo_pct", "piezo {:.2f} %"),
              ("current_mA", "{:g} mA")),
}
LIGHTS = (("lock", "laser lock"), ("overload_pol", "polarimeter lock-in overload"),
          ("overload_ref", "reference lock-in overload"), ("reference", "counter 10 MHz reference"))


def read_status(station: Any) -> dict[str, Any]:
    """Everything the panel shows, read on the poll thread; failures are kept per device."""
    out: dict[str, Any] = {"time": time.time(), "snapshot": station.snapshot()}
    for key, lockin in (("overload_pol", station.lockin_polarimeter), ("overload_ref", station.lockin_reference)):
        try:
            status = lockin.status()
            kinds = [k for k in ("input", "filter", "output") if getattr(status, f"{k}_overload")]
            out[key] = ("bad", "overload: " + ", ".join(kinds)) if kinds else ("ok", "no overload")
        except Exception as exc:  # noqa: BLE001 - shown as the light's text
            out[key] = ("bad", f"cannot read the status: {exc}")
    try:
        station.counter.check_status("10 MHz reference check")
        out["reference"] = ("ok", "present")
    except ReferenceClockMissing as exc:
        out["reference"] = ("bad", f"missing: {exc}")
    except Exception as exc:  # noqa: BLE001
        out["reference"] = ("bad", f"cannot check: {exc}")
    return out


def key_settings(role: str, snap: dict[str, Any]) -> str:
    parts = []
    for name, fmt in KEY_SETTINGS.get(role, ()):
        if name in snap:
            value = snap[name]
            if isinstance(value, bool):
                value = "on" if value else "off"
            try:
                parts.append(fmt.format(value))
            except (ValueError, TypeError):
                parts.append(f"{name} {value}")
    return ", ".join(parts)


class InstrumentsPanel(Panel):
    """The Instruments tab."""

    title = "Instruments"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["device", "resource", "connection", "identity", "key settings"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.refresh_button = QPushButton("Read now")
        self.refresh_button.clicked.connect(lambda: self.poll(force=True))
        self.age = QLabel("not read yet")
        self.lights: dict[str, tuple[QLabel, QLabel]] = {}
        self._states: dict[str, str] = {}
        lights_box = QGroupBox("Status")
        grid = QGridLayout(lights_box)
        for row, (key, text) in enumerate(LIGHTS):
            dot, label = QLabel(), QLabel("unknown")
            dot.setStyleSheet(status_light(LIGHT_COLORS["off"]))
            grid.addWidget(dot, row, 0)
            grid.addWidget(QLabel(text + ":"), row, 1)
            grid.addWidget(label, row, 2)
            grid.setColumnStretch(2, 1)
            self.lights[key] = (dot, label)
        self.errors = QPlainTextEdit()
        self.errors.setReadOnly(True)
        self.errors.setMaximumBlockCount(500)
        self.errors.setPlaceholderText("instrument errors and suspensions appear here, with the time and the device")
        top = QHBoxLayout()
        top.addWidget(self.refresh_button)
        top.addWidget(self.age, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 3)
        layout.addWidget(lights_box)
        layout.addWidget(QLabel("Errors and warnings:"))
        layout.addWidget(self.errors, 2)
        self._last_poll = 0.0
        self._read_queued = False   # Read now met another read in flight: read at the next sample
        self._sensitivity_V: float | None = None   # the polarimeter's at the last point of this scan
        self.status: dict[str, Any] | None = None
        self._fill_static()
        session.log_bridge.record.connect(self._log_record)

    def _fill_static(self) -> None:
        cfg = self.session.config
        rows = [(label, getattr(cfg.instruments, role).resource) for role, label in DEVICES]
        rows.append(("DAQ board", cfg.daq.device))
        rows.append(("coils", ", ".join(f"{a}: {getattr(cfg.coils, a).drive}" for a in ("bx", "by", "bz"))))
        self.table.setRowCount(len(rows))
        for i, (label, resource) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(label))
            self.table.setItem(i, 1, QTableWidgetItem(resource))
            self.table.setItem(i, 2, QTableWidgetItem("connected (opened at start)"))

    # ------------------------------------------------------------------ polling
    def sample(self) -> None:
        readout = self.session.servo_readout()
        if readout is None:
            self._light("lock", "off", "not locked")
        elif readout.lost:
            self._light("lock", "bad", "LOST — re-locking")
        else:
            self._light("lock", "ok", f"locked (error {readout.error_V:+.3g} V)" if self.isVisible() else "locked")
        if self._read_queued or time.monotonic() - self._last_poll >= POLL_INTERVAL_S:
            self.poll(force=self._read_queued)

    def poll(self, force: bool = False) -> bool:
        """Read the instruments on the poll thread if nothing else uses them. A forced read (Read
        now) that meets another read still finishing (e.g. the lock tab's monitor) is queued and
        starts at the next sample, rather than being ignored; returns whether it started or queued."""
        if not force and not self.isVisible():
            return False
        if self.session.poll(read_status, self._polled):
            self._last_poll = time.monotonic()
            self._read_queued = False
            return True
        if self.session.running:
            self._read_queued = False
            self.age.setText("a run is using the instruments: lights follow what the run reports; "
                             "settings are read again when it ends")
            return False
        self._read_queued = self._read_queued or force
        return self._read_queued

    def _polled(self, result: Any) -> None:
        if isinstance(result, Exception):
            self._error("station", str(result))
            return
        self.status = result
        snap = result["snapshot"]
        for i, (role, _) in enumerate(DEVICES):
            entry = snap.get(role, {})
            if "error" in entry:
                self.table.setItem(i, 2, QTableWidgetItem(f"ERROR: {entry['error']}"))
                self._error(role, entry["error"])
                continue
            self.table.setItem(i, 2, QTableWidgetItem("connected"))
            self.table.setItem(i, 3, QTableWidgetItem(str(entry.get("identity", ""))))
            self.table.setItem(i, 4, QTableWidgetItem(key_settings(role, entry)))
        n = len(DEVICES)
        coils = snap.get("coils_uG", {})
        if isinstance(coils, dict) and "error" not in coils:
            self.table.setItem(n + 1, 4, QTableWidgetItem(", ".join(f"{a} {v:+.2f} µG" for a, v in coils.items())))
        daq = snap.get("daq_ao_V", {})
        if isinstance(daq, dict):
            self.table.setItem(n, 4, QTableWidgetItem(", ".join(f"{ch} {v:+.3f} V" for ch, v in daq.items())))
        for key in ("overload_pol", "overload_ref", "reference"):
            self._light(key, *result[key])
            if result[key][0] == "bad":
                self._error(dict(LIGHTS)[key], result[key][1])
        self.age.setText(f"read at {datetime.fromtimestamp(result['time']).strftime('%H:%M:%S')}")

    # ------------------------------------------------------------------ run reports
    def on_events(self, events: list[Event]) -> None:
        for e in events:
            suspender = (e.info or {}).get("suspender", "")
            if e.kind == ev.SUSPENDED:
                self._error(suspender or "run", e.message)
                if suspender == "counter reference":
                    self._light("reference", "bad", e.message)
            elif e.kind == ev.RESUMED and suspender == "counter reference":
                self._light("reference", "ok", "present again")
            elif e.kind == ev.ERROR:
                self._error("run", e.message)
            elif e.kind == ev.RUN_STARTED:
                self._light("overload_pol", "ok", "no overload in this run")
                self._light("overload_ref", "off", "not read during a run; read again when it ends")
            self._overload_from_event(e, suspender)

    def _overload_from_event(self, e: Event, suspender: str) -> None:
        """The polarimeter lock-in's overload light from the run's events (see the module doc)."""
        if e.kind == ev.SCAN_STARTED:
            self._sensitivity_V = None
        elif e.kind == ev.POINT and e.row is not None and "sensitivity_V" in e.row:
            sensitivity = float(e.row["sensitivity_V"])
            before, self._sensitivity_V = self._sensitivity_V, sensitivity
            if before is not None and sensitivity > before and self._states.get("overload_pol") != "bad":
                self._light("overload_pol", "warn", f"overloaded at {before:g} V and ranged up to "
                                                    f"{sensitivity:g} V (point {(e.index or 0) + 1} of {e.label})")
        elif suspender == "lock-in overload" and e.kind == ev.SUSPENDED:
            self._light("overload_pol", "bad", e.message)
        elif suspender == "lock-in overload" and e.kind == ev.RESUMED:
            self._light("overload_pol", "warn", "overloaded at 1 V; the point was measured again")
        elif e.kind in (ev.PAUSED, ev.ERROR) and "overload" in e.message:
            self._light("overload_pol", "bad", e.message)

    def _log_record(self, level: int, name: str, message: str, created: float) -> None:
        if level >= 30 and (name.startswith("kmor.drivers") or name.startswith("kmor.station")):
            self._error(name.removeprefix("kmor."), message)

    def _light(self, key: str, state: str, text: str) -> None:
        """Set a light (style sheets are costly: only when its state changes)."""
        dot, label = self.lights[key]
        if self._states.get(key) != state:
            dot.setStyleSheet(status_light(LIGHT_COLORS[state]))
            self._states[key] = state
        if label.text() != text:
            label.setText(text)

    def _error(self, where: str, message: str) -> None:
        self.errors.appendPlainText(f"{datetime.now().strftime('%H:%M:%S')}  {where}: {message}")

    def light_state(self, key: str) -> str:
        """"ok", "warn", "bad" or "off" (unknown) of a light."""
        return self._states.get(key, "off")

    def light_text(self, key: str) -> str:
        return self.lights[key][1].text()
