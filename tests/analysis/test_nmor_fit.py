"""fit_nmor recovers known widths and centers from synthetic NMOR scans, with honest errors,
without starting values, on awkward scans (backgrounds, sparse, asymmetric, triangle sweeps),
and for the nested two-component shape."""

import json

import numpy as np
import pytest

from kmor.analysis import dispersive, dispersive_sum, fit_nmor, gamma_nmor_hz


def _scan(field_uG, amplitude, center_uG, width_uG, offset, slope, noise, seed):
    rng = np.random.default_rng(seed)
    clean = dispersive(field_uG, amplitude, center_uG, width_uG, offset, slope)
    return clean + rng.normal(0.0, noise, np.shape(field_uG))


def test_paper_fig3_like_scan_gives_its_width_and_gamma():
    # 10.7 uW D1 scan: DeltaB 12.6 uG over +-800 uG (400 points), rotation ~1 mrad scale
    field = np.linspace(-800, 800, 400)
    signal = _scan(field, 12.6 * 0.5, 1.5, 12.6, 0.02, 2e-5, noise=0.01, seed=1)
    fit = fit_nmor(field, signal, sigma=0.01)
    assert abs(fit.width_uG - 12.6) < 4 * fit.width_err_uG
    assert 0.02 < fit.width_err_uG < 0.3
    assert abs(fit.center_uG - 1.5) < 4 * fit.center_err_uG
    assert fit.n_points == 400 and fit.dof == 395
    assert 0.8 < fit.chi2_red < 1.2
    assert gamma_nmor_hz(fit.width_uG) == pytest.approx(0.70047 * fit.width_uG, rel=1e-4)


def test_gamma_from_width_matches_the_paper():
    assert gamma_nmor_hz(2.9) == pytest.approx(2.03, abs=0.005)   # Eq. 1: 2.0(6) Hz
    assert gamma_nmor_hz(12.6) == pytest.approx(8.83, abs=0.005)
    np.testing.assert_allclose(gamma_nmor_hz(np.array([1.0, 10.0])), [0.70047, 7.0047], rtol=1e-4)


@pytest.mark.parametrize("sigma_given", [True, False])
def test_pulls_of_width_and_center_have_unit_spread(sigma_given):
    """On 300 noisy curves, (fit - true)/err has mean ~0 and standard deviation ~1."""
    rng = np.random.default_rng(2024)
    field = np.linspace(-150, 150, 160)
    width_pulls, center_pulls = [], []
    for _ in range(300):
        width, center = rng.uniform(8, 40), rng.uniform(-10, 10)
        noise = 0.05
        signal = (dispersive(field, width * rng.uniform(0.5, 1.0), center, width,
                             rng.normal(0, 1), rng.normal(0, 2e-3))
                  + rng.normal(0, noise, field.size))
        fit = fit_nmor(field, signal, sigma=noise if sigma_given else None)
        width_pulls.append((fit.width_uG - width) / fit.width_err_uG)
        center_pulls.append((fit.center_uG - center) / fit.center_err_uG)
    for pulls in (np.array(width_pulls), np.array(center_pulls)):
        assert abs(pulls.mean()) < 0.25
        assert 0.85 < pulls.std() < 1.15


def test_sigma_none_scales_errors_from_the_residual_scatter():
    field = np.linspace(-200, 200, 300)
    signal = _scan(field, 20.0, 0.0, 20.0, 0.0, 0.0, noise=0.03, seed=3)
    scaled = fit_nmor(field, signal)
    absolute = fit_nmor(field, signal, sigma=0.03)
    assert scaled.chi2_red == 1.0 and not scaled.sigma_given
    assert scaled.residual_rms == pytest.approx(0.03, rel=0.15)
    assert scaled.width_uG == pytest.approx(absolute.width_uG, rel=1e-9)
    ratio = scaled.width_err_uG / absolute.width_err_uG
    assert ratio == pytest.approx(np.sqrt(absolute.chi2_red), rel=1e-6)


def test_underestimated_sigma_shows_in_chi2_red():
    field = np.linspace(-200, 200, 300)
    signal = _scan(field, 20.0, 0.0, 20.0, 0.0, 0.0, noise=0.03, seed=4)
    fit = fit_nmor(field, signal, sigma=0.015)
    assert 3.3 < fit.chi2_red < 4.7


def test_large_offset_and_steep_linear_background_are_absorbed():
    # the transit background: mG wide, a steep line over the scan; offset far above the feature
    field = np.linspace(-300, 300, 250)
    signal = _scan(field, 30.0, -7.0, 30.0, 50.0, 4e-3, noise=0.02, seed=5)
    fit = fit_nmor(field, signal, sigma=0.02)
    assert abs(fit.width_uG - 30.0) < 4 * fit.width_err_uG
    assert abs(fit.center_uG + 7.0) < 4 * fit.center_err_uG
    assert abs(fit.offset - 50.0) < 4 * fit.offset_err
    assert abs(fit.slope - 4e-3) < 4 * fit.slope_err


def test_negative_amplitude_is_fitted_with_positive_width():
    field = np.linspace(-100, 100, 120)
    signal = _scan(field, -8.0, 3.0, 16.0, 0.0, 0.0, noise=0.01, seed=6)
    fit = fit_nmor(field, signal)
    assert fit.amplitude < 0 and fit.width_uG > 0
    assert fit.peak_signal == pytest.approx(-0.5, rel=0.05)
    assert abs(fit.width_uG - 16.0) < 4 * fit.width_err_uG


def test_sparse_scan_of_fifteen_points():
    field = np.linspace(-60, 60, 15)
    signal = _scan(field, 20.0, 2.0, 20.0, 0.1, 0.0, noise=0.01, seed=7)
    fit = fit_nmor(field, signal)
    assert abs(fit.width_uG - 20.0) < 4 * fit.width_err_uG
    assert fit.width_err_uG < 2.0


def test_asymmetric_range_with_the_resonance_near_one_end():
    field = np.linspace(-25, 300, 140)
    signal = _scan(field, 10.0, 0.0, 10.0, -0.3, 1e-3, noise=0.02, seed=8)
    fit = fit_nmor(field, signal)
    assert abs(fit.width_uG - 10.0) < 4 * fit.width_err_uG
    assert abs(fit.center_uG) < 4 * fit.center_err_uG


def test_resonance_broader_than_the_scan():
    field = np.linspace(-100, 100, 150)
    signal = _scan(field, 150.0, 10.0, 300.0, 0.0, 0.0, noise=0.002, seed=9)
    fit = fit_nmor(field, signal)
    assert abs(fit.width_uG - 300.0) < 4 * fit.width_err_uG


def test_triangle_scan_down_and_up_in_any_order_gives_one_answer():
    half = np.linspace(800, -800, 200)
    field = np.concatenate([half, half[::-1]])
    signal = _scan(field, 6.0, 0.5, 12.0, 0.0, 1e-5, noise=0.02, seed=10)
    fit = fit_nmor(field, signal)
    order = np.random.default_rng(0).permutation(field.size)
    shuffled = fit_nmor(field[order], signal[order])
    assert fit.n_points == 400
    assert shuffled.width_uG == pytest.approx(fit.width_uG, rel=1e-6)
    assert shuffled.center_uG == pytest.approx(fit.center_uG, rel=1e-6, abs=1e-9)
    assert abs(fit.width_uG - 12.0) < 4 * fit.width_err_uG


def test_same_result_alone_or_after_thousands_of_fits():
    field = np.linspace(-200, 200, 200)
    signal = _scan(field, 15.0, 1.0, 25.0, 0.2, 1e-4, noise=0.02, seed=11)
    first = fit_nmor(field, signal)
    rng = np.random.default_rng(12)
    for _ in range(1000):
        width = rng.uniform(5, 100)
        other = dispersive(field, width * rng.choice([-1, 1]) * rng.uniform(0.3, 1.0),
                           rng.uniform(-50, 50), width)
        fit_nmor(field, other + rng.normal(0, 0.05, field.size))
    again = fit_nmor(field, signal)
    for key in ("width_uG", "width_err_uG", "center_uG", "center_err_uG", "amplitude", "offset"):
        assert getattr(again, key) == pytest.approx(getattr(first, key), rel=1e-6)


def test_curve_and_as_dict():
    field = np.linspace(-100, 100, 101)
    signal = _scan(field, 10.0, 0.0, 20.0, 0.5, 0.0, noise=0.01, seed=13)
    fit = fit_nmor(field, signal)
    expected = dispersive(field, fit.amplitude, fit.center_uG, fit.width_uG, fit.offset, fit.slope)
    np.testing.assert_allclose(fit.curve(field), expected, rtol=1e-12)
    assert np.sqrt(np.mean((fit.curve(field) - signal) ** 2)) < 0.012
    record = json.loads(json.dumps(fit.as_dict()))
    assert record["width_uG"] == fit.width_uG
    assert record["param_names"] == ["center_uG", "offset", "slope", "amplitude_1", "width_uG_1"]
    assert np.sqrt(record["covariance"][4][4]) == pytest.approx(fit.width_err_uG)
    assert len(record["components"]) == 1


def _nested(field, center, broad_uG, narrow_uG, broad_peak, narrow_peak, noise, seed):
    # phi = sum_F A_F x_F/(1 + x_F^2): peak signal A_F/2, amplitude a_F = A_F dB_F/2;
    # g_1 ~ -g_2, so the F=1 term has the opposite sign
    amplitudes = [2 * broad_peak * broad_uG / 2, -2 * narrow_peak * narrow_uG / 2]
    clean = dispersive_sum(field, center, amplitudes, [broad_uG, narrow_uG], 0.05, -1e-4)
    return clean + np.random.default_rng(seed).normal(0.0, noise, field.size)


def test_nested_shape_gives_both_components_narrowest_first():
    field = np.linspace(-400, 400, 401)
    signal = _nested(field, 2.0, 100.0, 30.0, 0.5, 0.2, noise=0.01, seed=14)
    fit = fit_nmor(field, signal, components=2)
    narrow, broad = fit.components
    assert narrow.width_uG < broad.width_uG
    assert abs(narrow.width_uG - 30.0) < 4 * narrow.width_err_uG
    assert abs(broad.width_uG - 100.0) < 4 * broad.width_err_uG
    assert narrow.amplitude < 0 < broad.amplitude
    assert narrow.peak_signal == pytest.approx(-0.2, rel=0.1)
    assert abs(fit.center_uG - 2.0) < 4 * fit.center_err_uG
    assert fit.width_uG == broad.width_uG          # top level: the dominant component
    np.testing.assert_allclose(
        fit.curve(field), narrow.curve(field) + broad.curve(field) - fit.offset - fit.slope * field,
        rtol=1e-10, atol=1e-12)
    assert fit.chi2_red == 1.0 and not fit.sigma_given
    assert json.loads(json.dumps(fit.as_dict()))["components"][0]["width_uG"] == narrow.width_uG


def test_nested_shape_pulls_are_honest():
    field = np.linspace(-400, 400, 201)
    rng = np.random.default_rng(15)
    pulls = []
    for seed in range(80):
        narrow_uG, broad_uG = rng.uniform(20, 35), rng.uniform(90, 130)
        signal = _nested(field, 0.0, broad_uG, narrow_uG, 0.5, 0.25, noise=0.01, seed=seed)
        fit = fit_nmor(field, signal, sigma=0.01, components=2)
        narrow, broad = fit.components
        pulls += [(narrow.width_uG - narrow_uG) / narrow.width_err_uG,
                  (broad.width_uG - broad_uG) / broad.width_err_uG]
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 0.3
    assert 0.8 < pulls.std() < 1.25


def test_single_component_fit_of_a_nested_scan_is_poor():
    field = np.linspace(-400, 400, 401)
    signal = _nested(field, 0.0, 100.0, 30.0, 0.5, 0.2, noise=0.01, seed=16)
    assert fit_nmor(field, signal, sigma=0.01).chi2_red > 5.0
    assert fit_nmor(field, signal, sigma=0.01, components=2).chi2_red < 1.3
