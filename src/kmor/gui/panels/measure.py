"""Shared by the B-field and rf scan panels: the settings column (preparation, form, estimate,
run buttons, status) and starting a composed batch."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QScrollArea, QVBoxLayout,
                               QWidget)

from kmor.config.loader import ConfigError
from kmor.gui.forms import ERROR_STYLE, ParamForm
from kmor.gui.panels.base import Panel, RunButtons
from kmor.gui.session import Session
from kmor.sequences.batch_writer import batch_text
from kmor.sequences.compose import PREPARE_LOCK, PREPARE_MODES
from kmor.sequences.runner import check_batch

log = logging.getLogger("kmor.gui")

Steps = list[tuple[str, Any]]
Preparer = Callable[[str], "Steps | None"]
"""prepare(mode) -> the steps before a measurement, or None if the laser settings are invalid
(the Laser lock panel then shows why)."""


class MeasurementPanel(Panel):
    """A panel that composes `[preparation..., measurement]` into a batch and runs it."""

    kind = ""
    batch_name = ""

    def __init__(self, session: Session, prepare: Preparer, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.prepare = prepare
        self.prepare_mode = QComboBox()
        for mode, text in PREPARE_MODES.items():
            self.prepare_mode.addItem(text, mode)
        self.prepare_mode.setCurrentIndex(self.prepare_mode.findData(PREPARE_LOCK))
        self.prepare_mode.setToolTip("what runs before the measurement (settings in the Laser lock tab)")
        self.zeroing = QCheckBox("zero the transverse fields first")
        self.zeroing.setToolTip("add a zeroing step (Bx, By from Bz lineshapes) before the measurement")
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = RunButtons(session, self.start)

    def settings_column(self, form: ParamForm, extra: list[QWidget] | None = None) -> QScrollArea:
        """The left column: preparation choice, the form, estimate, run buttons, status."""
        column = QWidget()
        layout = QVBoxLayout(column)
        top = QFormLayout()
        top.addRow("Before:", self.prepare_mode)
        layout.addLayout(top)
        layout.addWidget(self.zeroing)
        layout.addWidget(form)
        for widget in extra or []:
            layout.addWidget(widget)
        layout.addWidget(self.estimate)
        layout.addWidget(self.buttons)
        layout.addWidget(self.status)
        layout.addStretch(1)
        form.edited.connect(self.update_estimate)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(340)
        scroll.setMaximumWidth(420)
        return scroll

    # ------------------------------------------------------------------ to override
    def measurement(self) -> Any | None:
        """The validated parameters of the measurement step, or None (errors shown)."""
        raise NotImplementedError

    def update_estimate(self) -> None:
        pass

    # ------------------------------------------------------------------ start
    def start(self) -> bool:
        """Validate everything, write the batch file, start it. False (nothing sent) on any error."""
        params = self.measurement()
        if params is None:
            self.show_status("Not started: correct the field marked in red.", error=True)
            return False
        steps = self.prepare(self.prepare_mode.currentData())
        if steps is None:
            self.show_status("Not started: the laser-lock settings are invalid (see the Laser lock tab).",
                             error=True)
            return False
        if self.zeroing.isChecked():
            steps = steps + [("zeroing", {"light_power_uW": self.zeroing_light_uW()})]
        steps = steps + [(self.kind, params)]
        text = batch_text(self.batch_name, f"{self.kind} started from the kmor window", steps)
        try:
            path = self.session.write_batch(text, self.batch_name)
            batch = check_batch(path, self.session.loaded)
        except (ConfigError, OSError) as exc:
            self.show_status(f"Not started: {exc}", error=True)
            return False
        try:
            self.session.start_batch(path)
        except RuntimeError as exc:
            self.show_status(f"Not started: {exc}", error=True)
            return False
        log.info("%s started from the window: %s (%d steps, about %.0f s of lab time)",
                 self.kind, path.name, len(batch.steps), batch.estimate_s)
        self.show_status(f"Started {path.name}: " + ", ".join(kind for kind, _ in batch.steps))
        return True

    def zeroing_light_uW(self) -> float:
        """Light power for the zeroing step (low power: narrow curves); 0 leaves it."""
        return 3.0 if self.session.config.daq.attenuator_ao else 0.0

    def show_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def on_state(self, state: str, what: str | None) -> None:
        self.buttons.on_state(state, what)
