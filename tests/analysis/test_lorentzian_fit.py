"""fit_lorentzian recovers the 0-0 line width and shift at absolute rf frequencies, for peaks and
dips, with honest errors; fit_lorentzians separates the resolved Zeeman components."""

import json

import numpy as np
import pytest

from kmor.analysis import fit_lorentzian, fit_lorentzians, lorentzian

REF_HZ = 461_719_720.1


def _spectrum(freq_hz, amplitude, center_hz, fwhm_hz, offset, slope, noise, seed):
    rng = np.random.default_rng(seed)
    f_mid = 0.5 * (np.min(freq_hz) + np.max(freq_hz))
    clean = lorentzian(freq_hz, amplitude, center_hz, fwhm_hz, offset, slope, f_mid)
    return clean + rng.normal(0.0, noise, np.shape(freq_hz))


def test_paper_fig7_like_dip_at_absolute_frequency():
    # 1 Hz steps around the reference, 47.2 Hz FWHM, shifted -9.1 Hz, transmission dip of 0.3 %
    freq = REF_HZ + np.arange(-150.0, 151.0)
    signal = _spectrum(freq, -3e-3, REF_HZ - 9.1, 47.2, 1.0, 2e-7, noise=1e-4, seed=1)
    fit = fit_lorentzian(freq, signal, sigma=1e-4)
    assert abs(fit.fwhm_hz - 47.2) < 4 * fit.fwhm_err_hz
    assert abs(fit.center_hz - (REF_HZ - 9.1)) < 4 * fit.center_err_hz
    assert 0.05 < fit.center_err_hz < 1.0
    assert fit.amplitude < 0
    assert fit.f_mid_hz == pytest.approx(REF_HZ)
    assert abs(fit.offset - 1.0) < 4 * fit.offset_err
    assert 0.8 < fit.chi2_red < 1.2


def test_peak_with_sloped_background():
    freq = np.linspace(1000.0, 1400.0, 161)
    signal = _spectrum(freq, 0.8, 1180.0, 30.0, 2.0, -3e-3, noise=0.02, seed=2)
    fit = fit_lorentzian(freq, signal)
    assert fit.amplitude > 0
    assert abs(fit.fwhm_hz - 30.0) < 4 * fit.fwhm_err_hz
    assert abs(fit.slope + 3e-3) < 4 * fit.slope_err


@pytest.mark.parametrize("sigma_given", [True, False])
def test_pulls_of_fwhm_and_center_have_unit_spread(sigma_given):
    rng = np.random.default_rng(77)
    freq = REF_HZ + np.arange(-100.0, 101.0, 2.0)
    fwhm_pulls, center_pulls = [], []
    for _ in range(300):
        fwhm, center = rng.uniform(10, 50), REF_HZ + rng.uniform(-20, 10)
        amplitude = rng.choice([-1.0, 1.0]) * 2e-3
        noise = 2e-4
        signal = _spectrum(freq, amplitude, center, fwhm, 1.0, rng.normal(0, 2e-6), noise,
                           int(rng.integers(1 << 30)))
        fit = fit_lorentzian(freq, signal, sigma=noise if sigma_given else None)
        fwhm_pulls.append((fit.fwhm_hz - fwhm) / fit.fwhm_err_hz)
        center_pulls.append((fit.center_hz - center) / fit.center_err_hz)
    for pulls in (np.array(fwhm_pulls), np.array(center_pulls)):
        assert abs(pulls.mean()) < 0.25
        assert 0.85 < pulls.std() < 1.15


def test_sparse_and_asymmetric_scans():
    sparse = REF_HZ + np.linspace(-60, 60, 13)
    signal = _spectrum(sparse, -1e-3, REF_HZ - 9.1, 20.0, 0.5, 0.0, noise=2e-5, seed=3)
    fit = fit_lorentzian(sparse, signal)
    assert abs(fit.fwhm_hz - 20.0) < 4 * fit.fwhm_err_hz

    one_sided = REF_HZ - 9.1 + np.arange(-8.0, 120.0)
    signal = _spectrum(one_sided, 2e-3, REF_HZ - 9.1, 12.0, 0.5, 1e-6, noise=5e-5, seed=4)
    fit = fit_lorentzian(one_sided, signal)
    assert abs(fit.fwhm_hz - 12.0) < 4 * fit.fwhm_err_hz
    assert abs(fit.center_hz - (REF_HZ - 9.1)) < 4 * fit.center_err_hz


def test_narrow_line_in_a_wide_scan():
    freq = REF_HZ + np.arange(-1000.0, 1001.0, 2.0)
    signal = _spectrum(freq, 5e-3, REF_HZ + 300.0, 8.0, 0.0, 0.0, noise=3e-4, seed=5)
    fit = fit_lorentzian(freq, signal)
    assert abs(fit.center_hz - (REF_HZ + 300.0)) < 4 * fit.center_err_hz
    assert abs(fit.fwhm_hz - 8.0) < 4 * fit.fwhm_err_hz


def test_curve_as_dict_and_repeatability():
    freq = REF_HZ + np.arange(-100.0, 101.0)
    signal = _spectrum(freq, -2e-3, REF_HZ - 9.1, 40.0, 1.0, 0.0, noise=1e-4, seed=6)
    fit = fit_lorentzian(freq, signal)
    np.testing.assert_allclose(
        fit.curve(freq),
        lorentzian(freq, fit.amplitude, fit.center_hz, fit.fwhm_hz, fit.offset, fit.slope,
                   fit.f_mid_hz))
    record = json.loads(json.dumps(fit.as_dict()))
    assert record["center_hz"] == fit.center_hz
    assert record["param_names"][2:] == ["amplitude_1", "center_hz_1", "fwhm_hz_1"]
    assert fit_lorentzian(freq, signal) == fit


def test_resolved_zeeman_components_at_1p4_mG():
    # sigma lines at 1.4 mG (physics.md): -2942.5, -981.2/-980.6 (unresolved), +980.7/+981.2,
    # +2942.5 Hz, plus the 0-0 line
    freq = REF_HZ + np.arange(-3500.0, 3501.0, 5.0)
    centers = [-2942.5, -980.9, 0.0, 980.9, 2942.5]
    heights = [6e-3, 4e-3, 5e-3, 4e-3, 6e-3]
    clean = sum(lorentzian(freq, h, REF_HZ + c, 60.0) for h, c in zip(heights, centers))
    signal = 0.5 + clean + np.random.default_rng(7).normal(0.0, 2e-4, freq.size)
    fit = fit_lorentzians(freq, signal, 5)
    assert [line.center_hz for line in fit.lines] == sorted(line.center_hz for line in fit.lines)
    for line, center, height in zip(fit.lines, centers, heights):
        assert abs(line.center_hz - (REF_HZ + center)) < 4 * line.center_err_hz
        assert abs(line.fwhm_hz - 60.0) < 4 * line.fwhm_err_hz
        assert abs(line.amplitude - height) < 4 * line.amplitude_err
    assert np.sqrt(np.mean((fit.curve(freq) - signal) ** 2)) < 2.5e-4
    assert len(json.loads(json.dumps(fit.as_dict()))["lines"]) == 5
