"""How good is a fit: the status of every B-scan and rf-scan fit, from stated tests
(docs/decisions/0110).

- "no signal": the resonance model is not significantly better than a straight line (an F-test of
  the fitted resonance against the line, p >= SIGNIFICANCE_P): laser off, light blocked, a field or
  frequency range without the resonance. No width is reported.
- "model mismatch": the part of the residuals that repeats at the same setting (both sweeps of a
  B scan at one field, the repeats of an rf scan at one frequency) is both significant (lack-of-fit
  F-test against the scatter of the repeats, p < SIGNIFICANCE_P) and large: its rms exceeds
  MISMATCH_FRACTION of the rms of the fitted resonance over the same points. The model then does not describe the curve,
  whatever the noise (noise, even 20 times the recorded errors, and drifts between the repeats
  are in the repeats' scatter, not in the lack of fit). Kept out of the extrapolations unless asked.
- "fitted": otherwise.

Every fit also reports, whatever its status, chi2_red with the recorded point errors and the ratio
of the residual scatter to those errors (None when the scan recorded none), and `error_scale` =
sqrt(max(1, chi2_red)): the factor its parameter errors are multiplied by when they are used
(the paper scaled its individual-fit errors the same way to reach chi2_red = 1, Fig. 4). A B scan
also reports the lag-1 correlation of its residuals in time order: drifts during a sweep make
neighbouring residuals alike, which chi2 scaling cannot see; its width error then comes from a
block jackknife (zeeman.py, docs/decisions/0117).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import f as f_distribution

from .numbers import format_p

FITTED, MISMATCH, NO_SIGNAL = "fitted", "model mismatch", "no signal"
SIGNIFICANCE_P = 1e-6
"""Level of every test here (one-sided, about 4.9 standard deviations): strict, because the
resonance position and width are searched for (look-elsewhere) and slow drifts correlate points."""
MISMATCH_FRACTION = 0.05
"""Systematic misfit / resonance signal (both rms over the scanned points) above which a
significant mismatch is also large. Both are averaged over the same points, so the figure does not
depend on how far the scan extends beyond the resonance."""


@dataclass(frozen=True)
class LackOfFit:
    """The lack-of-fit test against repeated settings: variance ratio (F), its p-value, and the
    rms systematic misfit (signal units) estimated from the excess of lack-of-fit variance."""

    ratio: float
    p_value: float
    systematic_rms: float


@dataclass(frozen=True)
class FitQuality:
    """The status of one fit and the figures behind it (see the module doc).

    chi2_red: with the recorded point errors (None without them). scatter_ratio: rms residual /
    rms recorded point error (None without them). error_scale: sqrt(max(1, chi2_red)), 1 without
    recorded errors (the errors then already come from the scatter). signal_p: p-value of the
    resonance against a straight line. lack_of_fit_ratio / lack_of_fit_p / mismatch_fraction
    (rms systematic misfit / rms resonance signal): the mismatch test (None when the scan has no repeated
    settings). `reason` says in words why the status is what it is.
    """

    status: str
    chi2_red: float | None
    scatter_ratio: float | None
    error_scale: float
    signal_p: float
    residual_correlation: float | None
    lack_of_fit_ratio: float | None
    lack_of_fit_p: float | None
    mismatch_fraction: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "chi2_red": self.chi2_red, "scatter_ratio": self.scatter_ratio,
                "error_scale": self.error_scale, "signal_p": self.signal_p,
                "residual_correlation": self.residual_correlation,
                "lack_of_fit_ratio": self.lack_of_fit_ratio, "lack_of_fit_p": self.lack_of_fit_p,
                "mismatch_fraction": self.mismatch_fraction, "reason": self.reason}

    def summary(self) -> str:
        """One short line: status, chi2_red and scatter ratio."""
        parts = [self.status]
        if self.chi2_red is not None:
            parts.append(f"chi2_red {_g2(self.chi2_red)}")
        if self.scatter_ratio is not None:
            parts.append(f"scatter/errors {_g2(self.scatter_ratio)}")
        if self.residual_correlation is not None:
            parts.append(f"residual correlation {_g2(self.residual_correlation)}")
        return ", ".join(parts)


def f_test_p(rss_simple: float, rss_full: float, n_points: int, k_simple: int, k_full: int) -> float:
    """p-value of the F-test that the model with k_full parameters (RSS rss_full) is better than
    the nested one with k_simple (rss_simple), from n_points (weighted) residuals."""
    dof = n_points - k_full
    extra = k_full - k_simple
    if dof <= 0 or extra <= 0:
        return 1.0
    if rss_full <= 0.0:
        return 0.0 if rss_simple > 0.0 else 1.0
    statistic = max(0.0, (rss_simple - rss_full) / extra) / (rss_full / dof)
    return float(f_distribution.sf(statistic, extra, dof))


def lack_of_fit(residuals: NDArray[np.float64], settings: NDArray[np.float64],
                n_params: int) -> LackOfFit | None:
    """The lack-of-fit test of a fit whose residuals were taken at `settings` (points at equal
    settings are repeats); None without enough repeats.

    Pure error: the scatter of the residuals about their mean at each setting (noise and drifts
    between repeats); lack of fit: the rest of the residual sum of squares, over (settings -
    parameters) degrees of freedom. Its excess over the pure error, per repeat, is the systematic
    misfit squared.
    """
    keys, inverse, counts = np.unique(np.round(settings, 9), return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=residuals) / counts
    ss_pe = float(np.sum((residuals - means[inverse]) ** 2))
    df_pe = residuals.size - keys.size
    ss_lof = float(np.sum(counts * means ** 2))
    df_lof = keys.size - n_params
    if df_pe < 3 or df_lof < 1 or ss_pe <= 0.0:
        return None
    ms_lof, ms_pe = ss_lof / df_lof, ss_pe / df_pe
    ratio = ms_lof / ms_pe
    systematic = math.sqrt(max(0.0, ms_lof - ms_pe) / float(np.mean(counts)))
    return LackOfFit(ratio=ratio, p_value=float(f_distribution.sf(ratio, df_lof, df_pe)), systematic_rms=systematic)


def residual_correlation(residuals: NDArray[np.float64], segments: NDArray[Any] | None = None) -> float:
    """Lag-1 correlation of residuals taken in time order, counting only neighbours within one
    segment (one sweep); 0 when there are too few pairs."""
    r = np.asarray(residuals, dtype=float) - float(np.mean(residuals))
    same = np.ones(r.size - 1, dtype=bool) if segments is None else segments[1:] == segments[:-1]
    if same.sum() < 3 or not np.any(r):
        return 0.0
    return float(np.sum(r[1:][same] * r[:-1][same]) / np.sum(r * r))


def judge(*, signal_p: float, chi2_red: float | None, scatter_ratio: float | None,
          lof: LackOfFit | None, signal_rms: float | None, what: str,
          correlation: float | None = None) -> FitQuality:
    """The status from the tests' figures (module doc); `what` names the resonance in reasons,
    `signal_rms` is the rms of the fitted resonance (without its background) over the points,
    `correlation` the residuals' lag-1 correlation in time order (None: not measured)."""
    scale = math.sqrt(max(1.0, chi2_red)) if chi2_red is not None else 1.0
    fraction = None
    if lof is not None and signal_rms:
        fraction = lof.systematic_rms / signal_rms
    common: dict[str, Any] = dict(chi2_red=chi2_red, scatter_ratio=scatter_ratio, error_scale=scale, signal_p=signal_p,
                  residual_correlation=correlation,
                  lack_of_fit_ratio=None if lof is None else lof.ratio,
                  lack_of_fit_p=None if lof is None else lof.p_value, mismatch_fraction=fraction)
    if not signal_p < SIGNIFICANCE_P:
        return FitQuality(status=NO_SIGNAL, reason=f"no significant {what}: F-test against a straight "
                          f"line p {format_p(signal_p)} (needs < {SIGNIFICANCE_P:g})", **common)
    if lof is not None and fraction is not None and lof.p_value < SIGNIFICANCE_P and fraction > MISMATCH_FRACTION:
        return FitQuality(status=MISMATCH, reason=f"the model does not describe the {what}: systematic misfit "
                          f"{100 * fraction:.2g} % of the signal (lack-of-fit variance {_g2(lof.ratio)} x "
                          f"that of the repeats, p {format_p(lof.p_value)})", **common)
    reason = "" if lof is not None else "lack of fit not tested (no repeated settings)"
    return FitQuality(status=FITTED, reason=reason, **common)


def _g2(x: float) -> str:
    """Two significant digits (1.2, 34, 5.6e+02)."""
    return f"{x:.2g}" if abs(x) < 100 else f"{x:.0f}"


def weighted_line_rss(x: NDArray[np.float64], y: NDArray[np.float64],
                      sigma: NDArray[np.float64] | None) -> float:
    """Residual sum of squares (each residual divided by its sigma, if given) of the best straight
    line: the 'no resonance' model the signal test compares against."""
    w = np.ones_like(y) if sigma is None else 1.0 / sigma
    design = np.column_stack([w, w * (x - x.mean())])
    coef, *_ = np.linalg.lstsq(design, w * y, rcond=None)
    resid = w * y - design @ coef
    return float(resid @ resid)
