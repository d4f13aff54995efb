"""extrapolate_to_zero: weighted line, the paper's chi-square error inflation, the x_max cut."""

import json

import numpy as np
import pytest

from kmor.analysis import FitError, extrapolate_to_zero


def test_exact_line_gives_exact_intercept_and_slope():
    power_uW = np.array([2.0, 4.0, 6.0, 8.0, 10.7])
    width_uG = 2.9 + 0.91 * power_uW
    fit = extrapolate_to_zero(power_uW, width_uG, yerr=0.5)
    assert fit.intercept == pytest.approx(2.9, rel=1e-12)
    assert fit.slope == pytest.approx(0.91, rel=1e-12)
    assert fit.chi2_red == pytest.approx(0.0, abs=1e-20)
    assert fit.error_scale == 1.0  # errors are never shrunk when chi2_red < 1
    normal = np.array([[5.0, power_uW.sum()], [power_uW.sum(), (power_uW**2).sum()]]) / 0.5**2
    expected = np.linalg.inv(normal)
    assert fit.intercept_err == pytest.approx(np.sqrt(expected[0, 0]), rel=1e-10)
    np.testing.assert_allclose(fit.predict([0.0, 10.0]), [2.9, 12.0])


def test_chi2_scaling_inflates_errors_like_the_paper():
    rng = np.random.default_rng(3)
    power_uW = np.linspace(1.0, 10.0, 10)
    true_err, quoted_err = 0.6, 0.3   # quoted errors too small by 2 (the paper's factor)
    width_uG = 2.9 + 0.91 * power_uW + rng.normal(0.0, true_err, power_uW.size)
    scaled = extrapolate_to_zero(power_uW, width_uG, yerr=quoted_err)
    raw = extrapolate_to_zero(power_uW, width_uG, yerr=quoted_err, scale_to_chi2=False)
    assert scaled.intercept == raw.intercept
    assert raw.chi2_red > 1.5
    assert scaled.error_scale == pytest.approx(np.sqrt(raw.chi2_red))
    assert scaled.intercept_err == pytest.approx(raw.intercept_err * np.sqrt(raw.chi2_red))
    assert raw.error_scale == 1.0
    assert abs(scaled.intercept - 2.9) < 3 * scaled.intercept_err


def test_x_max_keeps_only_the_linear_low_power_points():
    # widths saturate above 10 uW; fitting below 10 uW recovers the zero-power width
    power_uW = np.array([1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 20.0, 40.0, 80.0])
    width_uG = np.where(power_uW <= 10.0, 2.9 + 0.91 * power_uW, 12.0 + 0.2 * power_uW)
    fit = extrapolate_to_zero(power_uW, width_uG, yerr=0.1, x_max=10.0)
    assert fit.n_points == 6 and fit.used == (0, 1, 2, 3, 4, 5)
    assert fit.intercept == pytest.approx(2.9)
    everything = extrapolate_to_zero(power_uW, width_uG, yerr=0.1)
    assert abs(everything.intercept - 2.9) > 1.0


def test_unweighted_errors_come_from_the_scatter_like_polyfit():
    rng = np.random.default_rng(4)
    x = np.linspace(0.5, 12.0, 8)
    y = 10.6 + 2.0 * x + rng.normal(0.0, 0.7, x.size)
    fit = extrapolate_to_zero(x, y)
    coef, cov = np.polyfit(x, y, 1, cov=True)
    assert fit.intercept == pytest.approx(coef[1])
    assert fit.slope == pytest.approx(coef[0])
    assert fit.intercept_err == pytest.approx(np.sqrt(cov[1, 1]))
    assert fit.chi2_red == 1.0


def test_intercept_pulls_are_honest_with_correct_errors():
    rng = np.random.default_rng(5)
    x = np.array([2.0, 4.0, 6.0, 8.0, 10.0, 12.0])
    err = np.array([0.2, 0.3, 0.3, 0.4, 0.5, 0.5])
    pulls = []
    for _ in range(2000):
        y = 10.6 + 3.0 * x + rng.normal(0.0, err)
        fit = extrapolate_to_zero(x, y, yerr=err, scale_to_chi2=False)
        pulls.append((fit.intercept - 10.6) / fit.intercept_err)
    assert abs(np.mean(pulls)) < 0.1
    assert 0.93 < np.std(pulls) < 1.07


def test_double_extrapolation_light_then_rf():
    # zero-light widths at several rf powers, each with its error, then to zero rf power
    rf_units = np.array([35.0, 100.0, 200.0, 500.0])
    light_uW = np.array([3.0, 6.0, 12.0, 24.0])
    zero_light = []
    for rf in rf_units:
        widths = 10.6 + 0.004 * rf + 2.0 * light_uW
        fit = extrapolate_to_zero(light_uW, widths, yerr=0.3)
        zero_light.append((fit.intercept, fit.intercept_err))
    values, errors = np.array(zero_light).T
    final = extrapolate_to_zero(rf_units, values, yerr=errors)
    assert final.intercept == pytest.approx(10.6)
    assert json.loads(json.dumps(final.as_dict()))["intercept"] == pytest.approx(10.6)


@pytest.mark.parametrize("x, y, kwargs", [
    ([1.0, 2.0], [1.0, 2.0], {}),
    ([1.0, 2.0, 3.0, 20.0], [1.0, 2.0, 3.0, 4.0], {"x_max": 2.5}),
    ([1.0, 2.0, np.nan], [1.0, 2.0, 3.0], {}),
    ([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], {}),
    ([1.0, 2.0, 3.0], [1.0, 2.0], {}),
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], {"yerr": [0.1, 0.0, 0.1]}),
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], {"yerr": [0.1, 0.1]}),
    ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0], {}),
])
def test_bad_input_raises_fit_error(x, y, kwargs):
    with pytest.raises(FitError):
        extrapolate_to_zero(x, y, **kwargs)
