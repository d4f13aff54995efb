"""Triangular Bz scan: the NMOR rotation versus the longitudinal field, down and up.

Bz steps from +range to -range (the "down" sweep) and back (the "up" sweep), symmetric about
zero, in steps of step_uG; each sweep holds the same set of fields (the turning point is measured
in both). At each field the polarimeter lock-in settles (settle_factor x its 99 % settling time:
10 time constants at 24 dB/oct), then `averages` readings of X and Y are averaged. The laser lock
keeps servoing throughout. Per point: set and read-back field, coil drive, X, Y with their
standard errors, sensitivity, light power, lock error, time, sweep tag.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import numpy as np

from kmor.config.schema import param
from kmor.sequences.common import (FILTER_SLOPES, LOCK_COLUMNS, MAX_RANGE_CHANGES, OVERLOAD_FRACTION, autorange,
                                   configure_lockin, lock_columns, next_sensitivity_up, read_averaged, result_array,
                                   set_light, settle_time_s_for)
from kmor.sequences.errors import LockinOverload

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine

T = TypeVar("T")

DIRECTIONS = ("down", "up")
READOUTS = ("points", "lockin_buffer")
#: The SR830's buffer sample rates (SRAT 0 .. 13) and length per channel (manual).
LOCKIN_BUFFER_RATES_HZ = tuple(0.0625 * 2.0**i for i in range(14))
LOCKIN_BUFFER_POINTS = 16383


@dataclass(frozen=True, kw_only=True)
class BScanParams:
    """One triangular Bz scan of the NMOR rotation."""

    field_range_uG: float = param(800.0, units="uG", min=0.001, max=1e6,
                                  doc="Bz runs from +range to -range (down) and back (up)")
    step_uG: float = param(2.0, units="uG", min=1e-4, max=1e5, doc="field step")
    directions: list[str] = param(["down", "up"], choices=DIRECTIONS,
                                  doc="sweeps in order: 'down' = +range to -range, 'up' = -range to +range")
    light_power_uW: float = param(0.0, units="uW", min=0.0, max=1e6,
                                  doc="light into the cell; 0 leaves it as it is")
    averages: int = param(4, min=1, max=100000, doc="lock-in readings averaged per field")
    time_constant_s: float = param(0.1, units="s", min=1e-5, max=3e4, doc="polarimeter lock-in time constant")
    filter_slope_dB_per_oct: int = param(24, units="dB/oct", choices=FILTER_SLOPES,
                                         doc="polarimeter lock-in filter slope")
    settle_factor: float = param(1.0, units="", min=0.0, max=100.0,
                                 doc="wait this many 99 % settling times of the lock-in after each step")
    sample_spacing_s: float = param(0.0, units="s", min=0.0, max=3600.0,
                                    doc="time between averaged readings; 0 = 5 time constants (nearly independent readings)")
    sensitivity_V: float = param(0.0, units="V", min=0.0, max=1.0,
                                 doc="polarimeter lock-in sensitivity; 0 = choose from a preview (auto-range)")
    light_settle_s: float = param(0.5, units="s", min=0.0, max=3600.0, doc="wait after changing the light power")
    hardware_timed: bool = param(False, doc="play each sweep as a DAQ waveform on the Bz coil output, sampling "
                                            "the polarimeter lock-in's CH1 output on the same clock (fast sweeps)")
    signal_ai: str = param("", doc="hardware-timed: DAQ input wired to the polarimeter lock-in's CH1 output, e.g. 'ai3'")
    sweep_rate_hz: float = param(1000.0, units="Hz", min=1.0, max=1e6, doc="hardware-timed: DAQ sample rate")
    samples_per_point: int = param(20, min=2, max=1000000,
                                   doc="hardware-timed: samples at each field; the second half is averaged")
    readout: str = param("points", choices=READOUTS,
                         doc="'points': read X, Y at each field; 'lockin_buffer': the lock-in stores X, Y "
                             "at buffer_rate_hz on its own clock while the coils step, read once per sweep "
                             "(fast, no DAQ input needed)")
    buffer_rate_hz: float = param(64.0, units="Hz", choices=LOCKIN_BUFFER_RATES_HZ,
                                  doc="lockin_buffer: sample rate; 'averages' samples are averaged per field")

    def problems(self) -> list[tuple[str, str]]:
        if self.readout == "lockin_buffer":
            return _buffer_problems(self)
        if self.hardware_timed and not self.signal_ai:
            return [("signal_ai", "required when hardware_timed = true (the DAQ input carrying the lock-in's CH1)")]
        if not self.directions:
            return [("directions", "give at least one sweep ('down' or 'up')")]
        if self.step_uG > self.field_range_uG:
            return [("step_uG", f"{self.step_uG:g} uG is larger than field_range_uG = {self.field_range_uG:g} uG")]
        if 2 * self.field_range_uG / self.step_uG > 1e6:
            return [("step_uG", "more than a million points per sweep")]
        return []


def sweep_fields_uG(p: BScanParams) -> np.ndarray:
    """The fields of one 'up' sweep, -range .. +range (symmetric about zero)."""
    n_half = int(math.floor(p.field_range_uG / p.step_uG * (1 + 1e-12)))
    return np.arange(-n_half, n_half + 1) * p.step_uG


def scan_points(p: BScanParams) -> list[tuple[str, float]]:
    """(sweep, field_uG) for every point, in order."""
    up = sweep_fields_uG(p)
    points = []
    for direction in p.directions:
        fields = up[::-1] if direction == "down" else up
        points += [(direction, float(b)) for b in fields]
    return points


def spacing_s(p: BScanParams) -> float:
    return p.sample_spacing_s if p.sample_spacing_s > 0 else 5.0 * p.time_constant_s


def estimate_s(p: BScanParams, max_ramp_uG_per_s: float) -> float:
    """Lab time of the scan (s): per point a ramp of one step, the settle and the readings;
    plus the auto-range preview (two passes over its fields: a noisy signal may need a third, so a
    short scan can take a few settles longer) and the ramps to the start and back to zero."""
    settle = p.settle_factor * settle_time_s_for(p.time_constant_s, p.filter_slope_dB_per_oct)
    per_point = p.step_uG / max_ramp_uG_per_s + settle + (p.averages - 1) * spacing_s(p)
    sweep_settles = 0.0
    if p.hardware_timed:
        per_point = p.samples_per_point / p.sweep_rate_hz
        sweep_settles = len(p.directions) * settle   # the coil waits before each DAQ sweep
    if p.readout == "lockin_buffer":
        per_point = p.step_uG / max_ramp_uG_per_s + _buffered_dwell_s(p)
    preview = 0.0 if p.sensitivity_V else 2 * len(_preview_fields(p)) * settle
    ramps = 2 * p.field_range_uG / max_ramp_uG_per_s * 2
    return len(scan_points(p)) * per_point + sweep_settles + preview + ramps + p.light_settle_s


def _preview_fields(p: BScanParams) -> list[float]:
    """Fields for the auto-range preview: 0 and +-1, 2, 4, ... uG up to the range (the rotation
    peaks at half the width, which is unknown but lies in this set within a factor of 2)."""
    fields = [0.0]
    b = 1.0
    while b < p.field_range_uG:
        fields += [b, -b]
        b *= 2
    return fields + [p.field_range_uG, -p.field_range_uG]


def columns(drive_units: str) -> dict[str, Any]:
    return {"index": ("", "i8"), "sweep": ("", "str8"), "field_set_uG": "uG", "field_uG": "uG",
            "coil_drive_bz": drive_units, "x_V": "V", "y_V": "V", "x_err_V": "V", "y_err_V": "V",
            "sensitivity_V": "V", "light_power_uW": "uW", **LOCK_COLUMNS, "time_s": "s"}


def run_bscan(engine: Engine, p: BScanParams, *, label: str = "") -> dict[str, Any]:
    """Record one triangular B scan; returns a summary (scan file, points, light power)."""
    st = engine.station
    coils, li = st.coils, st.lockin_polarimeter
    # the lock-in first: the light's settle then also lets its filter forget what came before
    settle_s = p.settle_factor * configure_lockin(li, time_constant_s=p.time_constant_s,
                                                  slope_dB_per_oct=p.filter_slope_dB_per_oct)
    light_uW = set_light(engine, p.light_power_uW, p.light_settle_s)
    if p.sensitivity_V:
        li.sensitivity_V = p.sensitivity_V
        sensitivity = float(li.sensitivity_V)
    else:
        sensitivity = autorange(engine, li, settle_s,
                                [functools.partial(coils.set_field_uG, "bz", b) for b in _preview_fields(p)])
    points = scan_points(p)
    parameters = {"sequence": "bscan", **dataclasses.asdict(p), "light_power_start_uW": light_uW,
                  "transverse_uG": {a: coils.field_uG(a) for a in ("bx", "by")},
                  "sensitivity_start_V": sensitivity, "settle_s": settle_s,
                  "sample_spacing_used_s": spacing_s(p)}
    coils.set_field_uG("bz", points[0][1])
    state = {"sensitivity": sensitivity}

    def measure(index: int, sweep: str, field: float) -> dict[str, Any]:
        coils.set_field_uG("bz", field)
        engine.wait(settle_s)
        reading, state["sensitivity"] = read_averaged(engine, li, settle_s, p.averages, spacing_s(p),
                                                      state["sensitivity"])
        return {"index": index, "sweep": sweep, "field_set_uG": field,
                "field_uG": coils.field_uG("bz"), "coil_drive_bz": coils.drive("bz"),
                "x_V": reading["x_V"], "y_V": reading["y_V"], "x_err_V": reading["x_err_V"],
                "y_err_V": reading["y_err_V"], "sensitivity_V": state["sensitivity"],
                "light_power_uW": st.light_power_uW(), **lock_columns(engine),
                "time_s": reading["time_s"]}

    with engine.scan("bscan", columns(coils.drive_units("bz")), parameters,
                     expected_points=len(points), label=label or f"bscan {light_uW:.3g} uW") as scan:
        if p.readout == "lockin_buffer":
            index = 0
            for direction in p.directions:
                fields = [b for d, b in points if d == direction]
                rows = scan.block(functools.partial(_buffered_sweep, engine, p, index, direction, fields,
                                                    state, settle_s))
                index += len(rows)
        elif p.hardware_timed:
            index = 0
            for direction in p.directions:
                fields = [b for d, b in points if d == direction]
                rows = scan.block(functools.partial(_timed_sweep, engine, p, index, direction, fields, state))
                index += len(rows)
        else:
            for index, (sweep, field) in enumerate(points):
                scan.point(functools.partial(measure, index, sweep, field))
        coils.set_field_uG("bz", 0.0)
        summary = {"scan": scan.path, "points": scan.n_points, "light_power_uW": light_uW}
        scan.write_array("result_json", result_array(summary), "")
    return summary


def _sweep_ranging_up(engine: Engine, state: dict[str, Any], what: str,
                      sweep: Callable[[], tuple[bool, T]]) -> T:
    """Take `sweep` (it returns whether the polarimeter lock-in overloaded or read beyond
    OVERLOAD_FRACTION of its range, and its data) until it did not, one sensitivity range coarser
    each time (at most MAX_RANGE_CHANGES + 1 takes, the last one kept)."""
    li = engine.station.lockin_polarimeter
    for _ in range(MAX_RANGE_CHANGES + 1):
        overloaded, data = sweep()
        if not overloaded:
            break
        coarser = next_sensitivity_up(state["sensitivity"])
        if coarser is None:
            raise LockinOverload(f"polarimeter lock-in overloaded at 1 V during {what}")
        state["sensitivity"] = coarser
        li.sensitivity_V = coarser
    return data


def _timed_sweep(engine: Engine, p: BScanParams, first_index: int, sweep: str, fields: list[float],
                 state: dict[str, Any]) -> list[dict[str, Any]]:
    """One sweep as a DAQ waveform on the Bz coil output (each field held samples_per_point
    samples), sampling the polarimeter CH1, the light monitor and the lock error on the same clock.
    X = CH1 x sensitivity / 10 V, averaged over the second half of each hold."""
    st = engine.station
    cfg = st.config
    coil = cfg.coils.bz
    uG_per_V = coil.calibration_uG_per_V
    ao = f"{cfg.daq.device}/{coil.ao_channel}"
    signal_ai = f"{cfg.daq.device}/{p.signal_ai}"
    li = st.lockin_polarimeter
    wave = np.repeat(np.asarray(fields) / uG_per_V, p.samples_per_point)
    n, k = len(fields), p.samples_per_point
    servo = engine.servo
    setpoint = servo.setpoint_V if servo is not None else 0.0

    def one_sweep() -> tuple[bool, tuple[float, np.ndarray]]:
        st.coils.set_field_uG("bz", fields[0])
        engine.wait(p.settle_factor * float(li.settle_time_s(0.99)))
        t0 = engine.now_s()
        data = np.asarray(st.daq.sweep(ao, wave, [signal_ai, st.light_monitor_ai, st.lock_error_ai],
                                       p.sweep_rate_hz)).reshape(3, n, k)[:, :, k // 2:]
        return bool(np.max(np.abs(data[0])) >= 10.0 * OVERLOAD_FRACTION), (t0, data)

    t0, data = _sweep_ranging_up(engine, state, "a hardware-timed sweep", one_sweep)
    scale = state["sensitivity"] / 10.0
    dwell_s = k / p.sweep_rate_hz
    x = data[0] * scale
    error = data[2] - setpoint
    m = x.shape[1]
    rows = []
    for j, field in enumerate(fields):
        rows.append({
            "index": first_index + j, "sweep": sweep, "field_set_uG": float(field),
            "field_uG": float(wave[j * k] * uG_per_V), "coil_drive_bz": float(wave[j * k]),
            "x_V": float(x[j].mean()), "y_V": float("nan"),
            "x_err_V": float(x[j].std(ddof=1) / np.sqrt(m)) if m > 1 else float("nan"),
            "y_err_V": float("nan"), "sensitivity_V": state["sensitivity"],
            "light_power_uW": float(data[1, j].mean() * st.light_monitor_uW_per_V),
            "lock_error_V": float(error[j, -1]) if servo is not None else float("nan"),
            "lock_error_rms_V": float(np.sqrt(np.mean(error[j] ** 2))) if servo is not None else float("nan"),
            "locked": servo is not None and not servo.lost,
            "time_s": t0 + (j + 0.75) * dwell_s})
    return rows


# --- readout = "lockin_buffer": the lock-in samples on its own clock while the coils step ---------
def _buffered_dwell_s(p: BScanParams) -> float:
    """Time at each field: the settle, then `averages` buffer samples."""
    settle = p.settle_factor * settle_time_s_for(p.time_constant_s, p.filter_slope_dB_per_oct)
    return settle + p.averages / p.buffer_rate_hz


def _buffer_problems(p: BScanParams) -> list[tuple[str, str]]:
    if p.hardware_timed:
        return [("readout", "'lockin_buffer' and hardware_timed = true exclude each other")]
    if not p.directions:
        return [("directions", "give at least one sweep ('down' or 'up')")]
    if p.step_uG > p.field_range_uG:
        return [("step_uG", f"{p.step_uG:g} uG is larger than field_range_uG = {p.field_range_uG:g} uG")]
    samples = len(sweep_fields_uG(p)) * _buffered_dwell_s(p) * p.buffer_rate_hz
    if samples > LOCKIN_BUFFER_POINTS:
        return [("buffer_rate_hz", f"one sweep needs about {samples:.0f} samples; the lock-in buffer holds "
                                   f"{LOCKIN_BUFFER_POINTS}: lower buffer_rate_hz, averages or the point count")]
    return []


def _buffered_sweep(engine: Engine, p: BScanParams, first_index: int, sweep: str, fields: list[float],
                    state: dict[str, Any], settle_s: float) -> list[dict[str, Any]]:
    """One sweep with the lock-in's buffer storing X (CH1) and Y (CH2) at buffer_rate_hz while
    the coils step; per field the samples after the settle are averaged. Sample k was taken at
    t0 + k / rate, t0 the engine time of STRT. An overload during the sweep repeats it one
    sensitivity range coarser."""
    st = engine.station
    li, coils = st.lockin_polarimeter, st.coils
    li.ch1_display, li.ch2_display = "X", "Y"
    li.buffer_sample_rate_hz = p.buffer_rate_hz
    li.buffer_mode = "one_shot"

    def one_sweep() -> tuple[bool, tuple[float, list[float], list[tuple[float, float]], np.ndarray, np.ndarray]]:
        coils.set_field_uG("bz", fields[0])
        engine.wait(settle_s)
        li.status()  # clear overloads latched before the sweep
        li.reset_buffer()
        t0 = engine.now_s()
        li.start_buffer()
        starts, readback = [], []
        for field in fields:
            coils.set_field_uG("bz", field)
            starts.append(engine.now_s())
            readback.append((coils.field_uG("bz"), coils.drive("bz")))
            engine.wait(_buffered_dwell_s(p) - (engine.now_s() - starts[-1]))
        li.pause_buffer()
        overloaded = li.status().overloaded
        x, y = li.read_buffer(1), li.read_buffer(2)
        beyond = x.size > 0 and max(np.max(np.abs(x)), np.max(np.abs(y))) >= OVERLOAD_FRACTION * state["sensitivity"]
        return bool(overloaded or beyond), (t0, starts, readback, x, y)

    t0, starts, readback, x, y = _sweep_ranging_up(engine, state, "a buffered sweep", one_sweep)
    t = t0 + np.arange(x.size) / p.buffer_rate_hz
    ends = starts[1:] + [engine.now_s()]
    common = {"sensitivity_V": state["sensitivity"], "light_power_uW": st.light_power_uW(), **lock_columns(engine)}
    rows = []
    for j, (field, start, end, (field_read, drive)) in enumerate(zip(fields, starts, ends, readback)):
        take = (t >= start + settle_s) & (t < end)
        m = int(take.sum())
        rows.append({
            "index": first_index + j, "sweep": sweep, "field_set_uG": float(field),
            "field_uG": float(field_read), "coil_drive_bz": float(drive),
            "x_V": float(x[take].mean()) if m else float("nan"),
            "y_V": float(y[take].mean()) if m else float("nan"),
            "x_err_V": float(x[take].std(ddof=1) / np.sqrt(m)) if m > 1 else float("nan"),
            "y_err_V": float(y[take].std(ddof=1) / np.sqrt(m)) if m > 1 else float("nan"),
            **common, "time_s": float(t[take].mean()) if m else start})
    return rows
