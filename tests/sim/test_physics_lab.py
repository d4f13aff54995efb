"""LabPhysics as the instrument emulators use it: light, laser tuning and drift, determinism, faults,
off-resonance behaviour, noise densities and the describe() summary."""

import dataclasses
import math

import numpy as np
import pytest

from kmor.config.model import PolarimeterSection
from kmor.sim.physics import ApparatusState, LabPhysics, PhysicsParams
from kmor.sim.physics.params import without_drifts

POLARIMETER_V_PER_RAD = PolarimeterSection().calibration_V_per_rad

RESIDUAL = PhysicsParams().fields.residual_uG


def lab(seed=0, drifts=False, **laser) -> LabPhysics:
    """The lab's physics; without its slow drifts unless asked (they are tested on their own)."""
    params = PhysicsParams() if drifts else without_drifts(PhysicsParams())
    if laser:
        params = dataclasses.replace(params, laser=dataclasses.replace(params.laser, **laser))
    return LabPhysics(params, np.random.default_rng(seed), polarimeter_V_per_rad=POLARIMETER_V_PER_RAD)


def working_state(**kw) -> ApparatusState:
    """Attenuator at mid range, laser near -250 MHz, field at the F=2 extremum, rf near the 0-0 line."""
    base = dict(attenuator_V=1.0, control_V=-2.5, field_uG=(-RESIDUAL[0], -RESIDUAL[1], 3.0),
                rf_on=True, rf_freq_hz=461_719_711.0)
    base.update(kw)
    return ApparatusState(**base)


def readings(physics: LabPhysics, times) -> list[tuple]:
    s = working_state()
    return [(physics.laser_detuning_MHz(t, s), physics.polarimeter_signal_V(t, s),
             physics.reference_2f_signal_V(t, s), physics.transmission_V(t, s)) for t in times]


def test_same_seed_same_numbers_different_seed_different_drift():
    times = np.arange(0.0, 600.0, 7.0)
    assert readings(lab(seed=42), times) == readings(lab(seed=42), times)
    assert readings(lab(seed=42), times) != readings(lab(seed=43), times)


def test_linear_drift_moves_the_laser_at_the_configured_rate():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=20.0)
    s = working_state()
    start = physics.laser_detuning_MHz(0.0, s)
    assert physics.laser_detuning_MHz(1800.0, s) - start == pytest.approx(10.0, abs=1e-9)


def test_random_walk_spreads_as_sqrt_time():
    s = working_state()
    spread = [lab(seed=k, drift_linear_MHz_per_h=0.0).laser_detuning_MHz(100.0, s) for k in range(400)]
    assert np.std(spread) == pytest.approx(0.2 * math.sqrt(100.0), rel=0.15)
    steps = lab(seed=1, drift_linear_MHz_per_h=0.0)
    walk = [steps.laser_detuning_MHz(t, s) for t in np.arange(1.0, 101.0, 1.0)]
    assert len(set(walk)) == len(walk)                        # advanced at every later query


def test_querying_an_earlier_time_does_not_rewind_the_walk():
    physics = lab(seed=5, drift_linear_MHz_per_h=0.0)
    s = working_state()
    late = physics.laser_detuning_MHz(50.0, s)
    assert physics.laser_detuning_MHz(10.0, s) == late


def test_mode_hop_jumps_the_frequency_and_the_lock_signal():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
    s = working_state()
    before = (physics.laser_detuning_MHz(0.0, s), physics.reference_2f_signal_V(0.0, s))
    physics.mode_hop(-600.0)
    after = (physics.laser_detuning_MHz(0.0, s), physics.reference_2f_signal_V(0.0, s))
    assert after[0] - before[0] == pytest.approx(-600.0)
    assert after[1].real < 0 < before[1].real                  # past the 2f zero crossing: the lock breaks


def test_tuning_coefficients_piezo_control_and_line_choice():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
    base = physics.laser_detuning_MHz(0.0, ApparatusState())
    assert physics.laser_detuning_MHz(0.0, ApparatusState(control_V=1.0)) - base == pytest.approx(100.0)
    assert physics.laser_detuning_MHz(0.0, ApparatusState(piezo_pct=51.0)) - base == pytest.approx(100.0)
    assert physics.laser.line_of(766.70) == "D2"
    assert physics.laser.line_of(770.11) == "D1"
    assert physics.laser.line_of(780.24) is None


def test_off_resonant_laser_gives_no_atomic_signals():
    physics = lab()
    s = working_state(wavelength_nm=780.0)
    assert abs(physics.laser_detuning_MHz(0.0, s)) > 1e6
    assert physics.polarimeter_signal_V(0.0, s) == 0
    assert physics.reference_2f_signal_V(0.0, s) == 0
    assert physics.reference_dc_V(0.0, s) == pytest.approx(2.0)          # full, unabsorbed level
    assert physics.transmission_V(0.0, s) == pytest.approx(
        physics.params.optics.transmission_V_per_uW * physics.light_power_uW(s))   # unabsorbed


def test_laser_off_or_below_threshold_means_no_light():
    physics = lab()
    for s in (working_state(laser_on=False), working_state(diode_current_mA=10.0)):
        assert physics.light_power_uW(s) == 0.0
        assert physics.light_monitor_V(s) == 0.0
        assert physics.polarimeter_signal_V(0.0, s) == 0
        assert physics.transmission_V(0.0, s) == 0.0


def test_attenuator_spans_the_papers_power_range_monotonically():
    physics = lab()
    volts = np.linspace(0.0, 5.0, 51)
    powers = [physics.light_power_uW(ApparatusState(attenuator_V=v)) for v in volts]
    assert np.all(np.diff(powers) > 0)
    assert powers[0] < 2.0 and powers[-1] == pytest.approx(PhysicsParams().optics.max_power_uW)
    assert powers[-1] >= 1.2 * 115.0       # room for the power drift at the paper's highest power
    assert physics.light_power_uW(ApparatusState(attenuator_V=9.0)) == pytest.approx(powers[-1])
    assert physics.light_power_uW(ApparatusState(attenuator_V=None)) == pytest.approx(10.0)
    s = ApparatusState(attenuator_V=2.0)
    assert physics.light_monitor_V(s) == pytest.approx(physics.light_power_uW(s) / 25.0)   # 25 uW/V as [daq]


def test_polarimeter_noise_is_the_excess_factor_times_shot_noise():
    physics = lab()
    s = ApparatusState(attenuator_V=None)                      # 10 uW
    transmitted_W = 10e-6 * physics.cell_transmission(0.0, s)
    h_nu = 6.62607015e-34 * 299_792_458.0 / 770.108385e-9
    shot_rad = 0.5 * math.sqrt(h_nu / (0.8 * transmitted_W))
    assert shot_rad == pytest.approx(9.4e-8, rel=0.05)         # physics.md: 8e-8 rad/sqrt(Hz) at 10 uW
    expected = math.hypot(3.0 * POLARIMETER_V_PER_RAD * shot_rad, 6e-9)
    assert physics.polarimeter_noise_V_per_rtHz(s) == pytest.approx(expected, rel=1e-6)
    assert physics.polarimeter_noise_V_per_rtHz(ApparatusState(laser_on=False)) == pytest.approx(6e-9)


def test_polarimeter_signal_is_in_phase_and_follows_the_field():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
    up = physics.polarimeter_signal_V(0.0, working_state(field_uG=(-RESIDUAL[0], -RESIDUAL[1], 10.0)))
    down = physics.polarimeter_signal_V(0.0, working_state(field_uG=(-RESIDUAL[0], -RESIDUAL[1], -10.0)))
    assert up.real > 0 > down.real
    assert abs(up.imag) < 0.1 * abs(up.real)


def test_transmission_dips_on_the_0_0_line_and_not_far_from_it():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
    field = (-RESIDUAL[0], -RESIDUAL[1], 1400.0 - RESIDUAL[2])
    centre = physics.rf_line_centre_hz(working_state(field_uG=field))
    on = physics.transmission_V(0.0, working_state(field_uG=field, rf_freq_hz=centre))
    far = physics.transmission_V(0.0, working_state(field_uG=field, rf_freq_hz=centre + 500.0))
    off = physics.transmission_V(0.0, working_state(field_uG=field, rf_on=False))
    assert on < far <= off
    assert 1e-4 < (off - on) / off < 1e-2


def test_transmission_level_shows_about_ten_percent_absorption():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
    assert physics.cell_transmission(0.0, ApparatusState(control_V=-2.5)) == pytest.approx(0.91, abs=0.03)


def test_describe_lists_finite_quantities_with_units():
    rows = lab().describe()
    assert all(isinstance(q, str) and isinstance(u, str) and math.isfinite(v) for q, v, u in rows)
    values = {q: v for q, v, _ in rows}
    assert values["coated-cell density"] == pytest.approx(5e9)
    assert values["Larmor frequency F=2"] == pytest.approx(0.70047, abs=1e-5)
    assert values["largest-rotation detuning D1"] == pytest.approx(-250.0, abs=30.0)
    assert values["0-0 FWHM at zero light and rf"] == pytest.approx(10.6)


def test_density_override_zero_uses_the_saturated_vapour():
    params = dataclasses.replace(PhysicsParams(), cell=dataclasses.replace(PhysicsParams().cell,
                                                                           density_override_cm3=0.0))
    assert LabPhysics(params, np.random.default_rng(0), polarimeter_V_per_rad=POLARIMETER_V_PER_RAD).cell_density_cm3 == pytest.approx(6.45e9, rel=0.01)


def test_d2_line_gives_a_weaker_rotation_than_d1():
    physics = lab(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
    field = (-RESIDUAL[0], -RESIDUAL[1], 3.0)
    d1 = physics.nmor_rotation_rad(0.0, ApparatusState(control_V=-2.5, field_uG=field))
    d2 = physics.nmor_rotation_rad(0.0, ApparatusState(wavelength_nm=766.700922, control_V=-2.35, field_uG=field))
    assert 0 < d2 < d1
