"""Fit rf-optical double-resonance spectra: one Lorentzian (the isolated 0-0 line) or several
(the resolved Zeeman components in a mG field), each on a straight-line background."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import fitcore
from .fitcore import FitError, ScaledData, Solution
from .lineshapes import lorentzian, lorentzian_sum_jacobian, lorentzian_sum_model

_N_CANDIDATE_STARTS = 3
_GRID_CENTERS = np.linspace(-1.0, 1.0, 41)


@dataclass(frozen=True)
class LorentzianFit:
    """Result of `fit_lorentzian` (frequencies in Hz, signal in the units given).

    Model: amplitude/(1 + (2(f - center_hz)/fwhm_hz)**2) + offset + slope*(f - f_mid_hz), with
    f_mid_hz the middle of the scanned range; amplitude < 0 is a dip. With sigma=None, chi2_red
    is 1 by construction (sigma is estimated from the residual scatter, given as residual_rms).
    """

    fwhm_hz: float
    fwhm_err_hz: float
    center_hz: float
    center_err_hz: float
    amplitude: float
    amplitude_err: float
    offset: float
    offset_err: float
    slope: float
    slope_err: float
    f_mid_hz: float
    chi2_red: float
    n_points: int
    dof: int
    residual_rms: float
    sigma_given: bool
    param_names: tuple[str, ...] = ()
    covariance: tuple[tuple[float, ...], ...] = ()

    def __repr__(self) -> str:
        """One readable line: the values with their errors, the fit quality (no covariance)."""
        return (f"LorentzianFit(fwhm_hz={self.fwhm_hz:.4g} ± {self.fwhm_err_hz:.2g}, "
                f"center_hz={self.center_hz:.12g} ± {self.center_err_hz:.2g}, "
                f"amplitude={self.amplitude:.4g} ± {self.amplitude_err:.2g}, offset={self.offset:.4g}, "
                f"chi2_red={self.chi2_red:.3g}, n_points={self.n_points})")

    def curve(self, freq_hz: ArrayLike) -> NDArray[np.float64]:
        """The fitted model at `freq_hz`."""
        return lorentzian(freq_hz, self.amplitude, self.center_hz, self.fwhm_hz, self.offset,
                          self.slope, self.f_mid_hz)

    def as_dict(self) -> dict[str, Any]:
        """Plain floats, ints and lists (json.dumps-able)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MultiLorentzianFit:
    """Result of `fit_lorentzians`: `lines` sorted by center, each with the shared background
    (its own `curve` is that line plus the background); `curve` here is the whole model."""

    lines: tuple[LorentzianFit, ...]
    offset: float
    slope: float
    f_mid_hz: float
    chi2_red: float
    n_points: int
    dof: int
    residual_rms: float
    sigma_given: bool
    param_names: tuple[str, ...] = ()
    covariance: tuple[tuple[float, ...], ...] = ()

    def __repr__(self) -> str:
        """The lines, one per row, and the fit quality (no covariance)."""
        rows = "".join(f"\n  {line!r}," for line in self.lines)
        return f"MultiLorentzianFit(chi2_red={self.chi2_red:.3g}, n_points={self.n_points}, lines=[{rows}\n])"

    def curve(self, freq_hz: ArrayLike) -> NDArray[np.float64]:
        """The fitted model (all lines plus background) at `freq_hz`."""
        total = self.offset + self.slope * (np.asarray(freq_hz, dtype=float) - self.f_mid_hz)
        for line in self.lines:
            total = total + lorentzian(freq_hz, line.amplitude, line.center_hz, line.fwhm_hz)
        return total

    def as_dict(self) -> dict[str, Any]:
        """Plain floats, ints, lists and dicts (json.dumps-able)."""
        return dataclasses.asdict(self)


def fit_lorentzian(freq_hz: ArrayLike, signal: ArrayLike,
                   sigma: ArrayLike | float | None = None) -> LorentzianFit:
    """Fit one Lorentzian (peak or dip) on a linear background to a spectrum.

    freq_hz: frequencies in Hz, any order (absolute values such as 461,719,720 Hz are fine: the fit
    works relative to the middle of the range). signal: any units. sigma: per-point or scalar
    standard error of the signal (absolute errors, chi2_red then measures fit quality); with
    sigma=None the errors are scaled from the residual scatter. No starting values are needed.
    Raises FitError on bad input or a fit that does not converge to finite values and errors.
    """
    return fit_lorentzians(freq_hz, signal, 1, sigma).lines[0]


def fit_lorentzians(freq_hz: ArrayLike, signal: ArrayLike, n_lines: int,
                    sigma: ArrayLike | float | None = None) -> MultiLorentzianFit:
    """Fit `n_lines` Lorentzians (independent amplitudes, centers and widths) on one linear
    background, e.g. the resolved Zeeman components of the hyperfine spectrum.

    Lines are found one at a time (the best new line against the residual of the previous fit,
    by variable projection), each step refitting all lines together. Same conventions and errors
    as `fit_lorentzian`.
    """
    if not (isinstance(n_lines, (int, np.integer)) and n_lines >= 1):
        raise FitError(f"n_lines must be a positive integer, got {n_lines!r}")
    data = fitcore.prepare(freq_hz, signal, sigma, 2 + 3 * n_lines, "freq_hz")
    solution: Solution | None = None
    for _ in range(n_lines):
        previous = solution.params if solution is not None else np.zeros(2)
        solution = fitcore.solve_from_candidates(
            lorentzian_sum_model, lorentzian_sum_jacobian, _starts(data, previous), data, _accept)
    assert solution is not None
    return _result(solution, data)


def best_candidate_rss(freq_hz: ArrayLike, signal: ArrayLike,
                       sigma: ArrayLike | float | None = None) -> float:
    """Weighted residual sum of squares of the best single Lorentzian among the starting
    candidates (background and amplitude fitted linearly; each residual divided by its sigma when
    given): what a line can do for the data even when the nonlinear fit does not converge."""
    data = fitcore.prepare(freq_hz, signal, sigma, 5, "freq_hz")
    start = next(_starts(data, np.zeros(2)), None)
    if start is None:
        return float("inf")
    resid = (lorentzian_sum_model(data.x, start) - data.y) * data.weights
    return float(resid @ resid) * (1.0 if data.sigma_given else data.y_scale ** 2)


def _shapes(x: NDArray[np.float64], centers: NDArray[np.float64],
            fwhms: NDArray[np.float64]) -> NDArray[np.float64]:
    z = x[None, :] - centers[:, None]
    z *= (2.0 / fwhms)[:, None]
    z *= z
    z += 1.0
    return np.reciprocal(z, out=z)


def _starts(data: ScaledData, previous: NDArray[np.float64]) -> Iterator[NDArray[np.float64]]:
    """Starting points [c0, c1, lines..., A, f0, fwhm] adding one line to `previous` (scaled)."""
    lines = previous[2:]
    if lines.size:
        resid = data.y - lorentzian_sum_model(data.x, np.concatenate([[0.0, 0.0], lines]))
        data = dataclasses.replace(data, y=resid)
    x = data.x
    spacing = fitcore.min_spacing(x)
    center, fwhm = _peak_guess(data, spacing)
    heuristic = [(center + dc * fwhm, fwhm * f)
                 for f in (0.5, 0.7, 1.0, 1.4, 2.0) for dc in (-0.25, 0.0, 0.25)]
    coarse = fitcore.binned(data)
    fwhms = fitcore.log_grid(max(spacing, 2.0 / coarse.x.size), 4.0, 12)
    grid = np.column_stack([np.tile(_GRID_CENTERS, fwhms.size),
                            np.repeat(fwhms, _GRID_CENTERS.size)])
    grid_rss = fitcore.project(_shapes(coarse.x, grid[:, 0], grid[:, 1]), coarse).single_rss()
    keys = np.vstack([np.array(heuristic), grid[np.argsort(grid_rss, kind="stable")[:4]]])
    basis = _shapes(x, keys[:, 0], keys[:, 1])
    rss = fitcore.project(basis, data).single_rss()

    def distinct(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
        return bool(abs(a[0] - b[0]) > 0.5 * min(a[1], b[1])
                    or max(a[1], b[1]) > 1.5 * min(a[1], b[1]))

    for idx in fitcore.best_distinct(rss, keys, _N_CANDIDATE_STARTS, distinct):
        amp, c0, c1 = fitcore.linear_background(basis[idx:idx + 1], data)
        yield np.concatenate([[c0, c1], lines, [amp, keys[idx, 0], keys[idx, 1]]])


def _peak_guess(data: ScaledData, spacing: float) -> tuple[float, float]:
    """Center and FWHM of the largest excursion (peak or dip) of the detrended, smoothed data."""
    resid = fitcore.smoothed_residual(data)
    resid = resid - np.median(resid)
    i_peak = int(np.argmax(np.abs(resid)))
    half = 0.5 * resid[i_peak]
    inside = np.sign(half) * resid >= np.abs(half)
    left = i_peak
    while left > 0 and inside[left - 1]:
        left -= 1
    right = i_peak
    while right < resid.size - 1 and inside[right + 1]:
        right += 1
    fwhm = max(float(data.x[right] - data.x[left]), spacing)
    return float(data.x[i_peak]), fwhm


def _accept(params: NDArray[np.float64]) -> bool:
    """Reject lines centered far outside the data or broader than ten times the scan
    (scaled units: the data span [-1, 1])."""
    centers, fwhms = params[3::3], np.abs(params[4::3])
    return bool(np.all(np.abs(centers) < 2.0) and np.all(fwhms < 20.0) and np.all(fwhms > 0.0))


def _result(sol: Solution, data: ScaledData) -> MultiLorentzianFit:
    """Convert the scaled solution to physical units, lines sorted by center."""
    s, fm, ys = data.x_scale, data.x_mid, data.y_scale
    p = sol.params
    n = p.size
    transform = np.zeros((n, n))
    transform[0, 0] = ys
    transform[1, 1] = ys / s
    firsts = sorted(range(2, n, 3), key=lambda k: p[k + 1])
    for k in firsts:
        transform[k, k] = ys
        transform[k + 1, k + 1] = s
        transform[k + 2, k + 2] = s * np.sign(p[k + 2])
    order = [0, 1] + [i for k in firsts for i in (k, k + 1, k + 2)]
    transform = transform[order]
    phys = transform @ p
    phys[3::3] += fm
    cov = fitcore.unscale_covariance(transform, sol.covariance)
    err = np.sqrt(np.diag(cov))
    resid = lorentzian_sum_model(data.x, p) - data.y
    common: dict[str, Any] = dict(offset=float(phys[0]), offset_err=float(err[0]), slope=float(phys[1]),
                  slope_err=float(err[1]), f_mid_hz=fm,
                  chi2_red=float(sol.chi2_red) if data.sigma_given else 1.0,
                  n_points=int(data.x.size), dof=int(sol.dof),
                  residual_rms=ys * float(np.sqrt(np.dot(resid, resid) / sol.dof)),
                  sigma_given=data.sigma_given)
    names = ["offset", "slope"]
    lines = []
    for i, k in enumerate(range(2, n, 3), start=1):
        names += [f"amplitude_{i}", f"center_hz_{i}", f"fwhm_hz_{i}"]
        lines.append(LorentzianFit(
            fwhm_hz=float(phys[k + 2]), fwhm_err_hz=float(err[k + 2]),
            center_hz=float(phys[k + 1]), center_err_hz=float(err[k + 1]),
            amplitude=float(phys[k]), amplitude_err=float(err[k]), **common))
    cov_t = fitcore.as_float_tuple(cov)
    if len(lines) == 1:
        lines[0] = dataclasses.replace(lines[0], param_names=tuple(names), covariance=cov_t)
    return MultiLorentzianFit(lines=tuple(lines), offset=common["offset"], slope=common["slope"],
                              f_mid_hz=fm, chi2_red=common["chi2_red"], n_points=common["n_points"],
                              dof=common["dof"], residual_rms=common["residual_rms"],
                              sigma_given=data.sigma_given, param_names=tuple(names),
                              covariance=cov_t)
