"""Straight-line extrapolation to zero power (NMOR widths vs light power; 0-0 widths and centers
vs light power, then the zero-light values vs rf power), as in the paper's Figs. 4, 9 and 10."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .fitcore import FitError, as_float_tuple


@dataclass(frozen=True)
class LineFit:
    """Result of `extrapolate_to_zero`: y = intercept + slope*x, in the units of x and y.

    `error_scale` is the factor the errors were multiplied by (sqrt(chi2_red) when the errors were
    inflated to make chi2_red 1, else 1). With yerr=None, chi2_red is 1 by construction and the
    errors come from the scatter about the line (residual_rms). `used` lists the indices of the
    points kept by x_max.
    """

    intercept: float
    intercept_err: float
    slope: float
    slope_err: float
    chi2_red: float
    n_points: int
    dof: int
    error_scale: float
    residual_rms: float
    x_max: float | None
    used: tuple[int, ...]
    covariance: tuple[tuple[float, ...], ...]

    def __repr__(self) -> str:
        """One readable line: intercept and slope with their errors, the fit quality."""
        return (f"LineFit(intercept={self.intercept:.5g} ± {self.intercept_err:.2g}, "
                f"slope={self.slope:.5g} ± {self.slope_err:.2g}, chi2_red={self.chi2_red:.3g}, "
                f"n_points={self.n_points})")

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """The fitted line at x."""
        return self.intercept + self.slope * np.asarray(x, dtype=float)

    def as_dict(self) -> dict[str, Any]:
        """Plain floats, ints and lists (json.dumps-able)."""
        return dataclasses.asdict(self)


def extrapolate_to_zero(x: ArrayLike, y: ArrayLike, yerr: ArrayLike | float | None = None,
                        x_max: float | None = None, scale_to_chi2: bool = True) -> LineFit:
    """Weighted straight line through the points with x <= x_max; the intercept is the value at x=0.

    yerr: standard errors of y (scalar or per point). When `scale_to_chi2` and the reduced
    chi-square exceeds 1, the errors are inflated by sqrt(chi2_red) so that it becomes 1 (the paper
    does this for its Fig. 4); they are never shrunk. With yerr=None the fit is unweighted and the
    errors come from the scatter of the points. Needs at least 3 points (one degree of freedom);
    raises FitError otherwise or on NaN / mismatched / non-positive errors.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise FitError(f"x and y must be 1-D of equal length, got {xa.shape} and {ya.shape}")
    err = _check_yerr(yerr, xa.size)
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise FitError("x or y contains NaN or infinite values")
    keep = np.ones(xa.size, dtype=bool) if x_max is None else xa <= x_max
    used = np.flatnonzero(keep)
    if used.size < 3:
        raise FitError(f"{used.size} points with x <= {x_max} is too few for a line (need >= 3)")
    xs, ys = xa[keep], ya[keep]
    if np.ptp(xs) == 0.0:
        raise FitError("all x values are equal: the slope is not determined")
    weights = np.ones(xs.size) if err is None else 1.0 / err[keep]
    design = np.column_stack([weights, weights * xs])
    coef, *_ = np.linalg.lstsq(design, weights * ys, rcond=None)
    resid = ys - coef[0] - coef[1] * xs
    dof = xs.size - 2
    chi2_red = float(np.sum((resid * weights) ** 2) / dof)
    cov = np.linalg.inv(design.T @ design)
    if err is None:
        cov = cov * chi2_red
        scale = 1.0
        chi2_red = 1.0
    else:
        scale = float(np.sqrt(chi2_red)) if (scale_to_chi2 and chi2_red > 1.0) else 1.0
        cov = cov * scale * scale
    errs = np.sqrt(np.diag(cov))
    return LineFit(intercept=float(coef[0]), intercept_err=float(errs[0]), slope=float(coef[1]),
                   slope_err=float(errs[1]), chi2_red=chi2_red, n_points=int(xs.size), dof=dof,
                   error_scale=scale, residual_rms=float(np.sqrt(np.sum(resid**2) / dof)),
                   x_max=None if x_max is None else float(x_max),
                   used=tuple(int(i) for i in used), covariance=as_float_tuple(cov))


def _check_yerr(yerr: ArrayLike | float | None, n: int) -> NDArray[np.float64] | None:
    if yerr is None:
        return None
    err = np.asarray(yerr, dtype=float)
    if err.ndim == 0:
        err = np.full(n, float(err))
    if err.shape != (n,):
        raise FitError(f"yerr must be a scalar or have {n} values, got shape {err.shape}")
    if not (np.all(np.isfinite(err)) and np.all(err > 0.0)):
        raise FitError("yerr must be finite and > 0")
    return err
