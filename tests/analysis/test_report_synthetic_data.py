"""Synthetic run folders for the analysis tests: kmor.storage.ScanWriter files whose signals come
from the simulated lab's physics (kmor.sim.physics.LabPhysics) plus seeded noise.

The lab is given the paper's numbers (NMOR width 2.9 uG at zero light, 0.91 uG/uW on D1; 0-0 FWHM
10.6 Hz and wall shift -9.1 Hz), so `analyze` must give them back. Laser drift is off and the
transverse residual field is nulled (what the zeroing step does), so the only errors are the noise.
The columns are those the engine's sequences write (kmor/sequences/bscan.py and rfscan.py).
Also a few tests that the generator itself gives what it claims.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pytest

from kmor.config.model import PolarimeterSection
from kmor.sim.physics import ApparatusState, LabPhysics, PhysicsParams
from kmor.sim.physics.params import without_drifts

from kmor.storage import ScanWriter, new_run_dir, next_scan_path

POLARIMETER_V_PER_RAD = PolarimeterSection().calibration_V_per_rad

D1_NM = 770.108385
TRUE_WIDTH0_UG = 2.9
TRUE_FWHM0_HZ = 10.6
TRUE_SHIFT_HZ = -9.1
BZ_RF_UG = 1400.0

B_COLUMNS: dict[str, Any] = {
    "index": ("", "i8"), "sweep": ("", "str8"), "field_set_uG": "uG", "field_uG": "uG", "coil_drive_bz": "mA",
    "x_V": "V", "y_V": "V", "x_err_V": "V", "y_err_V": "V", "sensitivity_V": "V", "light_power_uW": "uW",
    "lock_error_V": "V", "lock_error_rms_V": "V", "locked": ("", "bool"), "time_s": "s"}
RF_COLUMNS: dict[str, Any] = {
    "index": ("", "i8"), "repeat": ("", "i8"), "freq_set_hz": "Hz", "freq_counter_hz": "Hz",
    "freq_jitter_hz": "Hz", "transmission_V": "V", "transmission_err_V": "V", "light_power_uW": "uW",
    "lock_error_V": "V", "lock_error_rms_V": "V", "locked": ("", "bool"), "time_s": "s"}


class SyntheticLab:
    """The simulated cell at the largest-rotation detuning on D1, driven point by point."""

    def __init__(self, seed: int = 1) -> None:
        params = without_drifts(PhysicsParams())     # the analysis is tested on drift-free data here
        params = dataclasses.replace(params, laser=dataclasses.replace(
            params.laser, drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0))
        self.physics = LabPhysics(params, np.random.default_rng(seed), polarimeter_V_per_rad=POLARIMETER_V_PER_RAD)
        self.rng = np.random.default_rng(seed + 1000)
        self.residual = params.fields.residual_uG
        det = self.physics.best_detuning_MHz("D1")
        self.state = ApparatusState(wavelength_nm=D1_NM, piezo_pct=50.0 + det / params.laser.piezo_MHz_per_pct,
                                    attenuator_V=0.0)
        self.t_s = 0.0

    def set_light_uW(self, power_uW: float) -> float:
        o = self.physics.params.optics
        frac = (power_uW / o.max_power_uW - o.attenuator_extinction) / (1.0 - o.attenuator_extinction)
        self.state.attenuator_V = o.attenuator_full_scale_V * 2.0 / math.pi * math.asin(math.sqrt(frac))
        return self.physics.light_power_uW(self.state)

    def set_bz_uG(self, bz_uG: float) -> None:
        """Coil fields: Bz as asked, Bx and By cancelling the residual (nulled transverse field)."""
        self.state.field_uG = (-self.residual[0], -self.residual[1], bz_uG)

    def measured_light_uW(self) -> float:
        return self.physics.light_power_uW(self.state) * (1.0 + 0.002 * self.rng.standard_normal())


def _writer(run: Path, kind: str, columns: dict[str, Any], parameters: dict[str, Any],
            n: int) -> ScanWriter:
    return ScanWriter(next_scan_path(run, kind), kind=kind, columns=columns, parameters=parameters,
                      snapshot={"laser": {"wavelength_nm": D1_NM}}, config_text="# synthetic",
                      kmor_version="test", expected_points=n)


def bscan_rows(lab: SyntheticLab, power_uW: float, range_uG: float, step_uG: float,
               noise_factor: float = 1.0) -> list[dict[str, Any]]:
    """Rows of a triangular B scan (down, then up) at `power_uW`; the noise is the polarimeter's
    (excess x shot noise) for a 30 ms, 24 dB/oct lock-in and 2 readings, times `noise_factor`."""
    lab.set_light_uW(power_uW)
    half = int(round(range_uG / step_uG))
    up = np.arange(-half, half + 1) * step_uG
    points = [("down", b) for b in up[::-1]] + [("up", b) for b in up]
    enbw_hz = 5.0 / (64.0 * 0.03)
    rows = []
    for i, (sweep, b) in enumerate(points):
        lab.set_bz_uG(b)
        lab.t_s += 0.5
        signal = lab.physics.polarimeter_signal_V(lab.t_s, lab.state)
        sigma = noise_factor * lab.physics.polarimeter_noise_V_per_rtHz(lab.state) * math.sqrt(enbw_hz / 2.0)
        x, y = signal.real + sigma * lab.rng.standard_normal(), signal.imag + sigma * lab.rng.standard_normal()
        rows.append({"index": i, "sweep": sweep, "field_set_uG": b, "field_uG": b, "coil_drive_bz": b / 100.0,
                     "x_V": x, "y_V": y, "x_err_V": sigma * abs(lab.rng.standard_normal()),
                     "y_err_V": sigma, "sensitivity_V": 1e-3, "light_power_uW": lab.measured_light_uW(),
                     "lock_error_V": 1e-4 * lab.rng.standard_normal(), "lock_error_rms_V": 1e-4,
                     "locked": True, "time_s": lab.t_s})
    return rows


def write_bscan(run: Path, lab: SyntheticLab, power_uW: float, range_uG: float = 60.0, step_uG: float = 1.0,
                noise_factor: float = 1.0, drop_columns: Iterable[str] = (),
                rows: list[dict[str, Any]] | None = None, extra_columns: dict[str, Any] | None = None) -> Path:
    """One complete B scan file; `drop_columns` leaves columns out (a sequence that did not record
    them), `extra_columns` adds some (their values must be in `rows`)."""
    rows = rows if rows is not None else bscan_rows(lab, power_uW, range_uG, step_uG, noise_factor)
    columns = {k: v for k, v in B_COLUMNS.items() if k not in set(drop_columns)}
    columns.update(extra_columns or {})
    params = {"sequence": "bscan", "field_range_uG": range_uG, "step_uG": step_uG, "light_power_uW": power_uW,
              "averages": 2, "line": "D1"}
    with _writer(run, "bscan", columns, params, len(rows)) as w:
        for row in rows:
            w.append({k: row[k] for k in columns})
        return w.path


def rf_rows(lab: SyntheticLab, power_uW: float, rf_dBm: float, center_hz: float, span_hz: float,
            step_hz: float, repeats: int, noise_V: float) -> list[dict[str, Any]]:
    """Rows of a stepped rf scan (`repeats` upward sweeps) with Gaussian transmission noise."""
    lab.set_light_uW(power_uW)
    lab.set_bz_uG(BZ_RF_UG)
    lab.state.rf_on = True
    lab.state.rf_amplitude_dBm = rf_dBm
    half = int(round(span_hz / 2 / step_hz))
    freqs = np.round(center_hz + np.arange(-half, half + 1) * step_hz)
    rows = []
    for r in range(repeats):
        for f in freqs:
            lab.state.rf_freq_hz = float(f)
            lab.t_s += 0.3
            v = lab.physics.transmission_V(lab.t_s, lab.state) + noise_V * lab.rng.standard_normal()
            rows.append({"index": len(rows), "repeat": r, "freq_set_hz": float(f),
                         "freq_counter_hz": float(f) + 0.01 * lab.rng.standard_normal(), "freq_jitter_hz": 0.01,
                         "transmission_V": v, "transmission_err_V": noise_V / 4.0,
                         "light_power_uW": lab.measured_light_uW(), "lock_error_V": 1e-4, "lock_error_rms_V": 1e-4,
                         "locked": True, "time_s": lab.t_s})
    lab.state.rf_on = False
    return rows


def write_rfscan(run: Path, lab: SyntheticLab, power_uW: float, rf_dBm: float, center_hz: float = 461_719_711.0,
                 span_hz: float = 120.0, step_hz: float = 1.0, repeats: int = 4, noise_V: float = 2e-7) -> Path:
    rows = rf_rows(lab, power_uW, rf_dBm, center_hz, span_hz, step_hz, repeats, noise_V)
    params = {"sequence": "rfscan", "bz_uG": BZ_RF_UG, "center_hz": center_hz, "span_hz": span_hz,
              "step_hz": step_hz, "repeats": repeats, "rf_power_dBm": rf_dBm, "light_power_uW": power_uW}
    with _writer(run, "rfscan", RF_COLUMNS, params, len(rows)) as w:
        for row in rows:
            w.append(row)
        return w.path


LOW_POWERS_UW = (2.0, 4.0, 6.0, 8.0, 10.0)
RF_LIGHT_UW = (4.0, 8.0, 12.0)
RF_POWERS_DBM = (-40.0, -36.0, -32.0)


def make_paper_runs(data_dir: Path, seed: int = 7, wide: bool = True) -> tuple[Path, Path]:
    """Two run folders like `kmor run paper.toml` makes: a D1 power series (2-10 uW on +-60 uG and
    115 uW on +-800 uG) and a 3 x 3 light x rf power grid of 0-0 scans (plus one wide scan showing
    the Zeeman components). Returns (nmor run, rf run)."""
    lab = SyntheticLab(seed)
    nmor = new_run_dir(data_dir, "power-series")
    for p in LOW_POWERS_UW:   # 6x the white noise (the ~12 urad signal at 2 uW: docs/noise.md)
        write_bscan(nmor, lab, p, range_uG=60.0, step_uG=1.0, noise_factor=6.0)
    write_bscan(nmor, lab, 115.0, range_uG=800.0, step_uG=8.0, noise_factor=6.0)
    rf = new_run_dir(data_dir, "rf-grid")
    for light in RF_LIGHT_UW:
        for level in RF_POWERS_DBM:
            write_rfscan(rf, lab, light, level)
    if wide:
        write_rfscan(rf, lab, 30.0, -10.0, center_hz=461_719_711.0, span_hz=7000.0, step_hz=20.0,
                     repeats=1, noise_V=1e-6)
    return nmor, rf


# -- checks of the generator itself ------------------------------------------------------------

def test_generator_puts_the_lab_at_the_largest_rotation_and_nulls_the_transverse_field():
    lab = SyntheticLab(1)
    assert lab.physics.laser_detuning_MHz(0.0, lab.state) == pytest.approx(lab.physics.best_detuning_MHz("D1"))
    assert lab.set_light_uW(10.0) == pytest.approx(10.0, rel=1e-9)
    lab.set_bz_uG(5.0)
    bx, by, bz = lab.physics.field_in_cell_uG(lab.state)
    assert (bx, by) == pytest.approx((0.0, 0.0), abs=1e-12)
    assert bz == pytest.approx(5.0 + lab.residual[2])


def test_generator_rf_line_has_the_papers_intrinsic_width_and_shift():
    from kmor.sim.physics import double_resonance as dr
    rf = SyntheticLab(1).physics.params.rf
    assert dr.fwhm_hz(rf, 0.0, -120.0) == pytest.approx(TRUE_FWHM0_HZ, rel=1e-6)
    shift = dr.zero_zero_centre_hz(rf, 0.0, BZ_RF_UG * 1e-6) - 461_719_720.1
    assert shift == pytest.approx(TRUE_SHIFT_HZ + 0.0167, abs=1e-3)  # + second-order Zeeman at 1.4 mG
