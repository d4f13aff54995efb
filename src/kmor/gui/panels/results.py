"""Results: the NMOR width versus light power with its straight line to zero power (the paper's
Fig. 4: DeltaB0 and gamma/2pi), and the 0-0 FWHM versus light power per rf power, filling in as
scans finish.

Every B or rf scan that completes in this session (or in a run folder added by hand) is analysed
on a worker thread with kmor.analysis (load_scan, fit_bscan / fit_rfscan); the extrapolations are
kmor.analysis.zeeman.extrapolate_widths and kmor.analysis.hyperfine.extrapolate_hyperfine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from kmor.analysis.constants import K39_HFS_REFERENCE_HZ
from kmor.analysis.files import load_scan
from kmor.analysis.hyperfine import extrapolate_hyperfine, fit_rfscan
from kmor.analysis.nmor_fit import gamma_nmor_hz
from kmor.analysis.zeeman import extrapolate_widths, fit_bscan
from kmor.gui.forms import ERROR_STYLE
from kmor.gui.livefit import LiveFitter
from kmor.gui.panels.base import Panel, scan_kind
from kmor.gui.plots import FIT_COLOR, make_plot
from kmor.gui.session import Session
from kmor.sequences import events as ev
from kmor.sequences.events import Event
from kmor.storage import list_scans

LINE_COLORS = {"D1": "#1f77b4", "D2": "#9467bd"}
RF_COLORS = ("#2ca02c", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


def analyse_scan(path: str) -> tuple[str, Any]:
    """(kind, BScanResult | RfScanResult) of one scan file (worker thread)."""
    kind = scan_kind(path)
    data = load_scan(path)
    if kind == "bscan":
        return kind, fit_bscan(data)
    return kind, fit_rfscan(data)


class ResultsPanel(Panel):
    """The Results tab."""

    title = "Results"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.x_max = QLineEdit("10")
        self.x_max.setMaximumWidth(70)
        self.x_max.setToolTip("only scans at or below this light power enter the straight line (uW)")
        self.x_max.editingFinished.connect(self.recompute)
        self.x_max_error = QLabel("")
        self.x_max_error.setStyleSheet(ERROR_STYLE)
        self.add_button = QPushButton("Add run folder…")
        self.add_button.clicked.connect(self._choose_folder)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.zeeman_label = QLabel("NMOR widths appear here as B scans finish.")
        self.zeeman_label.setWordWrap(True)
        self.rf_label = QLabel("0-0 widths appear here as rf scans finish.")
        self.rf_label.setWordWrap(True)
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(ERROR_STYLE)
        self.zeeman_plot = make_plot("NMOR width versus light power (extrapolated to zero)",
                                     "light power", "µW", "width ΔB", "µG", si_y=False, grid=True)
        self.zeeman_plot.addLegend(offset=(10, 10))
        self.rf_plot = make_plot("0-0 FWHM versus light power, per rf power", "light power", "µW",
                                 "FWHM", "Hz", si_y=False, grid=True)
        self.rf_plot.addLegend(offset=(10, 10))
        self.analyser = LiveFitter(self, latest_only=False)
        self.analyser.done.connect(self._analysed)
        self.bscans: dict[str, Any] = {}
        self.rfscans: dict[str, Any] = {}
        self.zeeman: dict[str, Any] = {}
        self.hyperfine: Any = None
        self._problems: dict[str, str] = {}

        controls = QHBoxLayout()
        controls.addWidget(QLabel("straight line through scans up to"))
        controls.addWidget(self.x_max)
        controls.addWidget(QLabel("µW"))
        controls.addWidget(self.x_max_error)
        controls.addStretch(1)
        controls.addWidget(self.add_button)
        controls.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.zeeman_plot, 3)
        layout.addWidget(self.zeeman_label)
        layout.addWidget(self.rf_plot, 2)
        layout.addWidget(self.rf_label)
        layout.addWidget(self.problems)

    # ------------------------------------------------------------------ inputs
    def on_events(self, events: list[Event]) -> None:
        for e in events:
            if e.kind == ev.SCAN_FINISHED and e.status == "complete" and scan_kind(e.scan) in ("bscan", "rfscan"):
                self.add_file(e.scan)

    def add_file(self, path: str | Path) -> None:
        """Analyse one scan file (on the worker thread) and add it to the plots."""
        self.analyser.request(str(path), analyse_scan, str(path))

    def add_folder(self, folder: str | Path) -> int:
        """Analyse every B and rf scan of a run folder; returns how many were queued."""
        n = 0
        for path in list_scans(folder):
            if scan_kind(str(path)) in ("bscan", "rfscan"):
                self.add_file(path)
                n += 1
        return n

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder", str(self.session.data_dir))
        if folder:
            self.add_folder(folder)

    def clear(self) -> None:
        self.bscans.clear()
        self.rfscans.clear()
        self._problems.clear()
        self.recompute()

    def _analysed(self, path: str, result: Any) -> None:
        if isinstance(result, Exception):
            self._problems[path] = f"{Path(path).name}: {result}"
        else:
            kind, value = result
            (self.bscans if kind == "bscan" else self.rfscans)[path] = value
            self._problems.pop(path, None)
        self.recompute()

    def busy(self) -> bool:
        """Analyses still queued or running."""
        return not self.analyser.idle

    # ------------------------------------------------------------------ drawing
    def recompute(self) -> None:
        try:
            x_max = float(self.x_max.text())
            if not x_max > 0:
                raise ValueError
            self.x_max_error.setText("")
        except ValueError:
            self.x_max_error.setText("enter a light power > 0 µW")
            return
        self._draw_zeeman(x_max)
        self._draw_rf(x_max)
        self.problems.setText("\n".join(f"not analysed: {p}" for p in self._problems.values()))

    def _draw_zeeman(self, x_max: float) -> None:
        plot = self.zeeman_plot
        plot.clear()
        results = list(self.bscans.values())
        self.zeeman = extrapolate_widths(results, x_max_uW=x_max) if results else {}
        lines = []
        for line, z in self.zeeman.items():
            color = LINE_COLORS.get(line, "#333333")
            p = np.array([s.light_power_uW for s in z.scans])
            w = np.array([s.fit.width_uG for s in z.scans])
            e = np.array([s.fit.width_err_uG for s in z.scans])
            plot.addItem(pg.ErrorBarItem(x=p, y=w, height=2 * e, pen=pg.mkPen(color)))
            plot.plot(p, w, pen=None, symbol="o", symbolBrush=color, symbolPen=None, name=f"{line} scans")
            ex = z.extrapolation
            if ex is None:
                lines.append(f"{line}: {len(z.scans)} scan(s); {z.note}")
                continue
            xs = np.array([0.0, max(float(p.max()), x_max)])
            plot.plot(xs, ex.predict(xs), pen=pg.mkPen(FIT_COLOR, width=2), name=f"{line} straight line")
            plot.addItem(pg.ErrorBarItem(x=np.array([0.0]), y=np.array([ex.intercept]),
                                         height=np.array([2 * ex.intercept_err]), pen=pg.mkPen(FIT_COLOR)))
            plot.plot([0.0], [ex.intercept], pen=None, symbol="s", symbolBrush=FIT_COLOR, symbolPen=None,
                      name=f"{line} at zero power")
            lines.append(f"{line}: ΔB0 = {ex.intercept:.3g} ± {ex.intercept_err:.2g} µG  →  γ/2π = "
                         f"{gamma_nmor_hz(ex.intercept):.3g} ± {gamma_nmor_hz(ex.intercept_err):.2g} Hz   "
                         f"(slope {ex.slope:.3g} ± {ex.slope_err:.2g} µG/µW, {ex.n_points} scans ≤ {x_max:g} µW, "
                         f"χ²red {ex.chi2_red:.2g})")
        self.zeeman_label.setText("\n".join(lines) if lines else "NMOR widths appear here as B scans finish.")

    def _draw_rf(self, x_max: float) -> None:
        plot = self.rf_plot
        plot.clear()
        narrow = [r for r in self.rfscans.values() if r.fit is not None]
        if not narrow:
            self.rf_label.setText("0-0 widths appear here as rf scans finish.")
            self.hyperfine = None
            return
        self.hyperfine = extrapolate_hyperfine(list(self.rfscans.values()), light_x_max_uW=x_max)
        levels = sorted({r.rf_power_dBm for r in narrow if r.rf_power_dBm is not None})
        for i, level in enumerate(levels):
            color = RF_COLORS[i % len(RF_COLORS)]
            group = [r for r in narrow if r.rf_power_dBm == level]
            p = np.array([r.light_power_uW for r in group])
            w = np.array([r.fit.fwhm_hz for r in group])
            e = np.array([r.fit.fwhm_err_hz for r in group])
            plot.addItem(pg.ErrorBarItem(x=p, y=w, height=2 * e, pen=pg.mkPen(color)))
            plot.plot(p, w, pen=None, symbol="o", symbolBrush=color, symbolPen=None, name=f"{level:g} dBm")
            fitted = next((g for g in self.hyperfine.groups if g.rf_power_dBm == level and g.fwhm_fit), None)
            if fitted is not None:
                xs = np.array([0.0, max(float(p.max()), x_max)])
                plot.plot(xs, fitted.fwhm_fit.predict(xs), pen=pg.mkPen(color, width=1.5))
        h = self.hyperfine
        text = [f"{len(narrow)} rf scan(s) at {len(levels)} rf power(s); centres relative to "
                f"{K39_HFS_REFERENCE_HZ:,.1f} Hz: " + ", ".join(
                    f"{r.fit.center_hz - K39_HFS_REFERENCE_HZ:+.3g}" for r in narrow) + " Hz"]
        if h.fwhm_hz is not None:
            text.append(f"zero light and rf power: FWHM = {h.fwhm_hz:.3g} ± {h.fwhm_err_hz:.2g} Hz, "
                        f"shift = {h.shift_hz:+.3g} ± {h.shift_err_hz:.2g} Hz")
        else:
            text += list(h.notes[:1])
        self.rf_label.setText("\n".join(text))

    def shutdown(self) -> None:
        self.analyser.shutdown()
