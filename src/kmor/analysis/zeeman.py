"""Zeeman relaxation from triangular Bz scans: fit every scan (down and up sweeps separately and
together), then extrapolate the widths to zero light power (the paper's Figs. 3-5 and Eq. 1).

Fields in uG, light powers in uW, the rotation signal is the polarimeter lock-in X in V.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .extrapolation import LineFit, extrapolate_to_zero
from .fitcore import FitError
from .files import ScanData, ScanProblem, good_point_mask, laser_line, nominal_light_uW
from .nmor_fit import NmorFit, fit_nmor, gamma_nmor_hz

FIELD_COLUMNS = ("field_uG", "field_set_uG", "set_field_uG", "bz_uG", "field_bz_uG")
"""Field columns in order of preference: the coil read-back first, then the set value."""
SIGNAL_COLUMNS = ("x_V", "X_V", "rotation_V", "x")
LIGHT_COLUMNS = ("light_power_uW", "light_uW", "power_uW")
DIRECTION_COLUMNS = ("sweep", "direction")
MIN_SWEEP_POINTS = 12


@dataclass(frozen=True)
class BScanResult:
    """Fits of one triangular B scan.

    `fit` uses every good point (both sweeps); `sweeps` holds the down and up sweeps fitted on
    their own (a sweep that could not be fitted is in `notes`). `nested` is the two-component fit
    (F=2 and the narrow F=1 feature) for high-power scans. `light_power_uW` is the mean measured
    power over the fitted points, `nominal_power_uW` the one asked for (for grouping and cuts).
    `field_uG`, `signal_V` and `direction` are the fitted points, kept for the figures.
    """

    file: str
    status: str
    line: str
    light_power_uW: float
    light_power_std_uW: float
    nominal_power_uW: float
    n_points: int
    excluded: dict[str, int]
    field_column: str
    fit: NmorFit
    sweeps: dict[str, NmorFit]
    nested: NmorFit | None
    notes: tuple[str, ...]
    signal_err_median_V: float | None
    field_uG: NDArray[np.float64] = field(repr=False, compare=False)
    signal_V: NDArray[np.float64] = field(repr=False, compare=False)
    direction: NDArray[np.str_] = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (no point arrays)."""
        return {
            "file": self.file, "status": self.status, "line": self.line,
            "light_power_uW": self.light_power_uW, "light_power_std_uW": self.light_power_std_uW,
            "nominal_power_uW": self.nominal_power_uW, "n_points_fitted": self.n_points,
            "excluded_points": dict(self.excluded), "field_column": self.field_column,
            "width_uG": _value(self.fit.width_uG, self.fit.width_err_uG, "uG"),
            "center_uG": _value(self.fit.center_uG, self.fit.center_err_uG, "uG"),
            "gamma_hz": _value(gamma_nmor_hz(self.fit.width_uG), gamma_nmor_hz(self.fit.width_err_uG), "Hz"),
            "signal_err_median_V": self.signal_err_median_V,
            "fit": _fit_dict(self.fit),
            "sweeps": {k: _fit_dict(v) for k, v in self.sweeps.items()},
            "nested": None if self.nested is None else {
                "components": [_fit_dict(c) for c in self.nested.components],
                "chi2_red": self.nested.chi2_red, "residual_rms": self.nested.residual_rms},
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ZeemanResult:
    """Widths versus light power for one laser line, and their straight line to zero power.

    `extrapolation` is None when fewer than 3 scans lie at or below `x_max_uW` (see `note`).
    `delta_b0_uG` is the zero-power width (the paper's DeltaB = 2.9(9) uG on D1) and `gamma_hz` the
    Zeeman relaxation rate gamma/2pi from it; errors are inflated to make chi2_red 1, as the paper.
    """

    line: str
    scans: tuple[BScanResult, ...]
    used: tuple[bool, ...]
    x_max_uW: float
    extrapolation: LineFit | None
    note: str = ""

    @property
    def delta_b0_uG(self) -> float | None:
        return None if self.extrapolation is None else self.extrapolation.intercept

    @property
    def delta_b0_err_uG(self) -> float | None:
        return None if self.extrapolation is None else self.extrapolation.intercept_err

    @property
    def gamma_hz(self) -> float | None:
        return None if self.extrapolation is None else gamma_nmor_hz(self.extrapolation.intercept)

    @property
    def gamma_err_hz(self) -> float | None:
        return None if self.extrapolation is None else gamma_nmor_hz(self.extrapolation.intercept_err)

    def as_dict(self) -> dict[str, Any]:
        ex = self.extrapolation
        return {
            "line": self.line,
            "x_max_uW": self.x_max_uW,
            "delta_b0_uG": None if ex is None else _value(ex.intercept, ex.intercept_err, "uG"),
            "gamma_hz": None if ex is None else _value(self.gamma_hz, self.gamma_err_hz, "Hz"),
            "slope_uG_per_uW": None if ex is None else _value(ex.slope, ex.slope_err, "uG/uW"),
            "chi2_red": None if ex is None else ex.chi2_red,
            "error_scale": None if ex is None else ex.error_scale,
            "n_points": 0 if ex is None else ex.n_points,
            "points": [{"file": s.file, "light_power_uW": s.light_power_uW,
                        "nominal_power_uW": s.nominal_power_uW,
                        "width_uG": _value(s.fit.width_uG, s.fit.width_err_uG, "uG"),
                        "used_in_extrapolation": u} for s, u in zip(self.scans, self.used)],
            "files": [s.file for s, u in zip(self.scans, self.used) if u],
            "note": self.note,
        }


def fit_bscan(scan: ScanData, nested_min_power_uW: float = 80.0) -> BScanResult:
    """Fit one B scan: both sweeps together, each sweep alone, and (at or above
    `nested_min_power_uW`) the nested two-component shape.

    Raises ScanProblem (missing column, too few good points) or FitError (the combined fit
    failed); a failing single sweep or nested fit is only noted.
    """
    field_name = _first_finite(scan, FIELD_COLUMNS)
    field_uG = scan.column([field_name] if field_name else FIELD_COLUMNS, "uG", "the Bz field")
    signal = scan.column(SIGNAL_COLUMNS, "V", "the polarimeter lock-in X")
    light = scan.column(LIGHT_COLUMNS, "uW", "the measured light power")
    keep, excluded = good_point_mask(scan, [field_uG, signal])
    if keep.sum() < MIN_SWEEP_POINTS:
        raise ScanProblem(f"only {int(keep.sum())} good points of {scan.n_points} (need >= {MIN_SWEEP_POINTS})")
    light_ok = keep & np.isfinite(light)
    if not light_ok.any():
        raise ScanProblem("the light-power column has no finite value at the good points")
    power = float(np.mean(light[light_ok]))
    direction = _directions(scan, field_uG)[keep]
    x, y = field_uG[keep], signal[keep]
    fit = fit_nmor(x, y)
    _require_resonance_inside(fit.center_uG, fit.width_uG, x)
    notes: list[str] = []
    sweeps: dict[str, NmorFit] = {}
    for sweep in ("down", "up"):
        sel = direction == sweep
        if sel.sum() < MIN_SWEEP_POINTS:
            if sel.any():
                notes.append(f"{sweep} sweep: only {int(sel.sum())} points, not fitted alone")
            continue
        try:
            sweeps[sweep] = fit_nmor(x[sel], y[sel])
        except FitError as exc:
            notes.append(f"{sweep} sweep fit failed: {exc}")
    nested = None
    if power >= nested_min_power_uW:
        try:
            nested = fit_nmor(x, y, components=2)
        except FitError as exc:
            notes.append(f"nested two-component fit: {exc}")
    err_name = scan.has("x_err_V", "x_std_V")
    err_median = None
    if err_name is not None:
        errs = scan.column([err_name], "V")[keep]
        errs = errs[np.isfinite(errs)]
        err_median = float(np.median(errs)) if errs.size else None
    if scan.status not in ("complete",):
        notes.append(f"file status {scan.status}: analysed the {scan.n_points} points it holds")
    return BScanResult(
        file=str(scan.path), status=scan.status, line=laser_line(scan), light_power_uW=power,
        light_power_std_uW=float(np.std(light[light_ok])), nominal_power_uW=nominal_light_uW(scan, power),
        n_points=int(keep.sum()), excluded=excluded, field_column=field_name or FIELD_COLUMNS[0],
        fit=fit, sweeps=sweeps, nested=nested, notes=tuple(notes), signal_err_median_V=err_median,
        field_uG=x, signal_V=y, direction=direction)


def _require_resonance_inside(center_uG: float, width_uG: float, field_uG: np.ndarray) -> None:
    """A width is only measured when both extrema of the dispersive curve lie inside the scanned
    field range; a fragment (say, an aborted scan's first few points) gives an extrapolated guess."""
    low, high = float(np.min(field_uG)), float(np.max(field_uG))
    if center_uG - width_uG / 2 < low or center_uG + width_uG / 2 > high:
        raise ScanProblem(f"the resonance is not inside the scanned field: fitted extrema at "
                          f"{center_uG - width_uG / 2:.4g} and {center_uG + width_uG / 2:.4g} uG, "
                          f"data from {low:.4g} to {high:.4g} uG")


def extrapolate_widths(results: list[BScanResult], x_max_uW: float = 10.0) -> dict[str, ZeemanResult]:
    """Per laser line: a weighted straight line through width versus measured light power over the
    scans asked for at most `x_max_uW` (nominal power, 0.1 % tolerance), intercept = DeltaB0.

    Each scan is one point (its combined down+up fit). Errors are the fits' width errors, inflated
    so the reduced chi-square is 1 when it exceeds 1 (the paper's Fig. 4).
    """
    out: dict[str, ZeemanResult] = {}
    for line in sorted({r.line for r in results}):
        scans = sorted((r for r in results if r.line == line), key=lambda r: r.light_power_uW)
        used = tuple(r.nominal_power_uW <= x_max_uW * (1 + 1e-3) for r in scans)
        low = [r for r, u in zip(scans, used) if u]
        extrapolation, note = None, ""
        if len({round(r.light_power_uW, 6) for r in low}) < 2 or len(low) < 3:
            note = (f"needs >= 3 scans at <= {x_max_uW:g} uW (two different powers at least); "
                    f"{len(low)} available")
        else:
            try:
                extrapolation = extrapolate_to_zero([r.light_power_uW for r in low],
                                                    [r.fit.width_uG for r in low],
                                                    [r.fit.width_err_uG for r in low])
            except FitError as exc:
                note = f"extrapolation failed: {exc}"
        out[line] = ZeemanResult(line=line, scans=tuple(scans), used=used if extrapolation else
                                 tuple(False for _ in scans), x_max_uW=x_max_uW,
                                 extrapolation=extrapolation, note=note)
    return out


def _first_finite(scan: ScanData, names: tuple[str, ...]) -> str | None:
    """The first of `names` present, numeric and finite at some point (a read-back column that
    could not be read, all NaN, gives way to the set value)."""
    for name in names:
        data = scan.columns.get(name)
        if data is not None and data.dtype.kind in "biuf" and np.isfinite(data.astype(float)).any():
            return name
    return None


def _directions(scan: ScanData, field_uG: NDArray[np.float64]) -> NDArray[np.str_]:
    """"down"/"up" per point: from the sweep column, else from the step that led to the point (a
    repeated turning point, reached by no step, belongs to the sweep that leaves it)."""
    name = scan.has(*DIRECTION_COLUMNS)
    if name is not None and scan.columns[name].dtype.kind == "U":
        return np.char.lower(np.char.strip(scan.columns[name]))
    n = field_uG.size
    out = np.full(n, "", dtype="<U4")
    if n < 2:
        return out
    step = np.sign(np.diff(np.nan_to_num(field_uG)))
    into = np.concatenate([[step[0]], step])
    leaving = np.append(step, 0.0)
    sign = np.where(into != 0, into, leaving)
    out[sign < 0] = "down"
    out[sign > 0] = "up"
    return out


def _value(value: float | None, error: float | None, units: str) -> dict[str, Any]:
    return {"value": value, "error": error, "units": units}


def _fit_dict(fit: NmorFit) -> dict[str, Any]:
    d = fit.as_dict()
    for key in ("components", "param_names", "covariance"):
        d.pop(key, None)
    return d


__all__ = ["BScanResult", "ZeemanResult", "extrapolate_widths", "fit_bscan"]
