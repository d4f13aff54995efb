"""Benchmark: kmor's fits against plain scipy.optimize.curve_fit (numerical derivatives).

    /work/venv/bin/python bench/bench_fits.py [--curves N] [--repeats R]

fit_nmor on 400-point NMOR scans and fit_lorentzian on 200-point 0-0 spectra (1 Hz steps), all
seeded. kmor finds its own starting values; curve_fit is given either the true parameters (its
best case) or a rough guess (width x1.3, center moved by 0.2 width, amplitude x0.7). Reports
fits per second (best of R repeats), the speed ratio, and how far the results are apart (in units
of the stated error, and relative) to show they are the same fits. curve_fit on the 0-0 spectra
works on f - 461,719,720.1 Hz; the last table line shows what it does with absolute frequencies.
Finally the rate of kmor's least-squares solve alone (started at the truth) shows how the time of
a full fit splits between the start search and the solve.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from kmor.analysis import FitError, dispersive, fit_lorentzian, fit_nmor, lorentzian
from kmor.analysis import fitcore
from kmor.analysis.lineshapes import (dispersive_sum_jacobian, dispersive_sum_model,
                                      lorentzian_sum_jacobian, lorentzian_sum_model)

REF_HZ = 461_719_720.1


def nmor_curves(n: int, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """n scans of 400 points over +-400 uG: (field, signal, true [a, B0, dB, c0, c1])."""
    rng = np.random.default_rng(seed)
    field = np.linspace(-400.0, 400.0, 400)
    out = []
    for _ in range(n):
        width = rng.uniform(10.0, 100.0)
        true = np.array([width * rng.uniform(0.3, 1.0) * rng.choice([-1, 1]), rng.uniform(-20, 20),
                         width, rng.normal(0, 0.5), rng.normal(0, 5e-4)])
        out.append((field, dispersive(field, *true) + rng.normal(0, 0.02, field.size), true))
    return out


def lorentz_curves(n: int, seed: int = 2) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """n spectra of 200 points, 1 Hz steps around the 0-0 reference: (freq, signal, true
    [A, f0 - REF, fwhm, c0, c1])."""
    rng = np.random.default_rng(seed)
    freq = REF_HZ + np.arange(-100.0, 100.0)
    out = []
    for _ in range(n):
        true = np.array([rng.choice([-1, 1]) * 2e-3, rng.uniform(-20, 10), rng.uniform(10, 60),
                         1.0, rng.normal(0, 2e-6)])
        clean = lorentzian(freq, true[0], REF_HZ + true[1], true[2], true[3], true[4], REF_HZ - 0.5)
        out.append((freq, clean + rng.normal(0, 1e-4, freq.size), true))
    return out


def _rate(func, curves, repeats: int) -> tuple[float, list]:
    best, results = np.inf, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        results = [func(c) for c in curves]
        best = min(best, time.perf_counter() - t0)
    return len(curves) / best, results


def _cf_nmor(curve, p0):
    field, signal, _ = curve
    try:
        p, cov = curve_fit(dispersive, field, signal, p0=p0)
    except RuntimeError:
        return None
    return abs(p[2]), np.sqrt(cov[2, 2]), p[1], np.sqrt(cov[1, 1])


def _cf_lorentz(curve, p0, absolute=False):
    freq, signal, _ = curve
    x = freq if absolute else freq - REF_HZ
    mid = 0.5 * (x.min() + x.max())

    def model(f, a, f0, w, c0, c1):
        return lorentzian(f, a, f0, w, c0, c1, mid)

    p0 = np.array(p0, dtype=float)
    if absolute:
        p0[1] += REF_HZ
    try:
        p, cov = curve_fit(model, x, signal, p0=p0)
    except RuntimeError:
        return None
    return abs(p[2]), np.sqrt(cov[2, 2]), p[1] - (REF_HZ if absolute else 0.0), np.sqrt(cov[1, 1])


def _kmor_solve_nmor(curve):
    """kmor's Levenberg-Marquardt step alone, started from the true parameters (no start search,
    no result object): isolates the analytic-Jacobian solve from the rest of fit_nmor."""
    field, signal, (a, b0, width, c0, c1) = curve
    d = fitcore.prepare(field, signal, None, 5, "field_uG")
    s, xm, ys = d.x_scale, d.x_mid, d.y_scale
    p0 = np.array([(b0 - xm) / s, (c0 + c1 * xm) / ys, c1 * s / ys, a / (ys * s), width / s])
    return fitcore.solve(dispersive_sum_model, dispersive_sum_jacobian, p0, d)


def _kmor_solve_lorentz(curve):
    freq, signal, (a, f0, fwhm, c0, c1) = curve
    d = fitcore.prepare(freq, signal, None, 5, "freq_hz")
    s, fm, ys = d.x_scale, d.x_mid, d.y_scale
    off = c0 + c1 * (fm - (REF_HZ - 0.5))
    p0 = np.array([off / ys, c1 * s / ys, a / ys, (REF_HZ + f0 - fm) / s, fwhm / s])
    return fitcore.solve(lorentzian_sum_model, lorentzian_sum_jacobian, p0, d)


def _rough(true):
    guess = np.array(true, dtype=float)
    guess[0] *= 0.7
    guess[1] += 0.2 * true[2]
    guess[2] *= 1.3
    return guess


def _compare(ours, theirs):
    """Max |difference| of width and center, in units of our error and relative; failures."""
    sig, rel, failed = 0.0, 0.0, 0
    for o, t in zip(ours, theirs):
        if o is None or t is None:
            failed += 1
            continue
        for k in (0, 2):
            sig = max(sig, abs(o[k] - t[k]) / o[k + 1])
        rel = max(rel, abs(o[0] - t[0]) / o[0], abs(o[1] - t[1]) / o[1])
    return sig, rel, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", OptimizeWarning)

    def kmor_nmor(c):
        try:
            r = fit_nmor(c[0], c[1])
        except FitError:
            return None
        return r.width_uG, r.width_err_uG, r.center_uG, r.center_err_uG

    def kmor_lorentz(c):
        try:
            r = fit_lorentzian(c[0], c[1])
        except FitError:
            return None
        return r.fwhm_hz, r.fwhm_err_hz, r.center_hz - REF_HZ, r.center_err_hz

    rows = []
    for name, curves, ours_fn, theirs_fn in (
            ("fit_nmor", nmor_curves(args.curves), kmor_nmor, _cf_nmor),
            ("fit_lorentzian", lorentz_curves(args.curves), kmor_lorentz, _cf_lorentz)):
        ours_rate, ours = _rate(ours_fn, curves, args.repeats)
        for label, p0_of in (("true p0", lambda c: c[2]), ("rough p0", lambda c: _rough(c[2]))):
            rate, theirs = _rate(lambda c: theirs_fn(c, p0_of(c)), curves, args.repeats)
            sig, rel, failed = _compare(ours, theirs)
            rows.append((name, len(curves), curves[0][0].size, ours_rate, label, rate,
                         ours_rate / rate, sig, rel, failed))
    solve_rates = {"fit_nmor": _rate(_kmor_solve_nmor, nmor_curves(args.curves), args.repeats)[0],
                   "fit_lorentzian": _rate(_kmor_solve_lorentz, lorentz_curves(args.curves),
                                           args.repeats)[0]}
    curves = lorentz_curves(args.curves)
    rate, theirs = _rate(lambda c: _cf_lorentz(c, c[2], absolute=True), curves, 1)
    _, ours = _rate(kmor_lorentz, curves, 1)
    sig, rel, failed = _compare(ours, theirs)
    rows.append(("fit_lorentzian", len(curves), 200, float("nan"), "true p0, absolute f", rate,
                 float("nan"), sig, rel, failed))

    header = (f"{'fit':15s} {'curves':>6s} {'pts':>4s} {'kmor/s':>8s}  {'curve_fit':22s} "
              f"{'cf/s':>8s} {'ratio':>6s} {'max|d|/err':>10s} {'max rel d':>10s} {'cf fails':>8s}")
    print(header)
    print("-" * len(header))
    for name, n, pts, ours_rate, label, rate, ratio, sig, rel, failed in rows:
        print(f"{name:15s} {n:6d} {pts:4d} {ours_rate:8.0f}  {label:22s} {rate:8.0f} {ratio:6.2f} "
              f"{sig:10.2e} {rel:10.2e} {failed:8d}")
    print()
    print("kmor's analytic-Jacobian solve alone, from the true parameters (no start search):")
    for name, rate in solve_rates.items():
        print(f"  {name:15s} {rate:8.0f} solves/s")


if __name__ == "__main__":
    main()
