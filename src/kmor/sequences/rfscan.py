"""Stepped rf scan of the hyperfine (0-0) double resonance.

With Bz set (default 1.4 mG, which separates the 0-0 line from the field-dependent Zeeman
components) and the rf generator in CW, the frequency steps across a window in `step_hz` steps;
after `settle_s` (the synthesizer's settling, 0.2 s in the paper) the SR620 reads the frequency
against the 10 MHz reference and the transmission photodiode is read `transmission_samples`
times. The whole window is repeated `repeats` times (the paper averaged 50-200); every repeat is
kept point by point, and their average per frequency is stored as arrays at the end.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kmor.config.schema import param
from kmor.sequences.common import LOCK_COLUMNS, lock_columns, result_array, set_light

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine

RF_MIN_HZ = 250e3
RF_MAX_HZ = 1e9


@dataclass(frozen=True, kw_only=True)
class RfScanParams:
    """One stepped rf scan (all its repeats) at one light and rf power."""

    bz_uG: float = param(1400.0, units="uG", min=-1e6, max=1e6, doc="longitudinal field during the scan")
    center_hz: float = param(461_719_711.0, units="Hz", min=RF_MIN_HZ, max=RF_MAX_HZ,
                             doc="middle of the scanned window")
    span_hz: float = param(100.0, units="Hz", min=0.0, max=1e8, doc="full width of the window")
    step_hz: float = param(1.0, units="Hz", min=1.0, max=1e8, doc="frequency step (the generator resolves 1 Hz)")
    repeats: int = param(1, min=1, max=100000, doc="times the window is scanned; each kept, plus their average")
    rf_power_dBm: float = param(-30.0, units="dBm", min=-136.0, max=10.0, doc="generator output level")
    light_power_uW: float = param(0.0, units="uW", min=0.0, max=1e6, doc="light into the cell; 0 leaves it as it is")
    settle_s: float = param(0.2, units="s", min=0.0, max=3600.0, doc="wait after each frequency step")
    transmission_samples: int = param(20, min=1, max=100000, doc="photodiode readings averaged per step")
    measure_counter: bool = param(True, doc="read the SR620 at every step (false: record NaN)")
    counter_gate_s: float = param(0.1, units="s", min=1e-3, max=500.0, doc="SR620 gate time")
    alternate: bool = param(False, doc="scan every second repeat downwards (cancels slow drifts)")
    light_settle_s: float = param(0.5, units="s", min=0.0, max=3600.0, doc="wait after changing the light power")
    field_settle_s: float = param(0.5, units="s", min=0.0, max=3600.0, doc="wait after setting Bz")

    def problems(self) -> list[tuple[str, str]]:
        lo, hi = self.center_hz - self.span_hz / 2, self.center_hz + self.span_hz / 2
        if lo < RF_MIN_HZ or hi > RF_MAX_HZ:
            return [("span_hz", f"window {lo:.0f} .. {hi:.0f} Hz leaves the generator's 250 kHz .. 1 GHz")]
        if self.span_hz / self.step_hz > 1e6:
            return [("step_hz", "more than a million steps per repeat")]
        return []


def frequencies_hz(p: RfScanParams) -> np.ndarray:
    """The set frequencies of one upward repeat (whole Hz, symmetric about center_hz)."""
    n_half = int(math.floor(p.span_hz / 2 / p.step_hz * (1 + 1e-12)))
    return np.round(p.center_hz + np.arange(-n_half, n_half + 1) * p.step_hz)


def estimate_s(p: RfScanParams, max_ramp_uG_per_s: float) -> float:
    """Lab time (s): per step the settle and the counter gate (the photodiode's on-demand DAQ reads
    take tens of us each: negligible, and the simulated DAQ takes none); the ramp to Bz from zero,
    the light and field settles."""
    per_step = p.settle_s + (p.counter_gate_s if p.measure_counter else 0.0)
    ramp = abs(p.bz_uG) / max_ramp_uG_per_s
    return p.repeats * frequencies_hz(p).size * per_step + ramp + p.light_settle_s + p.field_settle_s


COLUMNS = {"index": ("", "i8"), "repeat": ("", "i8"), "freq_set_hz": "Hz", "freq_counter_hz": "Hz",
           "freq_jitter_hz": "Hz", "transmission_V": "V", "transmission_err_V": "V",
           "light_power_uW": "uW", **LOCK_COLUMNS, "time_s": "s"}


def run_rfscan(engine: Engine, p: RfScanParams, *, label: str = "") -> dict[str, Any]:
    """Record one rf scan (all repeats) and its average; returns a summary."""
    st = engine.station
    rf, counter, coils, daq = st.rf, st.counter, st.coils, st.daq
    light_uW = set_light(engine, p.light_power_uW, p.light_settle_s)
    coils.set_field_uG("bz", p.bz_uG)
    engine.wait(p.field_settle_s)
    freqs = frequencies_hz(p)
    rf.modulation_off()
    rf.amplitude_dBm = p.rf_power_dBm
    rf.freq_hz = float(freqs[0])
    rf.rf_on = True
    if p.measure_counter:
        counter.configure_frequency(gate_s=p.counter_gate_s, sample_size=1, external_reference=True)
    n = freqs.size
    average = RunningMean(n)
    counter_average = RunningMean(n)
    parameters = {"sequence": "rfscan", **dataclasses.asdict(p), "light_power_start_uW": light_uW,
                  "bz_read_uG": coils.field_uG("bz"), "n_steps": n}

    def measure(index: int, repeat: int, k: int) -> dict[str, Any]:
        f = float(freqs[k])
        rf.freq_hz = f
        engine.wait(p.settle_s)
        f_meas, jitter = counter.measure_frequency() if p.measure_counter else (math.nan, math.nan)
        samples = np.fromiter((daq.read_ai_V(st.transmission_ai) for _ in range(p.transmission_samples)),
                              float, p.transmission_samples)
        err = samples.std(ddof=1) / math.sqrt(samples.size) if samples.size > 1 else math.nan
        return {"index": index, "repeat": repeat, "freq_set_hz": f, "freq_counter_hz": f_meas,
                "freq_jitter_hz": jitter, "transmission_V": float(samples.mean()),
                "transmission_err_V": float(err), "light_power_uW": st.light_power_uW(),
                **lock_columns(engine), "time_s": engine.now_s()}

    total = p.repeats * n
    with engine.scan("rfscan", COLUMNS, parameters, expected_points=total,
                     label=label or f"rf {light_uW:.3g} uW {p.rf_power_dBm:g} dBm") as scan:
        index = 0
        for repeat in range(p.repeats):
            order = range(n - 1, -1, -1) if (p.alternate and repeat % 2) else range(n)
            for k in order:
                row = scan.point(functools.partial(measure, index, repeat, k))
                average.add(k, row["transmission_V"])
                counter_average.add(k, row["freq_counter_hz"])
                index += 1
        rf.rf_on = False
        _write_average(scan, freqs, average, counter_average)
        summary = {"scan": scan.path, "points": scan.n_points, "light_power_uW": light_uW,
                   "rf_power_dBm": p.rf_power_dBm, "repeats": p.repeats}
        scan.write_array("result_json", result_array(summary), "")
    return summary


class RunningMean:
    """Mean and standard error per slot, updated one value at a time (Welford; NaNs skipped)."""

    def __init__(self, n: int) -> None:
        self.count = np.zeros(n, dtype=np.int64)
        self.mean = np.zeros(n)
        self._m2 = np.zeros(n)

    def add(self, k: int, value: float) -> None:
        if not math.isfinite(value):
            return
        self.count[k] += 1
        delta = value - self.mean[k]
        self.mean[k] += delta / self.count[k]
        self._m2[k] += delta * (value - self.mean[k])

    def values(self) -> np.ndarray:
        return np.where(self.count > 0, self.mean, np.nan)

    def sem(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            sem = np.sqrt(self._m2 / (self.count - 1) / self.count)
        return np.where(self.count > 1, sem, np.nan)


def _write_average(scan: Any, freqs: np.ndarray, average: RunningMean, counter: RunningMean) -> None:
    """Mean transmission over repeats per frequency, its standard error, the mean counter reading."""
    scan.write_array("average_freq_set_hz", freqs, "Hz")
    scan.write_array("average_transmission_V", average.values(), "V",
                     {"n_repeats_max": int(average.count.max())})
    scan.write_array("average_transmission_err_V", average.sem(), "V")
    scan.write_array("average_freq_counter_hz", counter.values(), "Hz")
    scan.write_array("average_n_repeats", average.count, "")
