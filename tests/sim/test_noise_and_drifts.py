"""The simulated lab's imperfections are physics with the documented magnitudes (docs/noise.md):
the polarimeter lock-in's output noise is the photon shot noise x the excess factor through the
polarimeter's V/rad gain and the lock-in's noise bandwidth; the slow drifts are seeded and have
their configured rms and short-time random-walk rate."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from kmor.config.files import load_config
from kmor.sim.instruments.sr830 import ENBW_TIMES_TAU, TIME_CONSTANTS_S
from kmor.sim.lab import SimLab
from kmor.sim.physics import noise
from kmor.sim.physics.constants import LINES
from kmor.sim.physics.drift import OUDrift
from kmor.sim.physics.params import without_drifts


def _lab(drifts: bool = False, seed: int = 7) -> SimLab:
    cfg = load_config().config
    physics = cfg.sim.physics if drifts else without_drifts(cfg.sim.physics)
    cfg = dataclasses.replace(cfg, sim=dataclasses.replace(cfg.sim, seed=seed, physics=physics))
    lab = SimLab(cfg)
    laser = lab.laser
    laser.output_on = True
    laser.current_setpoint_mA = 50.0
    laser.wavelength_setpoint_nm = LINES["D1"].wavelength_nm
    laser._move_from_nm = laser.wavelength_setpoint_nm
    lab.daq.write_ao_V(cfg.daq.attenuator_ao, 0.55)           # a few uW into the cell
    lab.daq.write_ao_V(cfg.daq.laser_control_ao, -2.5)         # -250 MHz, the lock point
    return lab


def test_lockin_output_noise_is_shot_noise_times_excess_through_gain_and_enbw():
    lab = _lab()
    physics = lab.physics
    li = lab.lockin_polarimeter
    li.time_constant_index = TIME_CONSTANTS_S.index(0.03)
    li.slope_index = 3                                              # 24 dB/oct
    li.sensitivity_index = 20                                       # 1 mV: no overload
    state = lab.state()
    power_in_uW = physics.light_power_uW(state)
    assert 1.0 < power_in_uW < 6.0
    detected_W = power_in_uW * 1e-6 * physics.cell_transmission(state.time_s, state)
    shot = noise.polarimeter_shot_noise_rad_per_rtHz(detected_W, LINES["D1"].wavelength_nm, 0.8)
    h_nu = 6.62607015e-34 * 299_792_458.0 / (LINES["D1"].wavelength_nm * 1e-9)
    assert shot == pytest.approx(0.5 / math.sqrt(0.8 * detected_W / h_nu), rel=1e-9)   # 1/(2 sqrt(N/s))
    enbw_hz = ENBW_TIMES_TAU[3] / 0.03
    expected_V = math.hypot(3.0 * 10.0 * shot, 6e-9) * math.sqrt(enbw_hz)           # excess 3, 10 V/rad
    xs = []
    for _ in range(600):
        lab.clock.advance(1.0)                                      # >> 1/(4 ENBW): independent readings
        xs.append(li.outputs()["X"])
    xs = np.asarray(xs)
    measured = float(np.std(xs - np.mean(xs), ddof=1))
    assert measured == pytest.approx(expected_V, rel=0.12)          # 600 samples: +-3 % statistical


def test_polarimeter_noise_in_rad_is_independent_of_the_calibration():
    a, b = _lab(), _lab()
    object.__setattr__(b.physics, "polarimeter_V_per_rad", 40.0)
    sa, sb = a.state(), b.state()
    assert b.physics.polarimeter_rotation_noise_rad_per_rtHz(sb) == pytest.approx(
        a.physics.polarimeter_rotation_noise_rad_per_rtHz(sa))
    ratio = b.physics.polarimeter_signal_V(sb.time_s, sb).real / a.physics.polarimeter_signal_V(sa.time_s, sa).real
    assert ratio == pytest.approx(4.0)


def test_ou_drift_is_seeded_and_has_its_rms_and_random_walk_rate():
    def path(seed: int) -> list[float]:
        d = OUDrift(0.5, 100.0, np.random.default_rng(seed))
        return [d.value(t) for t in np.arange(1.0, 2000.0, 1.0)]
    assert path(3) == path(3)
    assert path(3) != path(4)
    d = OUDrift(0.5, 100.0, np.random.default_rng(0))
    long = np.array([d.value(t) for t in np.arange(0.0, 400_000.0, 50.0)])
    assert np.std(long) == pytest.approx(0.5, rel=0.1)              # stationary rms
    d = OUDrift(0.5, 1000.0, np.random.default_rng(1))
    steps = np.diff([d.value(t) for t in np.arange(0.0, 200_000.0, 10.0)])
    assert np.std(steps) == pytest.approx(d.diffusion_per_rtS() * math.sqrt(10.0), rel=0.08)


def test_ou_drift_holds_its_value_between_steps_shorter_than_hold():
    d = OUDrift(1.0, 60.0, np.random.default_rng(2), hold_s=1.0)
    v = d.value(5.0)
    assert d.value(5.5) == v and d.value(5.99) == v and d.value(6.0) != v


def test_lab_drifts_move_field_power_and_offset_by_their_configured_rms():
    lab = _lab(drifts=True, seed=11)
    p = lab.physics
    times = np.arange(0.0, 200 * 3600.0, 600.0)
    bz = np.array([p.field_drifts[2].value(t) for t in times])
    power = np.array([p.power_drift.value(t) for t in times])
    offset = np.array([p.polarimeter_offset_drift.value(t) for t in times])
    temperature = np.array([p.reference_temperature_drift.value(t) for t in times])
    params = p.params
    assert np.std(bz) == pytest.approx(params.fields.drift_rms_uG, rel=0.25)
    assert np.std(power) == pytest.approx(params.optics.power_drift_rms_fraction, rel=0.25)
    assert np.std(offset) == pytest.approx(params.polarimeter.offset_drift_rms_urad * 1e-6, rel=0.25)
    monitor = np.array([p.monitor_drift.value(t) for t in times])
    assert np.std(monitor) == pytest.approx(params.optics.monitor_drift_rms_fraction, rel=0.25)
    assert np.std(temperature) == pytest.approx(params.reference_cell.temperature_drift_rms_C, rel=0.25)


def test_same_seed_same_drifting_lab_different_seed_different_lab():
    def signals(seed: int) -> list[float]:
        lab = _lab(drifts=True, seed=seed)
        out = []
        for _ in range(50):
            lab.clock.advance(60.0)
            s = lab.state()
            out.append(lab.physics.polarimeter_signal_V(s.time_s, s).real + lab.physics.light_power_uW(s))
        return out
    assert signals(5) == signals(5)
    assert signals(5) != signals(6)


def test_reference_temperature_drift_moves_the_lock_point_by_tens_of_MHz_per_C():
    """Hotter reference cell: more vapour, a deeper line, a different 2f level at the lock point;
    the servo holds the level, so the laser moves by (level change) / (flank slope)."""
    p = _lab().physics

    class Held:
        """The reference cell held dT above its set point."""
        def __init__(self, dT: float) -> None:
            self.dT = dT

        def value(self, t_s: float) -> float:
            return self.dT

    def level(det: float, dT: float) -> float:
        p.reference_temperature_drift = Held(dT)
        return p._reference_harmonic(0.0, "D1", det, 1)
    slope = (level(-249.0, 0.0) - level(-251.0, 0.0)) / 2.0
    shift_MHz_per_C = -(level(-250.0, 0.1) - level(-250.0, 0.0)) / slope / 0.1
    assert 5.0 < abs(shift_MHz_per_C) < 100.0      # ~24 MHz/C: docs/noise.md
