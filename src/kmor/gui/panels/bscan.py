"""B-field scan: settings, Start/Pause/Resume/Abort, the rotation versus Bz as it is measured
(down and up sweeps in two colours), the dispersive fit over it and the width and gamma/2pi.

Points of any B scan (from this panel or a batch) are drawn; the fit is `kmor.analysis.fit_nmor`
on every point so far (both sweeps), run by the LiveFitter at most twice a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kmor.analysis import fit_nmor, gamma_nmor_hz
from kmor.gui.buffers import Columns
from kmor.gui.forms import ParamForm
from kmor.gui.livefit import LiveFitter
from kmor.gui.panels.base import rows_from_file, scan_kind
from kmor.gui.panels.measure import MeasurementPanel, Preparer
from kmor.gui.plots import DOWN_COLOR, FIT_COLOR, GREY, UP_COLOR, make_curve, make_plot, set_curve
from kmor.gui.session import Session
from kmor.sequences import bscan as bscan_seq
from kmor.sequences import events as ev
from kmor.sequences.bscan import BScanParams
from kmor.sequences.events import Event

FIELDS = ("field_range_uG", "step_uG", "averages", "time_constant_s", "settle_factor",
          "light_power_uW", "directions")
DEMO_VALUES = {"field_range_uG": 60.0, "step_uG": 1.0, "averages": 2, "time_constant_s": 0.03,
               "light_power_uW": 3.0}
"""Start values in the window: a 242-point scan of about two minutes at real-time speed (the
schema defaults are the paper's +-800 uG scan, an hour long)."""
MIN_FIT_POINTS = 12
FIT_INTERVAL_S = 0.5
FIT_CURVE_POINTS = 400


def fit_points(field_uG: np.ndarray, signal_V: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
    """fit_nmor on the points so far, and the fitted curve across them (worker thread)."""
    fit = fit_nmor(field_uG, signal_V)
    xs = np.linspace(float(np.min(field_uG)), float(np.max(field_uG)), FIT_CURVE_POINTS)
    return fit, xs, fit.curve(xs)


def describe_fit(fit: Any, n: int) -> str:
    """'width 5.62 +- 0.08 uG, gamma/2pi 3.94 +- 0.06 Hz ...' for the label under the plot."""
    return (f"width ΔB = {fit.width_uG:.4g} ± {fit.width_err_uG:.2g} µG      "
            f"γ/2π = {gamma_nmor_hz(fit.width_uG):.4g} ± {gamma_nmor_hz(fit.width_err_uG):.2g} Hz      "
            f"centre {fit.center_uG:.3g} ± {fit.center_err_uG:.2g} µG      ({n} points)")


class BScanPanel(MeasurementPanel):
    """The B-field scan tab."""

    title = "B-field scan"
    kind = "bscan"
    batch_name = "gui-bscan"

    def __init__(self, session: Session, prepare: Preparer, parent: QWidget | None = None) -> None:
        super().__init__(session, prepare, parent)
        config = session.config
        values = dict(DEMO_VALUES)
        if not config.daq.attenuator_ao:
            values["light_power_uW"] = 0.0
        self.form = ParamForm(BScanParams, FIELDS, title="B-field scan", config=config,
                              limits_kind="bscan", values=values,
                              labels={"settle_factor": "settling (x lock-in settle time)",
                                      "time_constant_s": "time constant"})
        self.plot = make_plot("NMOR rotation versus field", "Bz", "µG", "rotation signal (lock-in X)", "V")
        self.plot.addLegend(offset=(10, 10))
        self.curves = {"down": make_curve(self.plot, DOWN_COLOR, "down sweep"),
                       "up": make_curve(self.plot, UP_COLOR, "up sweep"),
                       "": make_curve(self.plot, GREY, None)}
        self.fit_curve = make_curve(self.plot, FIT_COLOR, "fit", symbol=None, width=2.0)
        self.data = {sweep: Columns(("field_uG", "x_V")) for sweep in self.curves}
        self.result = QLabel("width ΔB and γ/2π appear here once a scan has a dozen points")
        self.result.setWordWrap(True)
        self.scan_label = QLabel("")
        self.fitter = LiveFitter(self)
        self.fitter.done.connect(self._fitted)
        self._scan = ""
        self._dirty = False
        self.last_fit: Any = None
        self.last_fit_n = 0
        """Points the last fit shown used."""

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.scan_label)
        rl.addWidget(self.plot, 1)
        rl.addWidget(self.result)
        layout = QHBoxLayout(self)
        layout.addWidget(self.settings_column(self.form))
        layout.addWidget(right, 1)
        self.update_estimate()

    # ------------------------------------------------------------------ settings
    def measurement(self) -> BScanParams | None:
        return self.form.validate()

    def update_estimate(self) -> None:
        params = self.form.validate()
        if params is None:
            self.estimate.setText("")
            return
        n = len(bscan_seq.scan_points(params))
        lab_s = bscan_seq.estimate_s(params, self.session.config.limits.max_ramp_uG_per_s)
        self.estimate.setText(f"{n} points, about {lab_s / 60:.1f} min of lab time for the scan")

    # ------------------------------------------------------------------ data
    def on_events(self, events: list[Event]) -> None:
        for e in events:
            if e.kind == ev.POINT:
                if e.scan == self._scan and e.row is not None:
                    row = e.row
                    field = row.get("field_uG", row.get("field_set_uG", np.nan))
                    sweep = row.get("sweep", "")
                    self.data[sweep if sweep in self.data else ""].append(float(field), float(row["x_V"]))
                    self._dirty = True
            elif e.kind == ev.SCAN_STARTED and scan_kind(e.scan) == "bscan":
                self._new_scan(e)
            elif e.kind == ev.SCAN_FINISHED and e.scan == self._scan:
                self.scan_label.setText(f"{e.label}: {e.status}, {e.index} points — {e.scan}")
                self._reload_from_file(e.scan)
                self._request_fit(force=True)

    def _reload_from_file(self, path: str) -> None:
        """Redraw the finished scan from its file: at full speed the live view may have been
        handed only some of the points (a slow display loses point events, never the file)."""
        rows = rows_from_file(path, ("x_V",))
        if rows is None:
            return
        field = rows.get("field_uG", rows.get("field_set_uG"))
        if field is None:
            raise ValueError(f"{path}: a B scan without a field_uG or field_set_uG column")
        sweeps = rows.get("sweep", np.full(len(rows["x_V"]), "", dtype=object))
        for columns in self.data.values():
            columns.clear(len(rows["x_V"]))
        for b, x, sweep in zip(field, rows["x_V"], sweeps):
            self.data[sweep if sweep in self.data else ""].append(float(b), float(x))
        self._dirty = True

    def _new_scan(self, e: Event) -> None:
        self._scan = e.scan
        per_sweep = (e.total or 0) // 2 + 1
        for columns in self.data.values():
            columns.clear(per_sweep)
        self.fit_curve.setData([], [])
        self.last_fit = None
        self.last_fit_n = 0
        self.fitter.forget()
        self.result.setText("fit: waiting for points")
        self.scan_label.setText(f"{e.label}: running — {e.scan}")
        self._dirty = True

    def plots(self) -> list:
        return [self.plot]

    def n_points(self) -> int:
        """Points of the current scan received by the panel."""
        return sum(c.n for c in self.data.values())

    def plotted_points(self) -> int:
        """Points drawn in the plot now."""
        total = 0
        for curve in self.curves.values():
            x, _ = curve.getData()
            total += 0 if x is None else len(x)
        return total

    def refresh(self) -> bool:
        changed = self._dirty
        if changed:
            for sweep, curve in self.curves.items():
                set_curve(curve, self.data[sweep].view("field_uG"), self.data[sweep].view("x_V"))
            self._dirty = False
        self._request_fit()
        return changed

    # ------------------------------------------------------------------ live fit
    def _request_fit(self, force: bool = False) -> None:
        n = self.n_points()
        if not self.fitter.due(n, n, min_points=MIN_FIT_POINTS, minimum_s=FIT_INTERVAL_S, force=force):
            return
        b = np.concatenate([c.view("field_uG") for c in self.data.values()])
        x = np.concatenate([c.view("x_V") for c in self.data.values()])
        keep = np.isfinite(b) & np.isfinite(x)
        self.fitter.request((self._scan, n), fit_points, b[keep], x[keep])

    def _fitted(self, token: tuple[str, int], result: Any) -> None:
        scan, n = token
        if scan != self._scan:
            return
        if isinstance(result, Exception):
            self.result.setText(f"fit ({n} points): not yet — {result}")
            return
        fit, xs, ys = result
        self.last_fit, self.last_fit_n = fit, n
        self.fit_curve.setData(xs, ys)
        self.result.setText(describe_fit(fit, n))

    def shutdown(self) -> None:
        self.fitter.shutdown()
