"""The reference cell's 2f lock signal and the rf-optical double resonance of the coated cell."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.optimize import curve_fit

from kmor.sim.physics import ApparatusState, LabPhysics, PhysicsParams, breit_rabi, reference_cell, vapor
from kmor.sim.physics.params import LaserParams, OpticsParams
from kmor.config.model import PolarimeterSection

POLARIMETER_V_PER_RAD = PolarimeterSection().calibration_V_per_rad

NU_REF = 461_719_720.1
FIELD_G = 1.4e-3
RESIDUAL = PhysicsParams().fields.residual_uG
STILL_LASER = LaserParams(drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0, initial_offset_MHz=0.0)


def lab_at(power_uW=10.0) -> LabPhysics:
    params = dataclasses.replace(PhysicsParams(), laser=STILL_LASER,
                                 optics=OpticsParams(default_power_uW=power_uW))
    return LabPhysics(params, np.random.default_rng(0), polarimeter_V_per_rad=POLARIMETER_V_PER_RAD)


def tuned(detuning_MHz, **kw) -> ApparatusState:
    """State with the laser at `detuning_MHz` (control input at 100 MHz/V) and the field 1.4 mG along z."""
    field = (-RESIDUAL[0], -RESIDUAL[1], FIELD_G * 1e6 - RESIDUAL[2])
    return ApparatusState(control_V=detuning_MHz / 100.0, field_uG=field, **kw)


# --- reference cell ----------------------------------------------------------------------------------

def test_gauss_chebyshev_2f_tends_to_a_squared_over_4_times_curvature():
    n_ref = vapor.number_density_cm3(100.0)
    nu, a, h = -250.0, 20.0, 5.0
    s2 = reference_cell.harmonic_signal(nu, 2, "D1", 100.0, n_ref, 0.1, a)
    t = [reference_cell.transmission(nu + k * h, "D1", 100.0, n_ref, 0.1) for k in (-1, 0, 1)]
    curvature = (t[0] - 2 * t[1] + t[2]) / h ** 2
    assert s2 == pytest.approx(a * a / 4 * curvature, rel=0.02)


def test_reference_2f_changes_sign_across_the_line():
    lab = lab_at()
    s = {d: lab.reference_2f_signal_V(0.0, tuned(d)).real for d in (-900.0, -250.0, 0.0, 900.0)}
    assert s[-900.0] < 0 < s[-250.0]
    assert s[0.0] > 0 > s[900.0]


def test_normalised_2f_has_a_usable_monotonic_slope_at_minus_250_MHz():
    lab = lab_at()
    detunings = np.arange(-400.0, -99.0, 5.0)
    ratio = np.array([lab.reference_2f_signal_V(0.0, tuned(d)).real / lab.reference_dc_V(0.0, tuned(d))
                      for d in detunings])
    slopes = np.diff(ratio) / 5.0
    assert np.all(slopes > 0)                                  # monotonic around the lock point
    at_lock = np.interp(-250.0, detunings[:-1] + 2.5, slopes)
    assert 0.7e-4 < at_lock * math.sqrt(2) < 3e-4              # ~1e-4 per MHz in S_2/S_0 (physics.md)


def test_reference_2f_voltage_suits_an_sr830_and_locks_to_sub_MHz():
    lab = lab_at()
    state = tuned(-250.0)
    v = lab.reference_2f_signal_V(0.0, state).real
    slope_V_per_MHz = (lab.reference_2f_signal_V(0.0, tuned(-249.0)).real
                       - lab.reference_2f_signal_V(0.0, tuned(-251.0)).real) / 2.0
    assert 0.01 < v < 1.0                                      # 20-500 mV sensitivity range
    noise_in_1Hz = lab.reference_noise_V_per_rtHz(state)
    assert noise_in_1Hz / slope_V_per_MHz < 0.1                # frequency noise < 0.1 MHz/sqrt(Hz)


# --- rf double resonance ------------------------------------------------------------------------------

def lorentz_dip(f, level, depth, f0, fwhm):
    return level - depth / (1 + ((f - f0) / (fwhm / 2)) ** 2)


def fit_zero_zero(lab, power_uW, dBm, half_span_hz):
    """Lorentzian fit of a noiseless 1 Hz-step scan: (centre Hz, FWHM Hz, fractional depth)."""
    centre_guess = NU_REF - 9.1
    freqs = np.arange(centre_guess - half_span_hz, centre_guess + half_span_hz + 1, 1.0)   # 1 Hz steps
    v = np.array([lab.transmission_V(0.0, tuned(-250.0, rf_on=True, rf_freq_hz=f, rf_amplitude_dBm=dBm))
                  for f in freqs])
    level = lab.transmission_V(0.0, tuned(-250.0, rf_on=False))
    y = 1e4 * (v / level - 1.0)                                 # fractional change, in units of 1e-4
    x = freqs - centre_guess
    p, _ = curve_fit(lorentz_dip, x, y, p0=[0.0, -y.min(), 0.0, 20.0], xtol=1e-14, ftol=1e-14)
    return p[2] + centre_guess, abs(p[3]), p[1] * 1e-4


def test_no_rf_signal_with_rf_off():
    lab = lab_at()
    off = {lab.transmission_V(0.0, tuned(-250.0, rf_on=False, rf_freq_hz=f)) for f in (NU_REF - 9.1, NU_REF + 500)}
    assert len(off) == 1
    on = lab.transmission_V(0.0, tuned(-250.0, rf_on=True, rf_freq_hz=NU_REF - 9.1))
    assert on < off.pop()


def test_double_extrapolation_recovers_10p6_Hz_and_minus_9p1_Hz():
    light = [2.0, 5.0, 10.0, 20.0, 30.0]
    rf_dBm = [-32.0, -29.0, -26.0, -23.0]
    zero_light_sq, centres = [], []
    for dBm in rf_dBm:
        widths = []
        for p in light:
            centre, fwhm, _ = fit_zero_zero(lab_at(p), p, dBm, 250)
            widths.append(fwhm)
            centres.append(centre)
        # pi^2 FWHM^2 = (G2_0 + a P)^2 + Omega^2 G2/G1: quadratic in light power at fixed rf power
        zero_light_sq.append(np.polyval(np.polyfit(light, np.square(widths), 2), 0.0))
    rf_mW = [10 ** (d / 10) for d in rf_dBm]
    intrinsic = math.sqrt(np.polyval(np.polyfit(rf_mW, zero_light_sq, 1), 0.0))
    assert intrinsic == pytest.approx(10.6, abs=0.02)
    second_order = breit_rabi.clock_shift_hz_per_G2() * FIELD_G ** 2
    shift = np.array(centres) - NU_REF - second_order
    assert np.allclose(shift, -9.1, atol=0.002)                # no dependence on light or rf power


def test_width_like_the_paper_at_12_uW_and_mid_rf_power():
    _, fwhm, contrast = fit_zero_zero(lab_at(12.0), 12.0, -20.0, 300)
    assert fwhm == pytest.approx(47.2, abs=1.5)
    assert 1e-4 < contrast < 1e-2


def test_zeeman_components_resolved_at_1p4_mG():
    lab = lab_at(30.0)
    offsets = np.arange(-3500.0, 3501.0, 2.0)
    base = NU_REF - 9.1
    v = np.array([lab.transmission_V(0.0, tuned(-250.0, rf_on=True, rf_freq_hz=base + o, rf_amplitude_dBm=-10.0))
                  for o in offsets])
    minima = [offsets[j] for j in range(1, v.size - 1) if v[j] < v[j - 1] and v[j] <= v[j + 1]]
    expected = [-2942.5, -1961.9, -981.0, 0.0, 981.0, 1961.9, 2942.5]
    assert len(minima) == len(expected)
    assert np.allclose(minima, expected, atol=4.0)


def test_single_scan_is_noisy_but_a_hundred_averages_are_clean_at_low_power():
    lab = lab_at(2.0)
    _, _, contrast = fit_zero_zero(lab, 2.0, -34.0, 150)   # the low end of the paper grid
    state = tuned(-250.0)
    relative_noise = lab.transmission_noise_V_per_rtHz(state) / lab.transmission_V(0.0, state)
    per_point = relative_noise * math.sqrt(1 / (2 * 0.2))      # 0.2 s per 1 Hz step
    assert contrast / per_point < 5                            # one scan: a line barely out of the noise
    assert contrast / (per_point / math.sqrt(100)) > 20        # 100 scans averaged: a clean line
