"""rf scan: settings, run buttons, the spectrum of the current repeat and the running average over
repeats, the Lorentzian fit of the average with its FWHM and its centre relative to the paper's
461,719,720.1 Hz reference.

Points of any rf scan (from this panel or a batch) are drawn. The average is per set frequency
over the repeats so far (kmor.sequences.rfscan.RunningMean, the same as the scan stores at its
end); the fit is `kmor.analysis.fit_lorentzian` on it, on the LiveFitter's thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kmor.analysis import fit_lorentzian
from kmor.analysis.constants import K39_HFS_REFERENCE_HZ
from kmor.gui.buffers import Columns
from kmor.gui.forms import ParamForm
from kmor.gui.livefit import LiveFitter
from kmor.gui.panels.base import rows_from_file, scan_kind
from kmor.gui.panels.measure import MeasurementPanel, Preparer
from kmor.gui.plots import AVERAGE_COLOR, FIT_COLOR, GREY, make_curve, make_plot, set_curve
from kmor.gui.session import Session
from kmor.sequences import events as ev
from kmor.sequences import rfscan as rf_seq
from kmor.sequences.events import Event
from kmor.sequences.rfscan import RfScanParams, RunningMean

FIELDS = ("center_hz", "span_hz", "step_hz", "settle_s", "rf_power_dBm", "repeats",
          "light_power_uW", "bz_uG")
DEMO_VALUES = {"repeats": 3, "light_power_uW": 5.0}
"""Start values in the window (config/sequences/demo.toml): 101 steps, 3 repeats (about 100 s at
real-time speed), 5 uW, at the schema's -30 dBm."""
MIN_FIT_POINTS = 8
FIT_INTERVAL_S = 0.5


def fit_average(freq_hz: np.ndarray, signal_V: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
    """fit_lorentzian on the averaged spectrum, and the curve across it (worker thread)."""
    fit = fit_lorentzian(freq_hz, signal_V)
    fs = np.linspace(float(freq_hz.min()), float(freq_hz.max()), 400)
    return fit, fs, fit.curve(fs)


def describe_fit(fit: Any, n_repeats: int) -> str:
    center = fit.center_hz - K39_HFS_REFERENCE_HZ
    return (f"FWHM = {fit.fwhm_hz:.4g} ± {fit.fwhm_err_hz:.2g} Hz      centre = {center:+.4g} ± "
            f"{fit.center_err_hz:.2g} Hz from 461,719,720.1 Hz      (average of {n_repeats} repeat"
            f"{'s' if n_repeats != 1 else ''})")


class RunningSpectrum:
    """Running mean per set frequency; frequencies get slots as they first appear."""

    def __init__(self) -> None:
        self.slots: dict[float, int] = {}
        self.freqs = np.empty(0)
        self.mean = RunningMean(0)

    def clear(self) -> None:
        self.slots = {}
        self.freqs = np.empty(0)
        self.mean = RunningMean(0)

    def add(self, freq_hz: float, value: float) -> None:
        k = self.slots.get(freq_hz)
        if k is None:
            k = len(self.slots)
            self.slots[freq_hz] = k
            if k >= self.freqs.size:
                self._grow(max(64, 2 * self.freqs.size))
            self.freqs[k] = freq_hz
        self.mean.add(k, value)

    def _grow(self, n: int) -> None:
        old, m = self.freqs, self.mean
        self.freqs = np.full(n, np.nan)
        self.freqs[:old.size] = old
        self.mean = RunningMean(n)
        self.mean.count[:old.size] = m.count
        self.mean.mean[:old.size] = m.mean
        self.mean._m2[:old.size] = m._m2  # noqa: SLF001 - same algorithm, resized

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """(frequency Hz, mean) of the frequencies seen so far, in frequency order."""
        n = len(self.slots)
        order = np.argsort(self.freqs[:n])
        return self.freqs[:n][order], self.mean.values()[:n][order]


class RfScanPanel(MeasurementPanel):
    """The rf scan tab."""

    title = "rf scan"
    kind = "rfscan"
    batch_name = "gui-rfscan"

    def __init__(self, session: Session, prepare: Preparer, parent: QWidget | None = None) -> None:
        super().__init__(session, prepare, parent)
        config = session.config
        values = dict(DEMO_VALUES)
        if not config.daq.attenuator_ao:
            values["light_power_uW"] = 0.0
        self.form = ParamForm(RfScanParams, FIELDS, title="rf scan", config=config, limits_kind="rfscan",
                              values=values, labels={"center_hz": "window centre", "span_hz": "window span",
                                                     "step_hz": "step", "settle_s": "settling",
                                                     "rf_power_dBm": "rf amplitude", "bz_uG": "Bz"})
        self.plot = make_plot("0-0 hyperfine line: transmission versus rf frequency",
                              "rf detuning from 461,719,720.1 Hz", "Hz", "transmission", "V")
        self.plot.addLegend(offset=(10, 10))
        self.repeat_curve = make_curve(self.plot, GREY, "current repeat")
        self.average_curve = make_curve(self.plot, AVERAGE_COLOR, "running average", width=2.0)
        self.fit_curve = make_curve(self.plot, FIT_COLOR, "Lorentzian fit", symbol=None, width=2.0)
        self.current = Columns(("df_hz", "transmission_V"))
        self.spectrum = RunningSpectrum()
        self.result = QLabel("FWHM and centre appear here once the average has a few points")
        self.result.setWordWrap(True)
        self.scan_label = QLabel("")
        self.fitter = LiveFitter(self)
        self.fitter.done.connect(self._fitted)
        self._scan = ""
        self._repeat = -1
        self._n = 0
        self._dirty = False
        self.last_fit: Any = None
        self.last_fit_n = 0
        """Points (all repeats) behind the average the last fit shown used."""

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.scan_label)
        rl.addWidget(self.plot, 1)
        rl.addWidget(self.result)
        layout = QHBoxLayout(self)
        layout.addWidget(self.settings_column(self.form))
        layout.addWidget(right, 1)
        self.zeroing.hide()  # the rf line does not need the transverse fields nulled
        self.update_estimate()

    def measurement(self) -> RfScanParams | None:
        return self.form.validate()

    def update_estimate(self) -> None:
        params = self.form.validate()
        if params is None:
            self.estimate.setText("")
            return
        n = rf_seq.frequencies_hz(params).size
        lab_s = rf_seq.estimate_s(params, self.session.config.limits.max_ramp_uG_per_s)
        self.estimate.setText(f"{n} frequencies x {params.repeats} repeats, about {lab_s / 60:.1f} min of lab time")

    # ------------------------------------------------------------------ data
    def on_events(self, events: list[Event]) -> None:
        for e in events:
            if e.kind == ev.POINT:
                if e.scan == self._scan and e.row is not None:
                    self._add(e.row)
            elif e.kind == ev.SCAN_STARTED and scan_kind(e.scan) == "rfscan":
                self._scan = e.scan
                self.current.clear()
                self.spectrum.clear()
                self._repeat = -1
                self._n = 0
                self.fitter.forget()
                self.fit_curve.setData([], [])
                self.last_fit = None
                self.last_fit_n = 0
                self.result.setText("fit: waiting for points")
                self.scan_label.setText(f"{e.label}: running — {e.scan}")
                self._dirty = True
            elif e.kind == ev.SCAN_FINISHED and e.scan == self._scan:
                self.scan_label.setText(f"{e.label}: {e.status}, {e.index} points — {e.scan}")
                self._reload_from_file(e.scan)
                self._request_fit(force=True)

    def _reload_from_file(self, path: str) -> None:
        """Redraw the finished scan from its file (the live view may have missed points)."""
        rows = rows_from_file(path, ("freq_set_hz", "transmission_V"))
        if rows is None:
            return
        self.current.clear()
        self.spectrum.clear()
        self._repeat = -1
        self._n = 0
        repeats = rows.get("repeat", np.zeros(len(rows["freq_set_hz"])))
        for f, v, r in zip(rows["freq_set_hz"], rows["transmission_V"], repeats):
            self._add({"freq_set_hz": f, "transmission_V": v, "repeat": r})

    def _add(self, row: Any) -> None:
        repeat = int(row.get("repeat", 0))
        if repeat != self._repeat:
            self._repeat = repeat
            self.current.clear()
        f = float(row["freq_set_hz"])
        value = float(row["transmission_V"])
        self.current.append(f - K39_HFS_REFERENCE_HZ, value)
        self.spectrum.add(f, value)
        self._n += 1
        self._dirty = True

    def plots(self) -> list:
        return [self.plot]

    def n_points(self) -> int:
        return self._n

    def refresh(self) -> bool:
        changed = self._dirty
        if changed:
            set_curve(self.repeat_curve, self.current.view("df_hz"), self.current.view("transmission_V"))
            f, mean = self.spectrum.sorted()
            set_curve(self.average_curve, f - K39_HFS_REFERENCE_HZ, mean)
            self._dirty = False
            self._request_fit()
        return changed

    def _request_fit(self, force: bool = False) -> None:
        f, mean = self.spectrum.sorted()
        keep = np.isfinite(mean)
        if not self.fitter.due(int(keep.sum()), self._n, min_points=MIN_FIT_POINTS, minimum_s=FIT_INTERVAL_S,
                               force=force):
            return
        self.fitter.request((self._scan, self._repeat + 1, self._n), fit_average, f[keep], mean[keep])

    def _fitted(self, token: tuple[str, int, int], result: Any) -> None:
        scan, repeats, n = token
        if scan != self._scan:
            return
        if isinstance(result, Exception):
            self.result.setText(f"fit: not yet — {result}")
            return
        fit, fs, curve = result
        self.last_fit, self.last_fit_n = fit, n
        self.fit_curve.setData(fs - K39_HFS_REFERENCE_HZ, curve)
        self.result.setText(describe_fit(fit, repeats))

    def shutdown(self) -> None:
        self.fitter.shutdown()
