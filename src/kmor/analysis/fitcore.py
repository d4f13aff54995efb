"""Shared machinery of the fitters: input checks, scaling, the Levenberg-Marquardt solve with an
analytic Jacobian, honest covariances, and variable-projection scoring of starting points.

Every fit works in scaled coordinates (x centred on the middle of the data and divided by its half
span, signal divided by its half range), so a 0-0 line at 461,719,720 Hz with 1 Hz steps is as well
conditioned as an NMOR scan in uG. Nothing is cached between calls: each fit depends only on its
arguments.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

Array = NDArray[np.float64]
ModelFn = Callable[[Array, Array], Array]


class FitError(ValueError):
    """A fit could not give a trustworthy answer: bad input (too few points, NaN, mismatched
    lengths, non-positive sigma), no convergence, or non-finite parameters or errors."""


@dataclass(frozen=True)
class ScaledData:
    """Data sorted by x and scaled: x_s = (x - x_mid)/x_scale, y_s = y/y_scale, w = 1/sigma_s."""

    x: Array
    y: Array
    weights: Array
    x_mid: float
    x_scale: float
    y_scale: float
    sigma_given: bool


def prepare(x: ArrayLike, y: ArrayLike, sigma: ArrayLike | float | None, n_params: int,
            x_name: str) -> ScaledData:
    """Check the inputs of a fit and return them sorted and scaled; raise FitError if unusable."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.ndim != 1 or ya.ndim != 1:
        raise FitError(f"{x_name} and signal must be 1-D, got shapes {xa.shape} and {ya.shape}")
    if xa.size != ya.size:
        raise FitError(f"{x_name} has {xa.size} points but signal has {ya.size}")
    need = n_params + 2
    if xa.size < need:
        raise FitError(f"{xa.size} points is too few for {n_params} parameters (need >= {need})")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise FitError(f"{x_name} or signal contains NaN or infinite values")
    sig = _check_sigma(sigma, xa.size)
    x_lo, x_hi = float(xa.min()), float(xa.max())
    if not x_hi > x_lo:
        raise FitError(f"all {x_name} values are equal: nothing to fit")
    y_scale = 0.5 * float(ya.max() - ya.min())
    if not y_scale > 0.0:
        raise FitError("the signal is constant: nothing to fit")
    order = np.argsort(xa, kind="stable")
    x_mid = 0.5 * (x_lo + x_hi)
    x_scale = 0.5 * (x_hi - x_lo)
    weights = np.ones(xa.size) if sig is None else y_scale / sig[order]
    return ScaledData(x=(xa[order] - x_mid) / x_scale, y=ya[order] / y_scale, weights=weights,
                      x_mid=x_mid, x_scale=x_scale, y_scale=y_scale,
                      sigma_given=sig is not None)


def _check_sigma(sigma: ArrayLike | float | None, n: int) -> Array | None:
    if sigma is None:
        return None
    sig = np.asarray(sigma, dtype=float)
    if sig.ndim == 0:
        sig = np.full(n, float(sig))
    if sig.shape != (n,):
        raise FitError(f"sigma must be a scalar or have {n} values, got shape {sig.shape}")
    if not (np.all(np.isfinite(sig)) and np.all(sig > 0.0)):
        raise FitError("sigma must be finite and > 0")
    return sig


@dataclass(frozen=True)
class Solution:
    """Best-fit parameters (scaled units), their covariance, and goodness of fit."""

    params: Array
    covariance: Array
    chi2: float
    dof: int
    chi2_red: float


def solve(model: ModelFn, jacobian: ModelFn, p0: Array, data: ScaledData,
          max_nfev: int | None = None) -> Solution:
    """Weighted Levenberg-Marquardt fit with analytic Jacobian.

    With sigma given the covariance is absolute (inv(J^T W J)); without sigma it is scaled by
    chi2/dof, i.e. the noise is estimated from the residual scatter.
    """
    x, y, w = data.x, data.y, data.weights

    def residuals(p: Array) -> Array:
        return (model(x, p) - y) * w

    def jac(p: Array) -> Array:
        return jacobian(x, p) * w[:, None]

    with np.errstate(all="ignore"):
        try:
            result = least_squares(residuals, p0, jac=jac, method="lm", x_scale="jac",
                                   max_nfev=max_nfev)
        except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
            raise FitError(f"least-squares solver failed: {exc}") from exc
    if result.status <= 0:
        raise FitError(f"fit did not converge after {result.nfev} evaluations: the parameters "
                       "run away, so the data may not determine them (too few points across the "
                       "feature, too little signal, or the feature outside the scan)")
    params = result.x
    if not np.all(np.isfinite(params)):
        raise FitError("fit returned non-finite parameters")
    dof = x.size - params.size
    chi2 = float(np.dot(result.fun, result.fun))
    cov = covariance_from_jacobian(result.jac)
    chi2_red = chi2 / dof
    if not data.sigma_given:
        cov = cov * chi2_red
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0.0):
        raise FitError("fit covariance is not finite")
    return Solution(params=params, covariance=cov, chi2=chi2, dof=dof, chi2_red=chi2_red)


def solve_best_of(model: ModelFn, jacobian: ModelFn, starts: Iterable[Array],
                  data: ScaledData, accept: Callable[[Array], bool],
                  max_nfev: int | None = None) -> Solution:
    """Fit from every starting point; return the accepted solution with the lowest chi-square."""
    best: Solution | None = None
    last_error = FitError("no starting point")
    for p0 in starts:
        try:
            sol = solve(model, jacobian, p0, data, max_nfev)
        except FitError as exc:
            last_error = exc
            continue
        if not accept(sol.params):
            last_error = FitError("fit converged to an unphysical solution")
        elif best is None or sol.chi2 < best.chi2:
            best = sol
    if best is None:
        raise last_error
    return best


def covariance_from_jacobian(jac: Array) -> Array:
    """inv(J^T J) through the SVD; FitError if J is rank-deficient (parameters not determined)."""
    if not np.all(np.isfinite(jac)):
        raise FitError("Jacobian at the solution is not finite")
    # the singular values and right vectors of J are those of R in J = QR (small and cheap)
    _, s, vt = np.linalg.svd(np.linalg.qr(jac, mode="r"))
    threshold = np.finfo(float).eps * max(jac.shape) * s[0]
    if s[0] == 0.0 or s[-1] <= threshold:
        raise FitError("parameters are not determined by the data (singular Jacobian)")
    vs = vt.T / s
    covariance: Array = vs @ vs.T
    return covariance


def solve_from_candidates(model: ModelFn, jacobian: ModelFn, starts: Iterable[Array],
                          data: ScaledData, accept: Callable[[Array], bool]) -> Solution:
    """Try starting points in order, return the first fit that converges and passes `accept`."""
    last_error: FitError | None = None
    for p0 in starts:
        try:
            sol = solve(model, jacobian, p0, data)
        except FitError as exc:
            last_error = exc
            continue
        if accept(sol.params):
            return sol
        last_error = FitError("fit converged to an unphysical solution")
    raise last_error or FitError("no starting point")


@dataclass(frozen=True)
class Projection:
    """Candidate shapes with the straight-line background projected out (variable projection).

    For shapes s_k (rows of the basis, at data.x) and weighted data, `rhs[k]` = <s_k, y>,
    `gram[k, l]` = <s_k, s_l> after removing the c0 + c1*x part, and `yy` = |y|^2 likewise, so the
    best fit with shapes K has residual sum of squares yy - rhs_K^T gram_KK^-1 rhs_K.
    """

    yy: float
    rhs: Array
    gram: Array

    def single_rss(self) -> Array:
        """RSS of the best fit `coef * s_k + c0 + c1*x`, for each candidate shape k."""
        norm2 = np.diag(self.gram) if self.gram.ndim == 2 else self.gram
        ok = norm2 > 1e-12 * max(float(norm2.max(initial=0.0)), 1e-300)
        explained = np.where(ok, self.rhs**2 / np.where(ok, norm2, 1.0), 0.0)
        return self.yy - explained


def _background_basis(data: ScaledData) -> tuple[Array, Array]:
    """Orthonormal (Gram-Schmidt) basis of the weighted straight line {w, w*x}."""
    w = data.weights
    q0 = w / np.sqrt(np.dot(w, w))
    v1 = w * data.x
    v1 = v1 - np.dot(q0, v1) * q0
    return q0, v1 / np.sqrt(np.dot(v1, v1))


def project(basis: Array, data: ScaledData, full_gram: bool = False) -> Projection:
    """Project the background out of candidate shapes; only the Gram diagonal unless full_gram."""
    q0, q1 = _background_basis(data)
    yw = data.y * data.weights
    y_perp = yw - np.dot(q0, yw) * q0 - np.dot(q1, yw) * q1
    shapes = basis * data.weights
    p0, p1 = shapes @ q0, shapes @ q1
    if full_gram:
        gram = shapes @ shapes.T - np.outer(p0, p0) - np.outer(p1, p1)
    else:
        gram = np.einsum("ij,ij->i", shapes, shapes) - p0 * p0 - p1 * p1
    return Projection(yy=float(y_perp @ y_perp), rhs=shapes @ y_perp, gram=gram)


def best_distinct(rss: Array, keys: Array, how_many: int, distinct: Callable[[Array, Array], bool]
                  ) -> list[int]:
    """Indices of the lowest-RSS candidates, skipping ones too close to a candidate already kept."""
    kept: list[int] = []
    for idx in np.argsort(rss, kind="stable"):
        if not np.isfinite(rss[idx]):
            break
        if all(distinct(keys[idx], keys[k]) for k in kept):
            kept.append(int(idx))
            if len(kept) == how_many:
                break
    return kept


def linear_background(basis_rows: Array, data: ScaledData) -> Array:
    """Weighted linear least squares of y on [shapes..., 1, x]; returns all coefficients.

    Normal equations: a handful of well-scaled columns (x in [-1, 1]), so this is accurate and
    much cheaper than a general lstsq; it only seeds the nonlinear fit.
    """
    w = data.weights
    design = np.vstack([basis_rows * w, w, w * data.x])
    gram = design @ design.T
    try:
        return np.asarray(np.linalg.solve(gram, design @ (data.y * w)), dtype=np.float64)
    except np.linalg.LinAlgError:
        coef, *_ = np.linalg.lstsq(design.T, data.y * w, rcond=None)
        return np.asarray(coef, dtype=np.float64)


def smoothed_residual(data: ScaledData) -> Array:
    """Signal minus its weighted straight-line fit, lightly smoothed (running mean of 3-7 points)
    to find extrema for starting guesses without chasing single noisy points."""
    q0, q1 = _background_basis(data)
    yw = data.y * data.weights
    resid: Array = (yw - np.dot(q0, yw) * q0 - np.dot(q1, yw) * q1) / data.weights
    n = resid.size
    half = 0 if n < 15 else 1 if n < 60 else 2 if n < 300 else 3
    if half == 0:
        return resid
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    padded = np.concatenate([resid[half:0:-1], resid, resid[-2:-half - 2:-1]])
    smoothed: Array = np.convolve(padded, kernel, mode="valid")
    return smoothed


def binned(data: ScaledData, max_bins: int = 64) -> ScaledData:
    """The sorted data averaged into at most `max_bins` groups of neighbouring points (weighted
    means, weights combined in quadrature): a cheap stand-in for scoring broad candidate shapes."""
    n = data.x.size
    if n <= max_bins:
        return data
    edges = (np.arange(max_bins) * n) // max_bins
    w2 = data.weights * data.weights
    w2_sum = np.add.reduceat(w2, edges)
    return dataclasses.replace(
        data, x=np.add.reduceat(w2 * data.x, edges) / w2_sum,
        y=np.add.reduceat(w2 * data.y, edges) / w2_sum, weights=np.sqrt(w2_sum))


def min_spacing(x_sorted: Array) -> float:
    """Smallest useful feature scale: the median spacing of distinct sorted x values."""
    steps = np.diff(x_sorted)
    steps = steps[steps > 0.0]
    return float(np.median(steps)) if steps.size else 1.0


def log_grid(low: float, high: float, n: int) -> Array:
    """n values spaced evenly in log from low to high (a light np.geomspace)."""
    return low * (high / low) ** (np.arange(n) / (n - 1))


def unscale_covariance(transform: Array, cov: Array) -> Array:
    """Covariance of p = T p_s + shift, given the covariance of p_s."""
    return transform @ cov @ transform.T


def as_float_tuple(matrix: Array) -> tuple[tuple[float, ...], ...]:
    """A JSON-friendly immutable copy of a 2-D array."""
    return tuple(tuple(float(v) for v in row) for row in matrix)
