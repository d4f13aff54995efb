"""Lock-point search: the laser centre frequency where the NMOR rotation is largest.

With the laser unlocked and a fixed |Bz| (near the peak of the dispersive curve, about half its
width), the piezo steps across the line; at each setting the polarimeter X is read at +Bz and at
-Bz, and the rotation amplitude is (X(+B) - X(-B)) / 2, free of offsets. The largest |amplitude|
(refined by a parabola through it and its neighbours) is the lock point: the piezo is left there,
and a following `lock` step with setpoint_from = "here" locks on the 2f level found there (the
paper: about 250 MHz below the D1 line).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kmor.config.schema import param
from kmor.sequences.common import (FILTER_SLOPES, autorange, configure_lockin, read_averaged,
                                   result_array, set_light, settle_time_s_for)
from kmor.sequences.lock import release_lock

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


@dataclass(frozen=True, kw_only=True)
class LockPointParams:
    """Scan the laser piezo across the line at fixed field; pick the largest rotation."""

    piezo_start_pct: float = param(43.0, units="%", min=0.0, max=100.0, doc="first piezo setting")
    piezo_stop_pct: float = param(52.0, units="%", min=0.0, max=100.0, doc="last piezo setting")
    piezo_step_pct: float = param(0.25, units="%", min=0.01, max=100.0, doc="piezo step")
    field_uG: float = param(5.0, units="uG", min=0.01, max=1e5,
                            doc="|Bz| at which the rotation is read (near half the NMOR width)")
    light_power_uW: float = param(0.0, units="uW", min=0.0, max=1e6, doc="light into the cell; 0 leaves it")
    averages: int = param(2, min=1, max=100000, doc="lock-in readings averaged per field")
    time_constant_s: float = param(0.03, units="s", min=1e-5, max=3e4, doc="polarimeter lock-in time constant")
    filter_slope_dB_per_oct: int = param(24, units="dB/oct", choices=FILTER_SLOPES,
                                         doc="polarimeter lock-in filter slope")
    sensitivity_V: float = param(0.0, units="V", min=0.0, max=1.0, doc="polarimeter sensitivity; 0 = auto-range")
    light_settle_s: float = param(0.5, units="s", min=0.0, max=3600.0, doc="wait after changing the light power")

    def problems(self) -> list[tuple[str, str]]:
        if self.piezo_stop_pct <= self.piezo_start_pct:
            return [("piezo_stop_pct", "must be above piezo_start_pct")]
        if (self.piezo_stop_pct - self.piezo_start_pct) / self.piezo_step_pct < 2:
            return [("piezo_step_pct", "gives fewer than 3 piezo settings")]
        return []


def piezo_grid(p: LockPointParams) -> np.ndarray:
    n = int(math.floor((p.piezo_stop_pct - p.piezo_start_pct) / p.piezo_step_pct * (1 + 1e-12)))
    return p.piezo_start_pct + np.arange(n + 1) * p.piezo_step_pct


def estimate_s(p: LockPointParams) -> float:
    settle = settle_time_s_for(p.time_constant_s, p.filter_slope_dB_per_oct)
    per = 2 * (settle + (p.averages - 1) * 3 * p.time_constant_s)
    preview = 0.0 if p.sensitivity_V else 2 * min(9, piezo_grid(p).size) * settle  # two auto-range rounds
    return piezo_grid(p).size * per + preview + p.light_settle_s


COLUMNS = {"index": ("", "i8"), "piezo_set_pct": "%", "piezo_pct": "%", "x_plus_V": "V",
           "x_minus_V": "V", "amplitude_V": "V", "amplitude_err_V": "V", "sensitivity_V": "V",
           "lock_error_V": "V", "light_power_uW": "uW", "time_s": "s"}


def search_lock_point(engine: Engine, p: LockPointParams, *, label: str = "lock-point search") -> dict[str, Any]:
    """Run the search, leave the piezo at the best setting; returns and stores context["lock_point"]."""
    st = engine.station
    laser, li, coils = st.laser, st.lockin_polarimeter, st.coils
    release_lock(engine)
    light_uW = set_light(engine, p.light_power_uW, p.light_settle_s)
    settle_s = configure_lockin(li, time_constant_s=p.time_constant_s, slope_dB_per_oct=p.filter_slope_dB_per_oct)
    grid = piezo_grid(p)
    if p.sensitivity_V:
        li.sensitivity_V = p.sensitivity_V
        sensitivity = float(li.sensitivity_V)
    else:
        coils.set_field_uG("bz", p.field_uG)
        preview = grid[np.linspace(0, grid.size - 1, min(9, grid.size)).astype(int)]
        sensitivity = autorange(engine, li, settle_s,
                                [functools.partial(setattr, laser, "piezo_pct", float(x)) for x in preview])
    state = {"sensitivity": sensitivity}
    spacing = 3 * p.time_constant_s

    def measure(index: int, piezo: float) -> dict[str, Any]:
        laser.piezo_pct = piezo
        readings = {}
        for sign in (+1, -1):
            coils.set_field_uG("bz", sign * p.field_uG)
            engine.wait(settle_s)
            readings[sign], state["sensitivity"] = read_averaged(
                engine, li, settle_s, p.averages, spacing, state["sensitivity"])
        amp = 0.5 * (readings[1]["x_V"] - readings[-1]["x_V"])
        err = 0.5 * math.hypot(readings[1]["x_err_V"], readings[-1]["x_err_V"])
        return {"index": index, "piezo_set_pct": piezo, "piezo_pct": float(laser.piezo_pct),
                "x_plus_V": readings[1]["x_V"], "x_minus_V": readings[-1]["x_V"], "amplitude_V": amp,
                "amplitude_err_V": err, "sensitivity_V": state["sensitivity"],
                "lock_error_V": float(st.daq.read_ai_V(st.lock_error_ai)),
                "light_power_uW": st.light_power_uW(), "time_s": engine.now_s()}

    parameters = {"sequence": "lock_point_search", **dataclasses.asdict(p), "light_power_start_uW": light_uW}
    piezos, amps = np.empty(grid.size), np.empty(grid.size)
    with engine.scan("lockpoint", COLUMNS, parameters, expected_points=grid.size, label=label) as scan:
        for i, x in enumerate(grid):
            row = scan.point(functools.partial(measure, i, float(x)))
            piezos[i], amps[i] = row["piezo_pct"], row["amplitude_V"]
        best, best_amp = best_setting(piezos, amps)
        laser.piezo_pct = best
        coils.set_field_uG("bz", 0.0)
        result = {"piezo_pct": float(laser.piezo_pct), "piezo_refined_pct": best,
                  "amplitude_V": best_amp, "scan": scan.path, "light_power_uW": light_uW}
        scan.write_array("result_json", result_array(result), "")
    engine.context["lock_point"] = result
    return result


def best_setting(piezo_pct: np.ndarray, amplitude_V: np.ndarray) -> tuple[float, float]:
    """Piezo setting of the largest |amplitude|, refined by a parabola through the three points
    around it (kept within them); and the amplitude there."""
    a = np.abs(amplitude_V)
    i = int(np.argmax(a))
    if 0 < i < a.size - 1:
        x = piezo_pct[i - 1:i + 2]
        y = a[i - 1:i + 2]
        if len(set(x.tolist())) == 3:
            c2, c1, c0 = np.polyfit(x, y, 2)
            if c2 < 0:
                vertex = float(np.clip(-c1 / (2 * c2), x.min(), x.max()))
                return vertex, float(np.copysign(np.polyval([c2, c1, c0], vertex), amplitude_V[i]))
    return float(piezo_pct[i]), float(amplitude_V[i])
