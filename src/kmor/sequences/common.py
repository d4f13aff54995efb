"""Helpers shared by the sequences: lock-in settings and auto-range, light power, lock columns."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kmor.drivers.sr830 import SENSITIVITIES_V as SENSITIVITIES_V
from kmor.drivers.sr830 import SLOPES_DB_PER_OCT
from kmor.drivers.sr830 import settle_time_s_for as settle_time_s_for
from kmor.sequences.errors import LockinOverload

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine

# The SR830's code tables and its settling-time formula live once, in kmor.drivers.sr830 (data
# and a pure function, not the driver class): re-exported here for the sequences.
FILTER_SLOPES = tuple(SLOPES_DB_PER_OCT)
"""SR830 output filter slopes (dB/oct)."""
OVERLOAD_FRACTION = 0.98
AUTORANGE_HEADROOM = 2.5
MAX_RANGE_CHANGES = 6


def sensitivity_for(max_abs_V: float, headroom: float = AUTORANGE_HEADROOM) -> float:
    """Smallest sensitivity that holds `max_abs_V` x `headroom` (1 V if none does)."""
    need = abs(max_abs_V) * headroom
    for s in SENSITIVITIES_V:
        if s >= need:
            return s
    return SENSITIVITIES_V[-1]


def next_sensitivity_up(sensitivity_V: float) -> float | None:
    """The next coarser sensitivity, or None at 1 V."""
    for s in SENSITIVITIES_V:
        if s > sensitivity_V * 1.0001:
            return s
    return None


def configure_lockin(lockin: Any, *, time_constant_s: float, slope_dB_per_oct: int,
                     sensitivity_V: float | None = None) -> float:
    """Set time constant and slope (and sensitivity if given); returns the 99 % settling time."""
    lockin.time_constant_s = time_constant_s
    lockin.filter_slope_dB_per_oct = slope_dB_per_oct
    if sensitivity_V:
        lockin.sensitivity_V = sensitivity_V
    return float(lockin.settle_time_s(0.99))


def autorange(engine: Engine, lockin: Any, settle_s: float,
              conditions: Sequence[Callable[[], None]]) -> float:
    """Choose the lock-in sensitivity from a preview: each of `conditions` sets up the apparatus
    (e.g. a field), the output settles and |X|, |Y| are read; the smallest sensitivity holding
    the largest with 2.5x headroom is set (repeated until it no longer changes). Returns it."""
    sensitivity = SENSITIVITIES_V[-1]
    lockin.sensitivity_V = sensitivity
    for _ in range(MAX_RANGE_CHANGES):
        largest = 0.0
        for setup in conditions:
            setup()
            engine.wait(settle_s)
            snap = lockin.snap("x_V", "y_V")
            largest = max(largest, abs(snap["x_V"]), abs(snap["y_V"]))
        chosen = sensitivity_for(largest)
        if chosen == sensitivity:
            break
        sensitivity = chosen
        lockin.sensitivity_V = sensitivity
    return float(lockin.sensitivity_V)


def read_averaged(engine: Engine, lockin: Any, settle_s: float, averages: int, spacing_s: float,
                  sensitivity_V: float) -> tuple[dict[str, float], float]:
    """Read X and Y `averages` times `spacing_s` apart, ranging up (and re-settling) on overload.

    Returns ({"x_V", "y_V", "x_err_V", "y_err_V", "time_s"}, sensitivity used). On LockinOverload
    (overloaded at 1 V) the lock-in is put back at `sensitivity_V`, so a re-taken point starts from
    the setting the caller knows."""
    try:
        return _read_ranging_up(engine, lockin, settle_s, averages, spacing_s, sensitivity_V)
    except LockinOverload:
        lockin.sensitivity_V = sensitivity_V
        raise


def _read_ranging_up(engine: Engine, lockin: Any, settle_s: float, averages: int, spacing_s: float,
                     sensitivity_V: float) -> tuple[dict[str, float], float]:
    for _ in range(MAX_RANGE_CHANGES + 1):
        lockin.status()  # clears bits left from before the settle
        xs, ys = np.empty(averages), np.empty(averages)
        t0 = engine.now_s()
        for k in range(averages):
            if k:
                engine.wait(spacing_s)
            snap = lockin.snap("x_V", "y_V")
            xs[k], ys[k] = snap["x_V"], snap["y_V"]
        t1 = engine.now_s()
        largest = max(float(np.max(np.abs(xs))), float(np.max(np.abs(ys))))
        overloaded = lockin.status().overloaded or largest > OVERLOAD_FRACTION * sensitivity_V
        if not overloaded:
            return {"x_V": float(xs.mean()), "y_V": float(ys.mean()), "x_err_V": _sem(xs),
                    "y_err_V": _sem(ys), "time_s": 0.5 * (t0 + t1)}, sensitivity_V
        coarser = next_sensitivity_up(sensitivity_V)
        if coarser is None:
            raise LockinOverload(f"lock-in overloaded at its coarsest sensitivity (1 V): |X|,|Y| up "
                                f"to {largest:.3g} V")
        sensitivity_V = coarser
        lockin.sensitivity_V = sensitivity_V
        engine.wait(settle_s)
    raise LockinOverload("lock-in kept overloading while ranging up")


def _sem(values: np.ndarray) -> float:
    n = values.size
    return float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan


def set_light(engine: Engine, power_uW: float, settle_s: float = 0.1) -> float:
    """Set the light into the cell (uW) through the attenuator unless `power_uW` is 0 (leave it);
    returns the monitor reading (uW)."""
    st = engine.station
    if power_uW > 0:
        st.set_light_power_uW(power_uW)
        engine.wait(settle_s)
    return float(st.light_power_uW())


def lock_columns(engine: Engine) -> dict[str, Any]:
    """Per-point lock record: last error, rms and max |error| since the previous point (V), and
    whether the servo was running and in lock."""
    servo = engine.servo
    if servo is None:
        return {"lock_error_V": math.nan, "lock_error_rms_V": math.nan, "locked": False}
    rms, _ = servo.take_stats()
    return {"lock_error_V": float(servo.last_error_V), "lock_error_rms_V": rms,
            "locked": not servo.lost}


LOCK_COLUMNS = {"lock_error_V": "V", "lock_error_rms_V": "V", "locked": ("", "bool")}


def result_array(summary: dict[str, Any]) -> np.ndarray:
    """A job's result as a 0-d JSON string array, stored in its scan ("result_json") so that
    `--resume` can recover it from a scan that completed just before a crash."""
    import json
    return np.array(json.dumps(summary, default=float, allow_nan=True))
