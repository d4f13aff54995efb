"""The live fit `kmor watch` draws over the current scan, with kmor.analysis's own fit functions:
`fit_nmor` (dispersive NMOR resonance; width = the paper's DeltaB, peak to peak, in uG) for B
scans, `fit_lorentzian` (FWHM in Hz) on the running average over repeats for rf scans.

Fits run in the watch process, never in the run's, and at most once per `min_interval_s` per scan
whatever the number of open pages: every page gets the latest result (`LiveFits.get`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from kmor.analysis.fitcore import FitError
from kmor.analysis.lorentzian_fit import fit_lorentzian
from kmor.analysis.nmor_fit import fit_nmor
from kmor.analysis.numbers import format_pm

MIN_POINTS = 12
CURVE_POINTS = 200


def _array(values: Sequence[Any] | None) -> np.ndarray:
    if values is None:
        return np.array([], dtype=float)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def rf_average(freq_hz: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of `signal` over repeats at each distinct frequency (NaNs ignored), sorted by frequency."""
    ok = np.isfinite(freq_hz) & np.isfinite(signal)
    f, s = freq_hz[ok], signal[ok]
    if f.size == 0:
        return f, s
    uniq, inverse = np.unique(f, return_inverse=True)
    sums = np.bincount(inverse, weights=s, minlength=uniq.size)
    counts = np.bincount(inverse, minlength=uniq.size)
    return uniq, sums / counts


def fit_columns(kind: str, columns: dict[str, Sequence[Any]]) -> dict[str, Any]:
    """The fit of a scan's plotted columns: {"ok", "model", "width", "width_err", "center",
    "center_err", "units", "width_text", "center_text" (as the report writes them: the error to two
    significant digits, the value to match), "curve_x", "curve_y"} or {"ok": False, "reason"}."""
    try:
        if kind == "bscan":
            return _fit_bscan(columns)
        if kind == "rfscan":
            return _fit_rfscan(columns)
    except (FitError, ValueError, np.linalg.LinAlgError) as exc:
        return {"ok": False, "reason": str(exc)}
    return {"ok": False, "reason": f"no live fit for {kind or 'this'} scans"}


def _fit_bscan(columns: dict[str, Sequence[Any]]) -> dict[str, Any]:
    field = _array(columns.get("field_uG"))
    if field.size == 0 or not np.isfinite(field).any():
        field = _array(columns.get("field_set_uG"))
    signal = _array(columns.get("x_V"))
    ok = np.isfinite(field) & np.isfinite(signal)
    if ok.sum() < MIN_POINTS:
        return {"ok": False, "reason": f"waiting for {MIN_POINTS} points"}
    fit = fit_nmor(field[ok], signal[ok])
    x = np.linspace(field[ok].min(), field[ok].max(), CURVE_POINTS)
    return {"ok": True, "model": "NMOR dispersive", "width_name": "width DeltaB",
            "width": fit.width_uG, "width_err": fit.width_err_uG, "center": fit.center_uG,
            "center_err": fit.center_err_uG, "units": "uG", "n_points": int(ok.sum()),
            "width_text": format_pm(fit.width_uG, fit.width_err_uG, "uG"),
            "center_text": format_pm(fit.center_uG, fit.center_err_uG, "uG"),
            "curve_x": x.tolist(), "curve_y": fit.curve(x).tolist()}


def _fit_rfscan(columns: dict[str, Sequence[Any]]) -> dict[str, Any]:
    freq, signal = rf_average(_array(columns.get("freq_set_hz")), _array(columns.get("transmission_V")))
    if freq.size < MIN_POINTS:
        return {"ok": False, "reason": f"waiting for {MIN_POINTS} frequencies"}
    fit = fit_lorentzian(freq, signal)
    x = np.linspace(freq.min(), freq.max(), CURVE_POINTS)
    return {"ok": True, "model": "Lorentzian on the running average", "width_name": "FWHM",
            "width": fit.fwhm_hz, "width_err": fit.fwhm_err_hz, "center": fit.center_hz,
            "center_err": fit.center_err_hz, "units": "Hz", "n_points": int(freq.size),
            "width_text": format_pm(fit.fwhm_hz, fit.fwhm_err_hz, "Hz"),
            "center_text": format_pm(fit.center_hz, fit.center_err_hz, "Hz"),
            "curve_x": x.tolist(), "curve_y": fit.curve(x).tolist()}


class LiveFits:
    """Latest fit per key (run, scan), recomputed at most every `min_interval_s` and only for new
    points; one fit at a time in the whole server."""

    def __init__(self, min_interval_s: float = 1.0) -> None:
        self.min_interval_s = min_interval_s
        self._cache: dict[tuple[str, str], tuple[float, int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.fits_done = 0

    def get(self, key: tuple[str, str], kind: str, n_points: int,
            columns: dict[str, Sequence[Any]]) -> dict[str, Any]:
        with self._lock:
            cached = self._cache.get(key)
            now = time.monotonic()
            if cached is not None and (cached[1] == n_points or now - cached[0] < self.min_interval_s):
                return cached[2]
            result = fit_columns(kind, columns)
            self.fits_done += 1
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = (now, n_points, result)
            return result
