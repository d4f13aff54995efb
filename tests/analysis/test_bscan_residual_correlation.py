"""Drifts during a B scan make neighbouring residuals alike, which chi2 scaling cannot see: the
width's error then comes from refits with each eighth of the scan (in time order) left out
(block jackknife, decision 0117), and over many scans the widths scatter as those errors say."""

from __future__ import annotations

import numpy as np
import pytest

from kmor.analysis import fit_nmor
from kmor.analysis.lineshapes import dispersive
from kmor.analysis.quality import residual_correlation
from kmor.analysis.zeeman import block_jackknife_width

WIDTH_UG = 6.0
FIELD_UG = np.r_[np.linspace(30, -30, 121), np.linspace(-30, 30, 121)]     # down and up sweeps
SWEEP = np.r_[np.full(121, "down"), np.full(121, "up")]
SIGMA_V = 0.02


def ar1(rng: np.random.Generator, n: int, rho: float, rms: float) -> np.ndarray:
    """AR(1) noise of stationary rms `rms` and lag-1 correlation `rho`."""
    kicks = rng.normal(0.0, rms * np.sqrt(1.0 - rho * rho), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, rms)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + kicks[i]
    return out


def test_the_lag1_correlation_of_an_ar1_series():
    assert residual_correlation(ar1(np.random.default_rng(1), 4000, 0.8, 1.0)) == pytest.approx(0.8, abs=0.03)


def test_pairs_across_a_sweep_boundary_do_not_count():
    residuals = np.r_[np.full(20, 1.0), np.full(20, -1.0)]    # one step, at the turn of the sweep
    direction = np.r_[np.full(20, "down"), np.full(20, "up")]
    assert residual_correlation(residuals, direction) == pytest.approx(38 / 40)     # 38 pairs, all alike
    assert residual_correlation(residuals) == pytest.approx(37 / 40)                # + one unlike pair


def pulls(rho: float, n_scans: int, seed: int) -> tuple[float, float]:
    """rms width pull over `n_scans` scans: with the chi2-scaled fit error, and with the larger of
    that and the block jackknife's."""
    rng = np.random.default_rng(seed)
    chi2_only, with_blocks = [], []
    for _ in range(n_scans):
        y = dispersive(FIELD_UG, 1.0, 0.3, WIDTH_UG) + ar1(rng, FIELD_UG.size, rho, SIGMA_V)
        fit = fit_nmor(FIELD_UG, y, SIGMA_V)
        scaled = fit.width_err_uG * np.sqrt(max(1.0, fit.chi2_red))
        blocks = block_jackknife_width(FIELD_UG, y, np.full(FIELD_UG.size, SIGMA_V), components=1)
        assert blocks is not None
        chi2_only.append((fit.width_uG - WIDTH_UG) / scaled)
        with_blocks.append((fit.width_uG - WIDTH_UG) / max(scaled, blocks))
    return tuple(float(np.sqrt(np.mean(np.square(p)))) for p in (chi2_only, with_blocks))  # type: ignore[return-value]


def test_width_errors_cover_the_scatter_of_scans_with_correlated_noise():
    chi2_only, with_blocks = pulls(rho=0.85, n_scans=40, seed=7)
    assert chi2_only > 1.5                  # chi2 scaling alone understates the scatter
    assert 0.75 < with_blocks < 1.35


def test_with_white_noise_the_blocks_change_little():
    chi2_only, with_blocks = pulls(rho=0.0, n_scans=30, seed=3)
    assert with_blocks == pytest.approx(chi2_only, rel=0.25)
