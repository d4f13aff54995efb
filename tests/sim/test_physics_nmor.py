"""The zero-field NMOR model: alignment multipole, widths, power broadening, transverse fields, the
nested F=1 feature, detuning dependence and magnitudes. Widths are measured the way a person would:
extrema of a dense noiseless scan, or a single-dispersive fit with a linear background."""

import dataclasses

import numpy as np
import pytest
from scipy.optimize import curve_fit

from kmor.sim.physics import ApparatusState, LabPhysics, PhysicsParams
from kmor.sim.physics import nmor
from kmor.sim.physics.params import LaserParams, NmorParams, OpticsParams
from kmor.config.model import PolarimeterSection
from kmor.sim.physics.params import without_drifts

POLARIMETER_V_PER_RAD = PolarimeterSection().calibration_V_per_rad

RESIDUAL = PhysicsParams().fields.residual_uG
BEST_DETUNING_MHZ = -250.0


@pytest.fixture(scope="module")
def model() -> nmor.NmorModel:
    return nmor.NmorModel(NmorParams(), 47.0, 400.0)


def bz_scan(model, power_uW, bz_uG, transverse=(0.0, 0.0), detuning=BEST_DETUNING_MHZ, line="D1"):
    fields = np.stack([np.full_like(bz_uG, transverse[0]), np.full_like(bz_uG, transverse[1]), bz_uG], axis=-1)
    return model.rotation_rad(fields, power_uW, detuning, line)


def peak_to_peak_uG(bz, y):
    return abs(bz[np.argmax(y)] - bz[np.argmin(y)])


def dispersive(b, a, b0, width, c0, c1):
    u = b - b0
    return a * u / (u * u + (width / 2) ** 2) + c0 + c1 * b


def fit_width_uG(bz, y, guess_width):
    p, _ = curve_fit(dispersive, bz, y, p0=[y.max() * guess_width / 2, 0.0, guess_width, 0.0, 0.0])
    return p[2]


def test_field_along_z_gives_exactly_x_over_one_plus_x_squared():
    bz = np.linspace(-30, 30, 601)
    fields = np.stack([0 * bz, 0 * bz, bz], axis=-1)
    x = 2 * bz / 2.9
    assert np.allclose(nmor.alignment_dispersion(fields, 2.9, +1.0), x / (1 + x * x), atol=1e-14)
    assert np.allclose(nmor.alignment_dispersion(fields, 2.9, -1.0), -x / (1 + x * x), atol=1e-14)


def test_closed_form_equals_the_rank2_multipole_steady_state_for_any_field():
    fields = np.random.default_rng(3).normal(scale=6.0, size=(500, 3))
    for width, sign in [(2.9, 1.0), (5.4, -1.0)]:
        assert np.allclose(nmor.dispersion(fields, width, sign),
                           nmor.alignment_dispersion(fields, width, sign), atol=1e-13)


def test_width_at_zero_power_equals_the_intrinsic_width(model):
    bz = np.linspace(-10, 10, 40001)
    y = bz_scan(model, 1e-4, bz)
    assert peak_to_peak_uG(bz, y) == pytest.approx(2.9, abs=0.001)


def test_width_grows_at_0p91_uG_per_uW(model):
    powers = np.array([0.0, 2.0, 4.0, 6.0, 8.0, 10.0])
    bz = np.linspace(-20, 20, 40001)
    widths = [peak_to_peak_uG(bz, bz_scan(model, max(p, 1e-3), bz)) for p in powers]
    slope, intercept = np.polyfit(powers, widths, 1)
    assert slope == pytest.approx(0.91, rel=0.02)
    assert intercept == pytest.approx(2.9, rel=0.01)


def test_single_dispersive_fits_below_10_uW_recover_2p9_at_zero_power(model):
    powers = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    widths = []
    for p in powers:
        expected = 2.9 + 0.91 * p
        bz = np.linspace(-800, 800, 3201)
        w = fit_width_uG(bz, bz_scan(model, p, bz + RESIDUAL[2]), expected)
        assert w == pytest.approx(expected, rel=0.002)          # brief: within ~1 %
        widths.append(w)
    slope, intercept = np.polyfit(powers, widths, 1)
    assert intercept == pytest.approx(2.9, rel=0.003)
    assert slope == pytest.approx(0.91, rel=0.005)


def test_transverse_residual_broadens_and_cancelling_restores_the_shape(model):
    bz = np.linspace(-40, 40, 8001)
    ideal = 2.9 + 0.91 * 2.0
    raw = peak_to_peak_uG(bz, bz_scan(model, 2.0, bz, transverse=RESIDUAL[:2]))
    nulled = peak_to_peak_uG(bz, bz_scan(model, 2.0, bz, transverse=(0.0, 0.0)))
    nearly = peak_to_peak_uG(bz, bz_scan(model, 2.0, bz, transverse=(0.35, -0.35)))
    assert raw > 1.2 * ideal
    assert nulled == pytest.approx(ideal, abs=0.02)
    assert nearly == pytest.approx(ideal, rel=0.04)


def test_transverse_field_makes_the_bz_curve_asymmetric(model):
    bz = np.linspace(-40, 40, 8001)                    # symmetric about 0, so y[::-1] is y(-B)

    def even_part(y):
        return np.abs(y + y[::-1] - 2 * y[bz.size // 2]).max() / (y.max() - y.min())
    assert even_part(bz_scan(model, 2.0, bz, transverse=RESIDUAL[:2])) > 0.05
    assert even_part(bz_scan(model, 2.0, bz)) < 1e-9


def test_nested_feature_at_115_uW_has_opposite_sign_and_is_narrow(model):
    bz = np.linspace(-300, 300, 60001)
    high = bz_scan(model, 115.0, bz)
    low = bz_scan(model, 5.0, bz)
    centre = np.argmin(np.abs(bz))
    slope_high = np.gradient(high, bz)[centre]
    slope_low = np.gradient(low, bz)[centre]
    assert slope_low > 0 and slope_high < 0            # the narrow F=1 feature reverses the centre
    ext = [bz[j] for j in range(1, bz.size - 1) if (high[j] - high[j - 1]) * (high[j + 1] - high[j]) < 0]
    assert len(ext) == 4
    outer, inner = max(abs(e) for e in ext), min(abs(e) for e in ext)
    w2, w1 = nmor.widths_uG(NmorParams(), "D1", 115.0)
    assert w2 / 2 < outer < w2                         # the broad F=2 curve, pushed out by the F=1 dip
    assert inner < w1                                  # the narrow F=1 feature
    assert inner < outer / 4


def test_no_nested_feature_below_10_uW(model):
    bz = np.linspace(-60, 60, 12001)
    y = bz_scan(model, 10.0, bz)
    ext = [j for j in range(1, bz.size - 1) if (y[j] - y[j - 1]) * (y[j + 1] - y[j]) < 0]
    assert len(ext) == 2


def test_rotation_is_largest_about_250_MHz_below_the_d1_centre(model):
    detunings = np.arange(-1000.0, 600.0, 1.0)
    amplitude = np.array([model.amplitudes_rad("D1", 10.0, d)[0] for d in detunings])
    assert detunings[np.argmax(amplitude)] == pytest.approx(-250.0, abs=30.0)
    assert amplitude.min() < 0 < amplitude.max()        # the FM signal changes sign across the line
    assert model.amplitudes_rad("D1", 10.0, -250.0)[0] > 3 * model.amplitudes_rad("D1", 10.0, -700.0)[0]


def test_rotation_magnitudes_span_tens_of_urad_to_about_a_mrad(model):
    peak_low = model.amplitudes_rad("D1", 2.0, BEST_DETUNING_MHZ)[0] / 2
    peak_high = model.amplitudes_rad("D1", 115.0, BEST_DETUNING_MHZ)[0] / 2
    assert 10e-6 <= peak_low <= 50e-6
    assert 0.5e-3 <= peak_high <= 1.5e-3


def test_d2_saturates_at_a_few_uW_while_d1_keeps_growing(model):
    def peak(line, p):
        return model.amplitudes_rad(line, p, model_best(model, line))[0]
    assert peak("D2", 20.0) / peak("D2", 5.0) < 1.5
    assert peak("D1", 20.0) / peak("D1", 5.0) > 3.0
    assert peak("D2", 3.0) >= 0.5 * peak("D2", 1e4)


def model_best(model, line):
    grid = np.arange(-1000.0, 1000.0, 1.0)
    return grid[np.argmax([model.spectral_factor(line, d) for d in grid])]


def test_lock_in_signal_is_linear_in_power_at_low_power():
    """The polarimeter's output is normalised (difference over sum, calibration in V/rad), so the
    lock-in follows the rotation angle, which grows as P well below saturation."""
    params = dataclasses.replace(without_drifts(PhysicsParams()), laser=LaserParams(drift_random_walk_MHz_per_rtS=0.0,
                                                                    drift_linear_MHz_per_h=0.0,
                                                                    initial_offset_MHz=BEST_DETUNING_MHZ))

    def signal_at(power):
        p = dataclasses.replace(params, optics=OpticsParams(default_power_uW=power))
        lab = LabPhysics(p, np.random.default_rng(0), polarimeter_V_per_rad=POLARIMETER_V_PER_RAD)
        width = 2.9 + 0.91 * power
        state = ApparatusState(field_uG=(-RESIDUAL[0], -RESIDUAL[1], width / 2 - RESIDUAL[2]))
        return lab.polarimeter_signal_V(0.0, state).real
    ratio = signal_at(1.0) / signal_at(0.5)
    assert ratio == pytest.approx(2.0, rel=0.02)
    assert signal_at(115.0) / signal_at(57.5) < 3.0
