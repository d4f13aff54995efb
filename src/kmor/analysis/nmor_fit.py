"""Fit NMOR magnetic-field scans: the dispersive zero-field resonance and its nested two-component
form (broad F=2 and narrow, opposite-sign F=1 at high light power)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import fitcore
from .constants import LARMOR_F2_HZ_PER_UG
from .fitcore import FitError, ScaledData, Solution
from .lineshapes import dispersive_sum, dispersive_sum_jacobian, dispersive_sum_model

_N_CANDIDATE_STARTS = 3
_N_PAIR_STARTS = 4
_PAIR_MAX_NFEV = 400
_GRID_CENTERS = np.linspace(-1.0, 1.0, 33)


@dataclass(frozen=True)
class NmorFit:
    """Result of `fit_nmor`; fields in uG for fields and in signal units for the signal.

    The model is amplitude*u/(u**2 + (width_uG/2)**2) + offset + slope*B, u = B - center_uG, so
    `width_uG` is the peak-to-peak separation of the extrema (the paper's DeltaB), `amplitude` is in
    signal x uG, `offset` is the background at B = 0 and `slope` is per uG. For a nested fit the
    top-level values are those of the dominant component (largest |peak_signal|) and `components`
    holds every term, narrowest first; each component's `curve` is its own term plus the shared
    background. With sigma=None, chi2_red is 1 by construction (sigma is estimated from the residual
    scatter, given as residual_rms). `param_names` and `covariance` (top level only) give the
    full covariance matrix of the fit in these physical units.
    """

    width_uG: float
    width_err_uG: float
    center_uG: float
    center_err_uG: float
    amplitude: float
    amplitude_err: float
    offset: float
    offset_err: float
    slope: float
    slope_err: float
    chi2_red: float
    n_points: int
    dof: int
    residual_rms: float
    sigma_given: bool
    components: tuple[NmorFit, ...] = ()
    param_names: tuple[str, ...] = ()
    covariance: tuple[tuple[float, ...], ...] = ()

    def __repr__(self) -> str:
        """One readable line: the values with their errors, the fit quality (no covariance)."""
        nested = f", {len(self.components)} components" if len(self.components) > 1 else ""
        return (f"NmorFit(width_uG={self.width_uG:.4g} ± {self.width_err_uG:.2g}, "
                f"center_uG={self.center_uG:.4g} ± {self.center_err_uG:.2g}, "
                f"amplitude={self.amplitude:.4g} ± {self.amplitude_err:.2g}, offset={self.offset:.4g}, "
                f"slope={self.slope:.4g}, chi2_red={self.chi2_red:.3g}, n_points={self.n_points}{nested})")

    @property
    def peak_signal(self) -> float:
        """Signal at the extremum on the high-field side, above the background (amplitude/width)."""
        return self.amplitude / self.width_uG

    def curve(self, field_uG: ArrayLike) -> NDArray[np.float64]:
        """The fitted model at `field_uG` (all components plus background)."""
        terms = self.components or (self,)
        return dispersive_sum(field_uG, self.center_uG, [t.amplitude for t in terms],
                              [t.width_uG for t in terms], self.offset, self.slope)

    def as_dict(self) -> dict[str, Any]:
        """Plain floats, ints, lists and dicts (json.dumps-able)."""
        out = dataclasses.asdict(self)
        out["peak_signal"] = self.peak_signal
        out["components"] = [c.as_dict() for c in self.components]
        return out


def gamma_nmor_hz(width_uG: ArrayLike) -> Any:
    """Zeeman relaxation rate gamma/2pi (Hz) from an NMOR peak-to-peak width DeltaB (uG).

    gamma/2pi = |g_F| (mu_B/h) DeltaB for 39K F=2, 0.70047 Hz per uG (paper Eq. 1: 2.9 uG gives
    2.0 Hz). Linear, so it converts a width error the same way. Scalar in, float out; array in,
    array out.
    """
    value = LARMOR_F2_HZ_PER_UG * np.asarray(width_uG, dtype=float)
    return float(value) if value.ndim == 0 else value


def fit_nmor(field_uG: ArrayLike, signal: ArrayLike, sigma: ArrayLike | float | None = None,
             components: int = 1) -> NmorFit:
    """Fit an NMOR field scan with `components` dispersive terms sharing one center.

    field_uG: applied field (uG), any order, repeats allowed (down and up sweeps of a triangle).
    signal: lock-in output, any units. sigma: per-point (or scalar) standard error of the signal
    in the same units; the errors are then absolute and chi2_red tells the fit quality. With
    sigma=None the errors are scaled from the residual scatter (as curve_fit does by default).
    components: 1 for the ordinary curve, 2 for the nested high-power shape.

    No starting values are needed: they come from a variable-projection search over centers and
    widths, seeded by the extrema of the detrended data. Raises FitError on bad input or a fit that
    does not converge to finite values with finite errors.
    """
    if components not in (1, 2):
        raise FitError(f"components must be 1 or 2, got {components!r}")
    n_params = 3 + 2 * components
    data = fitcore.prepare(field_uG, signal, sigma, n_params, "field_uG")
    single = fitcore.solve_from_candidates(dispersive_sum_model, dispersive_sum_jacobian,
                                           _single_starts(data), data, _accept)
    solution = single
    if components == 2:
        try:
            solution = fitcore.solve_best_of(
                dispersive_sum_model, dispersive_sum_jacobian,
                _pair_starts(data, single.params[0]), data, _accept_pair, _PAIR_MAX_NFEV)
        except FitError as exc:
            raise FitError("two-component fit failed: the data do not resolve two dispersive "
                           f"features (last problem: {exc})") from exc
    return _result(solution, data)


def best_candidate_rss(field_uG: ArrayLike, signal: ArrayLike,
                       sigma: ArrayLike | float | None = None) -> float:
    """Weighted residual sum of squares of the best single dispersive curve among the starting
    candidates (background and amplitude fitted linearly), in the units of `weighted_rss`: what a
    resonance can do for the data even when the nonlinear fit does not converge (pure noise)."""
    data = fitcore.prepare(field_uG, signal, sigma, 5, "field_uG")
    start = next(_single_starts(data), None)
    if start is None:
        return math.inf
    resid = (dispersive_sum_model(data.x, start) - data.y) * data.weights
    return float(resid @ resid) * (1.0 if data.sigma_given else data.y_scale ** 2)


def weighted_rss(fit: NmorFit, field_uG: ArrayLike, signal: ArrayLike,
                 sigma: ArrayLike | float | None = None) -> float:
    """Sum of squared residuals of `fit`, each divided by its sigma (unweighted without sigma)."""
    resid = np.asarray(signal, dtype=float) - fit.curve(field_uG)
    if sigma is not None:
        resid = resid / np.asarray(sigma, dtype=float)
    return float(resid @ resid)


def _shapes(x: NDArray[np.float64], centers: NDArray[np.float64],
            half_widths: NDArray[np.float64]) -> NDArray[np.float64]:
    u = x[None, :] - centers[:, None]
    denominator = u * u
    denominator += (half_widths * half_widths)[:, None]
    return np.divide(u, denominator, out=u)


def _single_starts(data: ScaledData) -> Iterator[NDArray[np.float64]]:
    """Starting points [B0, c0, c1, a, dB] in scaled units, best first.

    Candidates: centers/widths around the extrema of the detrended data (narrow features), and
    the best few of a center x width grid scored on binned data (broad or partly-scanned ones);
    all are then scored on the full data by variable projection.
    """
    x = data.x
    spacing = fitcore.min_spacing(x)
    resid = fitcore.smoothed_residual(data)
    i_hi, i_lo = int(np.argmax(resid)), int(np.argmin(resid))
    c_guess = 0.5 * (x[i_hi] + x[i_lo])
    hw_guess = max(0.5 * abs(x[i_hi] - x[i_lo]), 0.5 * spacing)
    heuristic = [(c_guess + dc * hw_guess, hw_guess * f)
                 for f in (0.6, 0.8, 1.0, 1.25, 1.6) for dc in (-0.3, 0.0, 0.3)]
    coarse = fitcore.binned(data)
    coarse_spacing = 2.0 / coarse.x.size
    half_widths = fitcore.log_grid(max(0.5 * spacing, 0.5 * coarse_spacing), 2.0, 12)
    grid = np.column_stack([np.tile(_GRID_CENTERS, half_widths.size),
                            np.repeat(half_widths, _GRID_CENTERS.size)])
    grid_rss = fitcore.project(_shapes(coarse.x, grid[:, 0], grid[:, 1]), coarse).single_rss()
    best_grid = grid[np.argsort(grid_rss, kind="stable")[:4]]
    keys = np.vstack([np.array(heuristic), best_grid])
    basis = _shapes(x, keys[:, 0], keys[:, 1])
    rss = fitcore.project(basis, data).single_rss()

    def distinct(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
        return bool(abs(a[0] - b[0]) > min(a[1], b[1]) or max(a[1], b[1]) > 1.5 * min(a[1], b[1]))

    for idx in fitcore.best_distinct(rss, keys, _N_CANDIDATE_STARTS, distinct):
        amp, c0, c1 = fitcore.linear_background(basis[idx:idx + 1], data)
        yield np.array([keys[idx, 0], c0, c1, amp, 2.0 * keys[idx, 1]])


def _pair_starts(data: ScaledData, center: float) -> Iterator[NDArray[np.float64]]:
    """Starting points [B0, c0, c1, a1, dB1, a2, dB2] for the nested shape, around `center`."""
    spacing = fitcore.min_spacing(data.x)
    half_widths = fitcore.log_grid(0.5 * spacing, 2.0, 18)
    basis = _shapes(data.x, np.full(half_widths.size, center), half_widths)
    proj = fitcore.project(basis, data, full_gram=True)
    pairs = [(i, j) for i in range(half_widths.size) for j in range(i + 1, half_widths.size)
             if half_widths[j] > 1.4 * half_widths[i]]
    rss = np.array([_pair_rss(proj, i, j) for i, j in pairs])
    keys = np.array(pairs, dtype=float)

    def distinct(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
        return bool(np.any(np.abs(a - b) > 1.5))

    for idx in fitcore.best_distinct(rss, keys, _N_PAIR_STARTS, distinct):
        i, j = pairs[idx]
        a1, a2, c0, c1 = fitcore.linear_background(basis[[i, j]], data)
        yield np.array([center, c0, c1, a1, 2.0 * half_widths[i], a2, 2.0 * half_widths[j]])


def _pair_rss(proj: fitcore.Projection, i: int, j: int) -> float:
    g = proj.gram[np.ix_([i, j], [i, j])]
    r = proj.rhs[[i, j]]
    det = g[0, 0] * g[1, 1] - g[0, 1] ** 2
    if not det > 1e-12 * g[0, 0] * g[1, 1]:
        return np.inf
    explained = (g[1, 1] * r[0] ** 2 - 2 * g[0, 1] * r[0] * r[1] + g[0, 0] * r[1] ** 2) / det
    return float(proj.yy - explained)


def _accept(params: NDArray[np.float64]) -> bool:
    """Reject solutions that left the data: center far outside it, or a width so large that the
    curve is only a straight line over the scan (scaled units: the data span [-1, 1])."""
    widths = np.abs(params[4::2])
    return bool(abs(params[0]) < 3.0 and np.all(widths < 20.0) and np.all(widths > 0.0))


def _accept_pair(params: NDArray[np.float64]) -> bool:
    """Also reject two components that merged into one width (a sign that the data do not
    resolve two features: the pair then mimics one curve and its derivative)."""
    w1, w2 = np.abs(params[4]), np.abs(params[6])
    return _accept(params) and max(w1, w2) > 1.05 * min(w1, w2)


def _result(sol: Solution, data: ScaledData) -> NmorFit:
    """Convert the scaled solution to physical units and build the (component) results."""
    s, xm, ys = data.x_scale, data.x_mid, data.y_scale
    p = sol.params
    n = p.size
    transform = np.zeros((n, n))
    transform[0, 0] = s
    transform[1, 1] = ys
    transform[1, 2] = -ys * xm / s
    transform[2, 2] = ys / s
    for k in range(3, n, 2):
        transform[k, k] = ys * s
        transform[k + 1, k + 1] = s * np.sign(p[k + 1])
    # reorder the components narrowest first, so covariance rows match param_names
    firsts = sorted(range(3, n, 2), key=lambda k: abs(p[k + 1]))
    order = [0, 1, 2] + [i for k in firsts for i in (k, k + 1)]
    transform = transform[order]
    phys = transform @ p
    phys[0] += xm
    cov = fitcore.unscale_covariance(transform, sol.covariance)
    err = np.sqrt(np.diag(cov))
    resid = dispersive_sum_model(data.x, p) - data.y
    common: dict[str, Any] = dict(center_uG=float(phys[0]), center_err_uG=float(err[0]), offset=float(phys[1]),
                  offset_err=float(err[1]), slope=float(phys[2]), slope_err=float(err[2]),
                  chi2_red=float(sol.chi2_red) if data.sigma_given else 1.0,
                  n_points=int(data.x.size), dof=int(sol.dof),
                  residual_rms=ys * float(np.sqrt(np.dot(resid, resid) / sol.dof)),
                  sigma_given=data.sigma_given)
    comps = tuple(NmorFit(width_uG=float(phys[k + 1]), width_err_uG=float(err[k + 1]),
                          amplitude=float(phys[k]), amplitude_err=float(err[k]), **common)
                  for k in range(3, n, 2))
    dominant = max(comps, key=lambda c: abs(c.peak_signal))
    names = ["center_uG", "offset", "slope"]
    for i in range(1, len(comps) + 1):
        names += [f"amplitude_{i}", f"width_uG_{i}"]
    return dataclasses.replace(dominant, components=comps, param_names=tuple(names),
                               covariance=fitcore.as_float_tuple(cov))
