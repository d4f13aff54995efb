"""Results: the NMOR width versus light power with its straight line to zero power (the paper's
Fig. 4: DeltaB0 and gamma/2pi); the 0-0 FWHM versus light power per rf power with each rf power's
line to zero light, and those zero-light widths versus rf power with the line to zero rf power
(the paper's Fig. 10); filling in as scans finish.

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
        self.rf_zero_plot = make_plot("zero-light FWHM versus rf power", "rf power", "mW",
                                      "FWHM", "Hz", si_x=True, si_y=False, grid=True)
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
        rf_row = QHBoxLayout()
        rf_row.addWidget(self.rf_plot, 3)
        rf_row.addWidget(self.rf_zero_plot, 2)
        layout.addLayout(rf_row, 2)
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
            # scans in a ZeemanResult all have a width; the error bar is the one the straight line
            # uses: the fit's error scaled by sqrt(max(1, chi2_red)) of that scan's fit
            w = np.array([s.width_uG for s in z.scans])
            e = np.array([s.width_err_uG for s in z.scans])
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
        self.rf_zero_plot.clear()
        narrow = [r for r in self.rfscans.values() if r.fit is not None]
        if not narrow:
            self.rf_label.setText("0-0 widths appear here as rf scans finish.")
            self.hyperfine = None
            return
        self.hyperfine = extrapolate_hyperfine(list(self.rfscans.values()), light_x_max_uW=x_max)
        levels = sorted({r.rf_power_dBm for r in narrow if r.rf_power_dBm is not None})
        colors = {level: RF_COLORS[i % len(RF_COLORS)] for i, level in enumerate(levels)}
        for level, color in colors.items():
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
                plot.plot([0.0], [fitted.fwhm_fit.intercept], pen=None, symbol="s", symbolBrush=color,
                          symbolPen=None)
        self._draw_rf_zero(colors)
        self.rf_label.setText("\n".join(self._rf_text(narrow, levels)))

    def _draw_rf_zero(self, colors: dict[float, str]) -> None:
        """The zero-light widths per rf power and their straight line to zero rf power."""
        h, plot = self.hyperfine, self.rf_zero_plot
        groups = [g for g in h.groups if g.fwhm_fit is not None]
        if not groups:
            return
        mw = np.array([g.rf_power_mW for g in groups]) * 1e-3    # W: the axis shows SI prefixes
        w = np.array([g.fwhm_fit.intercept for g in groups])
        e = np.array([g.fwhm_fit.intercept_err for g in groups])
        for i, g in enumerate(groups):
            color = colors.get(g.rf_power_dBm, "#333333")
            plot.addItem(pg.ErrorBarItem(x=mw[i:i + 1], y=w[i:i + 1], height=2 * e[i:i + 1], pen=pg.mkPen(color)))
            plot.plot(mw[i:i + 1], w[i:i + 1], pen=None, symbol="s", symbolBrush=color, symbolPen=None)
        if h.fwhm_fit is not None:
            xs = np.array([0.0, float(mw.max())])
            plot.plot(xs, h.fwhm_fit.predict(xs * 1e3), pen=pg.mkPen(FIT_COLOR, width=2))
            plot.addItem(pg.ErrorBarItem(x=np.array([0.0]), y=np.array([h.fwhm_fit.intercept]),
                                         height=np.array([2 * h.fwhm_fit.intercept_err]), pen=pg.mkPen(FIT_COLOR)))
            plot.plot([0.0], [h.fwhm_fit.intercept], pen=None, symbol="o", symbolBrush=FIT_COLOR, symbolPen=None)
        plot.getPlotItem().setLabel("bottom", "rf power", units="W")

    def _rf_text(self, narrow: list[Any], levels: list[float]) -> list[str]:
        h = self.hyperfine
        text = [f"{len(narrow)} rf scan(s) at {len(levels)} rf power(s); centres relative to "
                f"{K39_HFS_REFERENCE_HZ:,.1f} Hz: " + ", ".join(
                    f"{r.fit.center_hz - K39_HFS_REFERENCE_HZ:+.3g}" for r in narrow[:12])
                + (", …" if len(narrow) > 12 else "") + " Hz"]
        zero_light = [f"{g.rf_power_dBm:g} dBm: {g.fwhm_fit.intercept:.3g} ± {g.fwhm_fit.intercept_err:.2g} Hz"
                      for g in h.groups if g.fwhm_fit is not None]
        if zero_light:
            text.append("zero-light FWHM: " + ", ".join(zero_light))
        if h.fwhm_hz is not None:
            text.append(f"zero light and rf power: FWHM = {h.fwhm_hz:.3g} ± {h.fwhm_err_hz:.2g} Hz, "
                        f"shift = {h.shift_hz:+.3g} ± {h.shift_err_hz:.2g} Hz")
        else:
            text += list(h.notes[:1])
        return text

    def shutdown(self) -> None:
        self.analyser.shutdown()
