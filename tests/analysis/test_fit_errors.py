"""Unusable input or a fit that cannot be trusted raises FitError (a ValueError), never NaN."""

import numpy as np
import pytest

from kmor.analysis import (FitError, dispersive, fit_lorentzian, fit_lorentzians, fit_nmor,
                           lorentzian)

FIELD = np.linspace(-100.0, 100.0, 50)
NMOR = dispersive(FIELD, 10.0, 0.0, 20.0) + np.random.default_rng(0).normal(0, 0.01, FIELD.size)
FREQ = np.linspace(-100.0, 100.0, 50)
LINE = lorentzian(FREQ, 1.0, 0.0, 20.0) + np.random.default_rng(1).normal(0, 0.01, FREQ.size)


def _with(values, index, value):
    out = np.array(values, dtype=float)
    out[index] = value
    return out


BAD_INPUTS = [
    pytest.param(FIELD[:6], NMOR[:6], None, id="too-few-points"),
    pytest.param(FIELD, NMOR[:-1], None, id="mismatched-lengths"),
    pytest.param(_with(FIELD, 3, np.nan), NMOR, None, id="nan-in-x"),
    pytest.param(FIELD, _with(NMOR, 7, np.nan), None, id="nan-in-signal"),
    pytest.param(FIELD, _with(NMOR, 7, np.inf), None, id="inf-in-signal"),
    pytest.param(FIELD.reshape(5, 10), NMOR.reshape(5, 10), None, id="two-dimensional"),
    pytest.param(np.full(50, 3.0), NMOR, None, id="constant-x"),
    pytest.param(FIELD, np.zeros(50), None, id="constant-signal"),
    pytest.param(FIELD, NMOR, 0.0, id="zero-sigma"),
    pytest.param(FIELD, NMOR, -0.1, id="negative-sigma"),
    pytest.param(FIELD, NMOR, np.full(49, 0.1), id="sigma-wrong-length"),
    pytest.param(FIELD, NMOR, _with(np.full(50, 0.1), 0, np.nan), id="nan-sigma"),
]


@pytest.mark.parametrize("x, y, sigma", BAD_INPUTS)
def test_nmor_bad_input(x, y, sigma):
    with pytest.raises(FitError):
        fit_nmor(x, y, sigma=sigma)


@pytest.mark.parametrize("x, y, sigma", BAD_INPUTS)
def test_lorentzian_bad_input(x, y, sigma):
    with pytest.raises(FitError):
        fit_lorentzian(x, y, sigma=sigma)


def test_fit_error_is_a_value_error_with_a_message():
    with pytest.raises(ValueError, match="too few"):
        fit_nmor(FIELD[:5], NMOR[:5])


def test_invalid_component_and_line_counts():
    with pytest.raises(FitError):
        fit_nmor(FIELD, NMOR, components=3)
    with pytest.raises(FitError):
        fit_lorentzians(FREQ, LINE, 0)
    with pytest.raises(FitError, match="too few"):
        fit_lorentzians(FREQ[:12], LINE[:12], 3)


def test_a_second_component_the_data_do_not_need_comes_out_consistent_with_zero():
    # one clean dispersive curve fitted with two terms: the extra one is not determined and its
    # errors say so (finite and large), rather than a confident spurious feature
    field = np.linspace(-200.0, 200.0, 201)
    noise = np.random.default_rng(2).normal(0, 1e-3, field.size)
    signal = dispersive(field, 20.0, 0.0, 40.0) + noise
    fit = fit_nmor(field, signal, components=2)
    main = max(fit.components, key=lambda c: abs(c.amplitude))
    extra = min(fit.components, key=lambda c: abs(c.amplitude))
    assert abs(main.width_uG - 40.0) < 4 * main.width_err_uG
    assert abs(extra.amplitude) < 3 * extra.amplitude_err
    assert np.isfinite(extra.width_err_uG) and extra.width_err_uG > 0.5 * extra.width_uG
