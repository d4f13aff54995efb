"""Transverse-field zeroing: null Bx and By from the shape of the Bz curve.

A transverse field tilts the precession axis and broadens the zero-field Bz curve; its width is
smallest when the transverse field in the cell is zero, and is an even function of each
transverse component. So, axis by axis, the coil is set to `trials` values across +-span around
its present setting; at each, a short Bz scan is fitted with `kmor.analysis.fit_nmor` for the
peak-to-peak width; a parabola through width^2 versus the trial field gives the minimum, and the
coil is set there. Passes repeat (span halving) until both corrections of a pass are below
`tolerance_uG` (the paper reached ~0.5 uG). Every Bz point is recorded; the result (coil
settings, last corrections, widths) goes to context["zeroing"].
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kmor.config.schema import param
from kmor.sequences.common import (FILTER_SLOPES, autorange, configure_lockin, lock_columns,
                                   LOCK_COLUMNS, read_averaged, result_array, set_light,
                                   settle_time_s_for)

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


@dataclass(frozen=True, kw_only=True)
class ZeroingParams:
    """Null the transverse fields Bx, By from Bz lineshapes."""

    axes: list[str] = param(["bx", "by"], choices=("bx", "by"), doc="transverse coils to adjust, in order")
    span_uG: float = param(6.0, units="uG", min=0.01, max=1e4,
                           doc="first pass: trial fields this far either side of the present setting")
    min_span_uG: float = param(1.5, units="uG", min=0.01, max=1e4, doc="the span halves each pass down to this")
    trials: int = param(7, min=3, max=101, doc="trial settings per axis and pass")
    max_passes: int = param(4, min=1, max=50, doc="give up refining after this many passes")
    tolerance_uG: float = param(0.5, units="uG", min=0.001, max=1e4,
                                doc="stop when every correction of a pass is smaller than this")
    bz_range_uG: float = param(15.0, units="uG", min=0.01, max=1e5, doc="the short Bz scans cover +-this")
    bz_points: int = param(31, min=7, max=10001, doc="points of each short Bz scan")
    light_power_uW: float = param(0.0, units="uW", min=0.0, max=1e6,
                                  doc="light into the cell (low power gives narrow curves); 0 leaves it")
    averages: int = param(1, min=1, max=100000, doc="lock-in readings averaged per field")
    time_constant_s: float = param(0.03, units="s", min=1e-5, max=3e4, doc="polarimeter lock-in time constant")
    filter_slope_dB_per_oct: int = param(24, units="dB/oct", choices=FILTER_SLOPES,
                                         doc="polarimeter lock-in filter slope")
    sensitivity_V: float = param(0.0, units="V", min=0.0, max=1.0, doc="polarimeter sensitivity; 0 = auto-range")
    light_settle_s: float = param(0.5, units="s", min=0.0, max=3600.0, doc="wait after changing the light power")

    def problems(self) -> list[tuple[str, str]]:
        if not self.axes:
            return [("axes", "give at least one of 'bx', 'by'")]
        return []


def estimate_s(p: ZeroingParams, max_ramp_uG_per_s: float, passes: int = 2) -> float:
    """Lab time (s) assuming `passes` passes (each pass: axes x trials short Bz scans)."""
    settle = settle_time_s_for(p.time_constant_s, p.filter_slope_dB_per_oct)
    per_point = settle + (p.averages - 1) * 3 * p.time_constant_s
    per_scan = p.bz_points * per_point + 2 * p.bz_range_uG / max_ramp_uG_per_s
    return passes * len(p.axes) * p.trials * per_scan + p.light_settle_s


COLUMNS = {"index": ("", "i8"), "pass": ("", "i8"), "axis": ("", "str8"), "trial_uG": "uG",
           "field_set_uG": "uG", "x_V": "V", "y_V": "V", "x_err_V": "V", "sensitivity_V": "V",
           "light_power_uW": "uW", **LOCK_COLUMNS, "time_s": "s"}


def zero_transverse_fields(engine: Engine, p: ZeroingParams, *, label: str = "transverse-field zeroing") -> dict[str, Any]:
    """Run the zeroing; leaves the coils at the values found; returns context["zeroing"]."""
    from kmor.analysis import FitError, fit_nmor

    st = engine.station
    coils, li = st.coils, st.lockin_polarimeter
    light_uW = set_light(engine, p.light_power_uW, p.light_settle_s)
    settle_s = configure_lockin(li, time_constant_s=p.time_constant_s, slope_dB_per_oct=p.filter_slope_dB_per_oct)
    bz = np.linspace(-p.bz_range_uG, p.bz_range_uG, p.bz_points)
    if p.sensitivity_V:
        li.sensitivity_V = p.sensitivity_V
        sensitivity = float(li.sensitivity_V)
    else:
        sensitivity = autorange(engine, li, settle_s,
                                [functools.partial(coils.set_field_uG, "bz", float(b)) for b in bz[::3]])
    state = {"sensitivity": sensitivity, "index": 0}
    spacing = 3 * p.time_constant_s
    start = {a: coils.field_uG(a) for a in p.axes}
    trials_log: list[dict[str, Any]] = []
    corrections: dict[str, float] = {}
    converged = False

    def measure(pass_no: int, axis: str, trial: float, field: float) -> dict[str, Any]:
        coils.set_field_uG("bz", field)
        engine.wait(settle_s)
        reading, state["sensitivity"] = read_averaged(engine, li, settle_s, p.averages, spacing,
                                                      state["sensitivity"])
        return {"index": state["index"], "pass": pass_no, "axis": axis, "trial_uG": trial,
                "field_set_uG": field, "x_V": reading["x_V"], "y_V": reading["y_V"],
                "x_err_V": reading["x_err_V"], "sensitivity_V": state["sensitivity"],
                "light_power_uW": st.light_power_uW(), **lock_columns(engine),
                "time_s": reading["time_s"]}

    def width_at(scan: Any, pass_no: int, axis: str, trial: float) -> float:
        coils.set_field_uG(axis, trial)
        xs = np.empty(bz.size)
        for k, b in enumerate(bz):
            row = scan.point(lambda b=float(b): measure(pass_no, axis, trial, b))
            state["index"] += 1
            xs[k] = row["x_V"]
        try:
            fit = fit_nmor(bz, xs)
            width, err = fit.width_uG, fit.width_err_uG
        except FitError:
            width, err = math.nan, math.nan
        trials_log.append({"pass": pass_no, "axis": axis, "trial_uG": trial, "width_uG": width,
                           "width_err_uG": err})
        return width

    parameters = {"sequence": "zeroing", **dataclasses.asdict(p), "light_power_start_uW": light_uW,
                  "start_uG": start}
    expected = p.max_passes * len(p.axes) * p.trials * p.bz_points
    with engine.scan("zeroing", COLUMNS, parameters, expected_points=expected, label=label) as scan:
        span = p.span_uG
        for pass_no in range(p.max_passes):
            corrections = {}
            for axis in p.axes:
                center = coils.field_uG(axis)
                trials = center + np.linspace(-span, span, p.trials)
                widths = np.array([width_at(scan, pass_no, axis, float(t)) for t in trials])
                best = parabola_minimum(trials, widths)
                coils.set_field_uG(axis, best)
                corrections[axis] = best - center
            if all(abs(c) < p.tolerance_uG for c in corrections.values()):
                converged = True
                break
            span = max(p.min_span_uG, span / 2)
        coils.set_field_uG("bz", 0.0)
        result = {"fields_uG": {a: coils.field_uG(a) for a in p.axes},
                  "last_corrections_uG": corrections, "converged": converged,
                  "residual_estimate_uG": max((abs(c) for c in corrections.values()), default=math.nan),
                  "passes": pass_no + 1, "scan": scan.path}
        scan.write_array("trial_uG", [t["trial_uG"] for t in trials_log], "uG")
        scan.write_array("trial_width_uG", [t["width_uG"] for t in trials_log], "uG")
        scan.write_array("trial_axis", [t["axis"] for t in trials_log], "")
        scan.write_array("result_json", result_array(result), "")
    engine.context["zeroing"] = result
    return result


def parabola_minimum(trials_uG: np.ndarray, widths_uG: np.ndarray) -> float:
    """Trial field where width^2 is smallest: vertex of a parabola fitted to width^2 (kept within
    the trials), or the narrowest trial if the parabola opens downwards or fits fail."""
    ok = np.isfinite(widths_uG)
    t, w2 = trials_uG[ok], widths_uG[ok] ** 2
    if t.size >= 3:
        c2, c1, _ = np.polyfit(t, w2, 2)
        if c2 > 0:
            return float(np.clip(-c1 / (2 * c2), trials_uG.min(), trials_uG.max()))
    if t.size == 0:
        return float(np.mean(trials_uG))
    return float(t[np.argmin(w2)])
