"""Zeeman relaxation from triangular Bz scans: fit every scan (down and up sweeps separately and
together), then extrapolate the widths to zero light power (the paper's Figs. 3-5 and Eq. 1).

Fields in uG, light powers in uW, the rotation signal is the polarimeter lock-in X in V.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .extrapolation import LineFit, extrapolate_to_zero
from .files import (ScanData, ScanProblem, good_point_mask, laser_line, nominal_light_uW,
                    polarimeter_V_per_rad)
from .fitcore import FitError
from .jackknife import delete_one_errors
from .nmor_fit import NmorFit, best_candidate_rss, fit_nmor, gamma_nmor_hz, weighted_rss
from .quality import (FITTED, NO_SIGNAL, SIGNIFICANCE_P, FitQuality, f_test_p, judge, lack_of_fit,
                      residual_correlation, weighted_line_rss)

FIELD_COLUMNS = ("field_uG", "field_set_uG", "set_field_uG", "bz_uG", "field_bz_uG")
"""Field columns in order of preference: the coil read-back first, then the set value."""
SIGNAL_COLUMNS = ("x_V", "X_V", "rotation_V", "x")
LIGHT_COLUMNS = ("light_power_uW", "light_uW", "power_uW")
DIRECTION_COLUMNS = ("sweep", "direction")
SET_FIELD_COLUMNS = ("field_set_uG", "set_field_uG")
"""The field asked for: points of the two sweeps at one set field are repeats (mismatch test)."""
ERROR_COLUMNS = ("x_err_V",)
MIN_SWEEP_POINTS = 12
JACKKNIFE_BLOCKS = 8
"""Stretches of a B scan left out in turn for its width error (each a quarter of one sweep)."""
PER_POINT_MIN_AVERAGES = 10
"""Readings per point from which each point's own recorded error weights it (see point_errors)."""
DISPERSIVE, TWO_COMPONENT = "dispersive", "two-component"


@dataclass(frozen=True)
class BScanResult:
    """Fits of one triangular B scan, and how good they are.

    `single` is the dispersive fit of every good point (both sweeps), `nested` the two-component
    fit (F=2 and the narrow F=1 feature) tried at or above the nested-feature power, and `fit` the
    model kept (`model`: "dispersive", or "two-component" when the F-test prefers it at
    p < SIGNIFICANCE_P, `nested_p`); `fit` is None only for a scan with no signal whose fit did not
    converge. `sweeps` holds the down and up sweeps fitted alone. `quality` gives the status
    ("fitted", "model mismatch", "no signal"), chi2_red, the scatter ratio and the error scale;
    `sigma_rule` says which point errors the fits used (`point_err_V`: their rms).
    `light_power_uW` is the mean measured power over the fitted points, `nominal_power_uW` the one
    asked for. `calibration_V_per_rad` (from the scan's lab config) turns the lock-in X into
    rotation. `field_uG`, `signal_V` and `direction` are the fitted points, kept for the figures.
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
    fit: NmorFit | None
    single: NmorFit | None
    nested: NmorFit | None
    model: str
    nested_p: float | None
    sweeps: dict[str, NmorFit]
    quality: FitQuality
    sigma_rule: str
    point_err_V: float | None
    calibration_V_per_rad: float | None
    notes: tuple[str, ...]
    field_uG: NDArray[np.float64] = field(repr=False, compare=False)
    signal_V: NDArray[np.float64] = field(repr=False, compare=False)
    direction: NDArray[np.str_] = field(repr=False, compare=False)
    block_width_err_uG: float | None = None
    """The width's error from refits with each of JACKKNIFE_BLOCKS stretches of the scan (in time
    order) left out in turn (docs/decisions/0117); None when not measured."""

    @property
    def fit_status(self) -> str:
        return self.quality.status

    @property
    def has_width(self) -> bool:
        """A width was measured (fitted or model mismatch; not "no signal")."""
        return self.fit is not None and self.quality.status != NO_SIGNAL

    @property
    def width_uG(self) -> float:
        """The kept model's width (uG); only for scans with a width (`has_width`)."""
        assert self.fit is not None
        return self.fit.width_uG

    @property
    def width_err_uG(self) -> float:
        """The width error used downstream: the fit's times sqrt(max(1, chi2_red)), or the block
        jackknife's when that is larger (drifts during the scan, docs/decisions/0117)."""
        assert self.fit is not None
        return max(self.fit.width_err_uG * self.quality.error_scale, self.block_width_err_uG or 0.0)

    def rotation(self, signal_V: Any) -> Any:
        """Lock-in X (V) as optical rotation in urad with a calibration; without one, the lock-in X
        itself in uV (see `rotation_units`)."""
        x_uV = 1e6 * np.asarray(signal_V, dtype=float)
        cal = self.calibration_V_per_rad
        return x_uV if cal is None else x_uV / cal   # uV / (V/rad) = urad

    @property
    def rotation_units(self) -> str:
        return "uV lock-in X, no calibration" if self.calibration_V_per_rad is None else "urad"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary (no point arrays); widths only when measured."""
        fit = self.fit if self.has_width else None
        return {
            "file": self.file, "status": self.status, "fit_status": self.quality.status,
            "quality": self.quality.as_dict(), "model": self.model, "nested_p": self.nested_p,
            "sigma_rule": self.sigma_rule, "point_err_V": self.point_err_V, "line": self.line,
            "light_power_uW": self.light_power_uW, "light_power_std_uW": self.light_power_std_uW,
            "nominal_power_uW": self.nominal_power_uW, "n_points_fitted": self.n_points,
            "excluded_points": dict(self.excluded), "field_column": self.field_column,
            "width_uG": None if fit is None else _value(fit.width_uG, self.width_err_uG, "uG"),
            "width_fit_error_uG": None if fit is None else fit.width_err_uG,
            "width_block_error_uG": None if fit is None else self.block_width_err_uG,
            "center_uG": None if fit is None else _value(fit.center_uG, fit.center_err_uG * self.quality.error_scale,
                                                         "uG"),
            "gamma_hz": None if fit is None else _value(gamma_nmor_hz(fit.width_uG),
                                                        gamma_nmor_hz(self.width_err_uG), "Hz"),
            "rotation_amplitude": None if fit is None else _value(
                float(self.rotation(fit.peak_signal)),
                float(abs(self.rotation(fit.peak_signal)) * math.hypot(fit.amplitude_err / fit.amplitude,
                                                                       fit.width_err_uG / fit.width_uG)
                      * self.quality.error_scale), self.rotation_units),
            "calibration_V_per_rad": self.calibration_V_per_rad,
            "fit": None if self.fit is None else _fit_dict(self.fit),
            "sweeps": {k: _fit_dict(v) for k, v in self.sweeps.items()},
            "nested": None if self.nested is None else {
                "components": [_fit_dict(c) for c in self.nested.components],
                "chi2_red": self.nested.chi2_red, "residual_rms": self.nested.residual_rms,
                "kept": self.model == TWO_COMPONENT, "p_value": self.nested_p},
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
                        "width_uG": _value(s.width_uG, s.width_err_uG, "uG"),
                        "fit_status": s.fit_status, "used_in_extrapolation": u} for s, u in zip(self.scans, self.used)],
            "files": [s.file for s, u in zip(self.scans, self.used) if u],
            "note": self.note,
        }


def fit_bscan(scan: ScanData, nested_min_power_uW: float = 20.0) -> BScanResult:
    """Fit one B scan and judge the fit (docs/decisions/0110, 0111).

    The dispersive curve is fitted to both sweeps together with the recorded point errors
    (`point_errors`); a scan without a significant resonance is "no signal" (no width); at or above
    `nested_min_power_uW` the two-component curve is also fitted and kept when the F-test prefers
    it; each sweep is fitted alone; then the kept model is checked for a mismatch against the
    repeated fields of the two sweeps. Raises ScanProblem (missing column, too few good points, the
    resonance outside the scan) or FitError (a significant resonance that could not be fitted).
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
    sigma, sigma_rule, err_rms = point_errors(scan, keep)
    set_name = scan.has(*SET_FIELD_COLUMNS)
    settings = scan.column([set_name], "uG")[keep] if set_name else x
    notes: list[str] = []
    single: NmorFit | None = None
    try:
        single = fit_nmor(x, y, sigma)
        rss_single = weighted_rss(single, x, y, sigma)
    except FitError as exc:
        rss_single = best_candidate_rss(x, y, sigma)
        failure = exc
    signal_p = f_test_p(weighted_line_rss(x, y, sigma), rss_single, x.size, 2, 5)
    base: dict[str, Any] = dict(file=str(scan.path), status=scan.status, line=laser_line(scan), light_power_uW=power,
                light_power_std_uW=float(np.std(light[light_ok])), nominal_power_uW=nominal_light_uW(scan, power),
                n_points=int(keep.sum()), excluded=excluded, field_column=field_name or FIELD_COLUMNS[0],
                sigma_rule=sigma_rule, point_err_V=err_rms, calibration_V_per_rad=polarimeter_V_per_rad(scan),
                field_uG=x, signal_V=y, direction=direction)
    if scan.status not in ("complete",):
        notes.append(f"file status {scan.status}: analysed the {scan.n_points} points it holds")
    if signal_p >= SIGNIFICANCE_P:
        quality = _quality(single, x, y, sigma, err_rms, settings, direction, signal_p, 5)
        return BScanResult(fit=single, single=single, nested=None, model=DISPERSIVE, nested_p=None, sweeps={},
                           quality=quality, notes=tuple(notes), **base)
    if single is None:
        raise failure
    try:
        _require_resonance_inside(single.center_uG, single.width_uG, x)
    except ScanProblem as exc:   # a wing or a wrong field range: no resonance to measure here
        quality = dataclasses.replace(_quality(single, x, y, sigma, err_rms, settings, direction, signal_p, 5),
                                      status=NO_SIGNAL, reason=f"no resonance to measure: {exc}")
        return BScanResult(fit=single, single=single, nested=None, model=DISPERSIVE, nested_p=None, sweeps={},
                           quality=quality, notes=tuple(notes), **base)
    kept, model, nested, nested_p = single, DISPERSIVE, None, None
    if nominal_light_uW(scan, power) >= nested_min_power_uW * (1 - 1e-3):   # asked-for power, as the cuts
        try:
            nested = fit_nmor(x, y, sigma, components=2)
            nested_p = f_test_p(rss_single, weighted_rss(nested, x, y, sigma), x.size, 5, 7)
            if nested_p < SIGNIFICANCE_P:
                kept, model = nested, TWO_COMPONENT
        except FitError as exc:
            notes.append(f"nested two-component fit: {exc}")
    sweeps: dict[str, NmorFit] = {}
    for sweep in ("down", "up"):
        sel = direction == sweep
        if sel.sum() < MIN_SWEEP_POINTS:
            if sel.any():
                notes.append(f"{sweep} sweep: only {int(sel.sum())} points, not fitted alone")
            continue
        try:
            sweeps[sweep] = fit_nmor(x[sel], y[sel], None if sigma is None else sigma[sel],
                                     components=2 if model == TWO_COMPONENT else 1)
        except FitError as exc:
            notes.append(f"{sweep} sweep fit failed: {exc}")
    quality = _quality(kept, x, y, sigma, err_rms, settings, direction, signal_p,
                       3 + 2 * len(kept.components or (kept,)))
    block_err = block_jackknife_width(x, y, sigma, components=2 if model == TWO_COMPONENT else 1)
    return BScanResult(fit=kept, single=single, nested=nested, model=model, nested_p=nested_p, sweeps=sweeps,
                       quality=quality, notes=tuple(notes), block_width_err_uG=block_err, **base)


def block_jackknife_width(field_uG: NDArray[np.float64], signal_V: NDArray[np.float64],
                          sigma: NDArray[np.float64] | None, *, components: int) -> float | None:
    """The width's error (uG) from refitting with each of JACKKNIFE_BLOCKS contiguous stretches of
    the scan (in time order) left out in turn (delete-a-block jackknife): it holds for noise
    correlated over less than a block, as the drifts during a sweep make it (decision 0117).
    None when a refit fails or the scan is too short."""
    n = field_uG.size
    if n < JACKKNIFE_BLOCKS * MIN_SWEEP_POINTS // 2:
        return None
    block = np.arange(n) * JACKKNIFE_BLOCKS // n
    widths = []
    for b in range(JACKKNIFE_BLOCKS):
        rest = block != b
        try:
            widths.append([fit_nmor(field_uG[rest], signal_V[rest], None if sigma is None else sigma[rest],
                                    components=components).width_uG])
        except FitError:
            return None
    return float(delete_one_errors(widths)[0])


def point_errors(scan: ScanData, keep: NDArray[np.bool_]
                 ) -> tuple[NDArray[np.float64] | None, str, float | None]:
    """The point errors the fits use, the rule that chose them, and the rms recorded error (V).

    Rule (docs/decisions/0111): the recorded standard errors of the lock-in readings (`x_err_V`)
    are used when the scan averaged >= 2 readings per point and most points have one. With at
    least PER_POINT_MIN_AVERAGES readings each point gets its own error; with fewer, an error from
    n readings is itself uncertain by 1/sqrt(2(n-1)) (41 % from 4), so every point gets the
    scan's pooled error sqrt(mean(x_err^2)) (the polarimeter noise is the same across a scan at
    fixed light power). Without recorded errors the fits take the noise from the residual scatter.
    """
    name = scan.has(*ERROR_COLUMNS)
    averages = scan.param("averages")
    if name is None:
        return None, "no recorded point errors: noise estimated from the scatter about the fit", None
    errs = scan.column([name], "V")[keep]
    good = np.isfinite(errs) & (errs > 0)
    if good.sum() < 0.5 * errs.size or (isinstance(averages, int) and averages < 2):
        return None, "one reading per point (no recorded errors): noise from the scatter about the fit", None
    rms = float(np.sqrt(np.mean(errs[good] ** 2)))
    if isinstance(averages, int) and averages >= PER_POINT_MIN_AVERAGES:
        return (np.where(good, errs, rms), f"each point's recorded error ({averages} readings per point)", rms)
    n = f"{averages} readings" if isinstance(averages, int) else "few readings"
    return np.full(errs.size, rms), f"the scan's pooled recorded error ({n} per point)", rms


def _quality(fit: NmorFit | None, x: NDArray[np.float64], y: NDArray[np.float64],
             sigma: NDArray[np.float64] | None, err_rms: float | None, settings: NDArray[np.float64],
             direction: NDArray[Any], signal_p: float, n_params: int) -> FitQuality:
    if fit is None:
        return judge(signal_p=signal_p, chi2_red=None, scatter_ratio=None, lof=None, signal_rms=None,
                     what="NMOR resonance")
    resid = y - fit.curve(x)
    dof = max(1, x.size - n_params)
    chi2_red = None if sigma is None else float(np.sum((resid / sigma) ** 2) / dof)
    scatter = None if err_rms is None else float(np.sqrt(resid @ resid / dof) / err_rms)
    resonance = fit.curve(x) - fit.offset - fit.slope * x
    normalised = resid if sigma is None else resid / sigma
    return judge(signal_p=signal_p, chi2_red=chi2_red, scatter_ratio=scatter,
                 lof=lack_of_fit(resid, settings, n_params), signal_rms=float(np.sqrt(np.mean(resonance ** 2))),
                 what="NMOR resonance", correlation=residual_correlation(normalised, direction))


def _require_resonance_inside(center_uG: float, width_uG: float, field_uG: np.ndarray) -> None:
    """A width is only measured when both extrema of the dispersive curve lie inside the scanned
    field range; a fragment (say, an aborted scan's first few points) gives an extrapolated guess."""
    low, high = float(np.min(field_uG)), float(np.max(field_uG))
    if center_uG - width_uG / 2 < low or center_uG + width_uG / 2 > high:
        raise ScanProblem(f"the resonance is not inside the scanned field: fitted extrema at "
                          f"{center_uG - width_uG / 2:.4g} and {center_uG + width_uG / 2:.4g} uG, "
                          f"data from {low:.4g} to {high:.4g} uG")


def extrapolate_widths(results: list[BScanResult], x_max_uW: float = 10.0,
                       include_mismatched: bool = False) -> dict[str, ZeemanResult]:
    """Per laser line: a weighted straight line through width versus measured light power over the
    scans asked for at most `x_max_uW` (nominal power, 0.1 % tolerance), intercept = DeltaB0.

    Each scan is one point, its width error already scaled by sqrt(max(1, chi2_red)) of its own
    fit; the line's errors are then scaled by sqrt(max(1, chi2_red)) of the line (the paper's
    Fig. 4). Scans with no signal have no width and are left out; scans with a model mismatch are
    shown but left out of the line unless `include_mismatched`.
    """
    out: dict[str, ZeemanResult] = {}
    for line in sorted({r.line for r in results if r.has_width}):
        scans = sorted((r for r in results if r.line == line and r.has_width), key=lambda r: r.light_power_uW)
        used = tuple(r.nominal_power_uW <= x_max_uW * (1 + 1e-3)
                     and (r.fit_status == FITTED or include_mismatched) for r in scans)
        low = [r for r, u in zip(scans, used) if u]
        extrapolation, note = None, ""
        if len({round(r.light_power_uW, 6) for r in low}) < 2 or len(low) < 3:
            note = (f"needs >= 3 well-fitted scans at <= {x_max_uW:g} uW (two different powers at least); "
                    f"{len(low)} available")
        else:
            try:
                extrapolation = extrapolate_to_zero([r.light_power_uW for r in low],
                                                    [r.width_uG for r in low],
                                                    [r.width_err_uG for r in low])
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
