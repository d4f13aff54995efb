"""The live fits kmor watch draws: the right width and centre from partial scans, the running
average over rf repeats, and one fit per interval however many pages ask."""

from __future__ import annotations

import numpy as np

from kmor.analysis.lineshapes import dispersive, lorentzian
from kmor.watch.livefit import LiveFits, fit_columns, rf_average


def test_bscan_fit_finds_width_and_centre_with_nan_and_missing_points():
    field = np.arange(60.0, -61.0, -1.0)
    x = dispersive(field, 2e-4, 1.5, 8.0, 0.0, 0.0) + np.random.default_rng(1).normal(0, 2e-7, field.size)
    x[5] = np.nan
    columns = {"field_uG": list(field), "x_V": [None if np.isnan(v) else float(v) for v in x],
               "sweep": ["down"] * field.size}
    fit = fit_columns("bscan", columns)
    assert fit["ok"] and fit["units"] == "uG" and fit["n_points"] == field.size - 1
    assert abs(fit["width"] - 8.0) < 0.2 and abs(fit["center"] - 1.5) < 0.1


def test_too_few_points_is_a_reason_not_an_error():
    assert fit_columns("bscan", {"field_uG": [1.0, 2.0], "x_V": [0.0, 1.0]}) == \
        {"ok": False, "reason": "waiting for 12 points"}
    assert not fit_columns("zeroing", {})["ok"]


def test_rf_fit_uses_the_running_average_over_repeats():
    freq = np.linspace(-100.0, 100.0, 41) + 4.6e8
    rng = np.random.default_rng(2)
    f_all, t_all, rep = [], [], []
    for r in range(3):
        t = lorentzian(freq, -0.02, 4.6e8 + 7.0, 30.0, 1.0, 0.0, 4.6e8) + rng.normal(0, 2e-3, freq.size)
        f_all += list(freq)
        t_all += list(t)
        rep += [r] * freq.size
    avg_f, avg_t = rf_average(np.array(f_all), np.array(t_all))
    assert avg_f.size == 41 and np.allclose(avg_t, np.array(t_all).reshape(3, 41).mean(axis=0))
    fit = fit_columns("rfscan", {"freq_set_hz": f_all, "transmission_V": t_all, "repeat": rep})
    assert fit["ok"] and fit["units"] == "Hz"
    assert abs(fit["width"] - 30.0) < 5.0 and abs(fit["center"] - (4.6e8 + 7.0)) < 2.0


def test_many_pages_share_one_fit():
    field = np.linspace(-30, 30, 61)
    cols = {"field_uG": list(field), "x_V": list(dispersive(field, 1e-4, 0.0, 6.0, 0.0, 0.0))}
    fits = LiveFits(min_interval_s=60.0)
    results = [fits.get(("run", "00001-bscan.h5"), "bscan", 61, cols) for _ in range(100)]
    assert fits.fits_done == 1 and all(r is results[0] for r in results)
    fits.get(("run", "00001-bscan.h5"), "bscan", 62, cols)     # new points, but within the interval
    assert fits.fits_done == 1
    fits.get(("run", "00002-bscan.h5"), "bscan", 61, cols)     # another scan
    assert fits.fits_done == 2
