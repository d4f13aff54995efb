"""The line shapes mean what the fits report (extrema and half maxima), and the analytic
Jacobians handed to least_squares agree with finite differences."""

import numpy as np
import pytest

from kmor.analysis import dispersive, lorentzian
from kmor.analysis.lineshapes import (dispersive_sum_jacobian, dispersive_sum_model,
                                      lorentzian_sum_jacobian, lorentzian_sum_model)


def _numeric_jacobian(model, x, params, rel_step=1e-6):
    jac = np.empty((x.size, params.size))
    for k in range(params.size):
        step = rel_step * max(abs(params[k]), 1e-3)
        up, down = params.copy(), params.copy()
        up[k] += step
        down[k] -= step
        jac[:, k] = (model(x, up) - model(x, down)) / (2 * step)
    return jac


def test_dispersive_width_is_the_peak_to_peak_separation_of_the_extrema():
    field_uG = np.linspace(-100, 100, 200001)
    curve = dispersive(field_uG, amplitude=30.0, center_uG=4.0, width_uG=12.6)
    b_max, b_min = field_uG[np.argmax(curve)], field_uG[np.argmin(curve)]
    assert b_max - b_min == pytest.approx(12.6, abs=2e-3)
    assert 0.5 * (b_max + b_min) == pytest.approx(4.0, abs=2e-3)
    assert curve.max() == pytest.approx(30.0 / 12.6, rel=1e-6)  # peak_signal = amplitude/width


def test_lorentzian_fwhm_is_the_full_width_at_half_maximum():
    freq_hz = np.linspace(461719600, 461719800, 400001)
    curve = lorentzian(freq_hz, -2e-3, 461719711.0, 47.2, offset=0.0, slope=0.0)
    below_half = freq_hz[curve <= -1e-3]
    assert below_half[-1] - below_half[0] == pytest.approx(47.2, abs=2e-3)
    assert curve.min() == pytest.approx(-2e-3, rel=1e-9)


@pytest.mark.parametrize("params", [
    [3.0, 0.2, 1e-3, 50.0, 12.6],
    [-1.0, 0.1, 0.0, 5000.0, 100.0, -450.0, 30.0],
])
def test_dispersive_jacobian_matches_finite_differences(params):
    field = np.linspace(-300, 300, 301)
    p = np.array(params)
    analytic = dispersive_sum_jacobian(field, p)
    numeric = _numeric_jacobian(dispersive_sum_model, field, p)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8 * np.abs(numeric).max())


@pytest.mark.parametrize("params", [
    [1.0, 1e-4, -2e-3, 3.0, 47.2],
    [0.5, 0.0, 6e-3, -980.0, 60.0, 4e-3, 981.0, 55.0],
])
def test_lorentzian_jacobian_matches_finite_differences(params):
    freq = np.linspace(-1500, 1500, 601)
    p = np.array(params)
    analytic = lorentzian_sum_jacobian(freq, p)
    numeric = _numeric_jacobian(lorentzian_sum_model, freq, p)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8 * np.abs(numeric).max())
