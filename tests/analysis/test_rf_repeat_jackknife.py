"""An rf scan's errors hold when the noise is correlated along a sweep (a drift that bends a whole
30 s repeat): they come from refits with each repeat left out (decision 0116), and over many
scans the centres scatter as those errors say, where the fit's own errors understate it."""

from __future__ import annotations

import numpy as np
import pytest

from kmor.analysis.hyperfine import average_repeats, repeat_jackknife
from kmor.analysis.jackknife import MIN_JACKKNIFE_REPEATS, delete_one_errors
from kmor.analysis.lorentzian_fit import fit_lorentzian

CENTER_HZ = -9.0
FREQS_HZ = np.arange(-50.0, 51.0)


def scan(rng: np.random.Generator, n_repeats: int, walk_V: float, white_V: float) -> tuple[np.ndarray, ...]:
    """A 0-0 dip (1e-4 V deep, 20 Hz wide) swept n_repeats times; each sweep carries a random walk
    of `walk_V` per point (correlated along the sweep) plus white noise."""
    dip = -1e-4 / (1.0 + ((FREQS_HZ - CENTER_HZ) / 10.0) ** 2)
    walk = np.cumsum(rng.normal(0.0, walk_V, (n_repeats, FREQS_HZ.size)), axis=1)
    y = 1.0 + dip + walk + rng.normal(0.0, white_V, walk.shape)
    repeat = np.repeat(np.arange(n_repeats, dtype=float), FREQS_HZ.size)
    return np.tile(FREQS_HZ, n_repeats), y.ravel(), repeat


def centre_and_errors(f: np.ndarray, y: np.ndarray, repeat: np.ndarray) -> tuple[float, float, float]:
    spectrum = average_repeats(f, y, repeat=repeat)
    fit = fit_lorentzian(spectrum.freq_hz, spectrum.signal_V, spectrum.sigma_V)
    return fit.center_hz, fit.center_err_hz, repeat_jackknife(f, y, repeat)["center_hz"]


def test_jackknife_of_a_mean_is_its_standard_error():
    values = np.random.default_rng(1).normal(size=30)
    leave_one_out_means = ((values.sum() - values) / 29.0)[:, None]
    assert delete_one_errors(leave_one_out_means)[0] == pytest.approx(values.std(ddof=1) / np.sqrt(30))


def test_correlated_noise_along_the_sweep_is_in_the_jackknife_errors():
    rng = np.random.default_rng(11)
    rows = np.array([centre_and_errors(*scan(rng, 16, walk_V=6e-6, white_V=1e-5)) for _ in range(40)])
    centre, fit_err, jack_err = rows.T
    pulls_fit = (centre - CENTER_HZ) / fit_err
    pulls_jack = (centre - CENTER_HZ) / np.maximum(jack_err, fit_err)
    assert np.sqrt(np.mean(pulls_fit ** 2)) > 1.3          # the fit alone understates the scatter
    assert 0.75 < np.sqrt(np.mean(pulls_jack ** 2)) < 1.3  # the repeats' own scatter does not


def test_with_white_noise_the_jackknife_agrees_with_the_fit():
    rng = np.random.default_rng(5)
    rows = np.array([centre_and_errors(*scan(rng, 16, walk_V=0.0, white_V=2e-5)) for _ in range(12)])
    _, fit_err, jack_err = rows.T
    assert 0.8 < np.mean(jack_err) / np.mean(fit_err) < 1.2


def test_too_few_repeats_leave_the_fit_errors_alone():
    f, y, repeat = scan(np.random.default_rng(2), MIN_JACKKNIFE_REPEATS - 1, walk_V=0.0, white_V=1e-5)
    assert repeat_jackknife(f, y, repeat) == {}
