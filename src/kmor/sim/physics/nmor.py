"""Zero-field FM NMOR in the coated cell: the rank-2 (alignment) multipole of each ground hyperfine
level in the full magnetic field vector, power broadening, saturation, the FM spectral factor and the
nested F=1 feature.

Alignment model (Budker et al., RMP 74, 1153). Light travels along z, linearly polarised along x, and
pumps an alignment m0 whose symmetry axis is x. In a field B the five spherical components m_q
(q = -2..2, quantisation axis z) relax towards m0 while precessing,

    dm/dt = -gamma (m - m0) - i (Omega . L) m,   Omega = g_F mu_B B / hbar,

with L the 5x5 angular-momentum matrices for k = 2. The steady state solves
(gamma + i Omega.L) m = gamma m0. The rotation of the light polarisation is set by the alignment
component at 45 deg to x, Im(m_-2 - m_2) / (2 m0_2). For B along z this is exactly x / (1 + x^2),
x = 2 g_F mu_B B / (hbar gamma), so the peak-to-peak width of the curve is hbar gamma / (|g_F| mu_B);
transverse fields tilt the precession axis, distort and broaden the Bz curve, and nulling them restores
the clean dispersive shape. Everything is written in field units: b = sign(g_F) 2 B / width.
`dispersion` evaluates the steady state in closed form (6 us a point instead of 80 us for the 5x5
solve in `alignment_dispersion`, which stays as the reference it is tested against).

Magnitudes (an effective model, docs/decisions/0011): the F=2 width is intrinsic + slope x P exactly;
the rotation amplitude saturates as kappa/(1+kappa) with its own saturation power (150 uW on D1,
3 uW on D2); the F=1 curve, with the opposite g_F and a pumping rate 3.6 times lower, has an amplitude
ratio growing as P^3 that is ~0.1 % below 10 uW and ~0.6 at 115 uW (the nested feature of Fig. 5); the
detuning dependence is the FM spectral factor (decision 0012).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import wofz

from kmor.sim.physics import fm, vapor
from kmor.sim.physics.constants import G_F1, G_F2, LINES, isotope_mass_u
from kmor.sim.physics.params import NmorParams


def spin_matrices(k: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Lx, Ly, Lz) for angular momentum k in the basis q = -k..k."""
    q = np.arange(-k, k + 1, dtype=float)
    raise_ = np.diag(np.sqrt(k * (k + 1) - q[:-1] * (q[:-1] + 1)), -1)  # <q+1|L+|q>
    lower = raise_.T
    return (0.5 * (raise_ + lower)).astype(complex), (-0.5j * (raise_ - lower)), np.diag(q).astype(complex)


_LX, _LY, _LZ = spin_matrices(2)


def _pumped_alignment() -> np.ndarray:
    """Alignment with its axis along x (the null vector of Lx), scaled so that m0_{+2} = 1."""
    _, vecs = np.linalg.eigh(_LX)
    m0 = vecs[:, np.argmin(np.abs(np.linalg.eigvalsh(_LX)))]
    return (m0 / m0[4]).astype(complex)


_M0 = _pumped_alignment()


def alignment_dispersion(field_uG: np.ndarray, width_uG: np.ndarray | float, g_sign: float) -> np.ndarray:
    """Normalised rotation of one hyperfine level in the field `field_uG` (shape (..., 3): Bx, By, Bz).

    `width_uG` is the peak-to-peak width of the curve for a field along z (hbar gamma / |g_F| mu_B);
    `g_sign` is the sign of g_F. Returns x/(1+x^2) when the field is along z, with x = sign 2 Bz / width.
    """
    field = np.asarray(field_uG, dtype=float)
    return _solve((g_sign * 2.0) * field / np.asarray(width_uG, dtype=float)[..., None])


def widths_uG(params: NmorParams, line_name: str, power_uW: float) -> tuple[float, float]:
    """Peak-to-peak widths (F=2, F=1) at a light power: gamma_F = gamma0 + pumping rate of level F.

    The same intrinsic rate gamma0 appears as a width scaled by 1/|g_F|; the F=1 pumping rate is the
    F=2 rate over `f1_pump_ratio`.
    """
    slope = params.broadening_D1_uG_per_uW if line_name == "D1" else params.broadening_D2_uG_per_uW
    w2 = params.intrinsic_width_uG + slope * power_uW
    w1 = params.intrinsic_width_uG * abs(G_F2 / G_F1) + slope / params.f1_pump_ratio * power_uW
    return w2, w1


def power_factors(params: NmorParams, line_name: str, power_uW: float) -> tuple[float, float]:
    """(F=2 saturation kappa/(1+kappa), F=1 over F=2 amplitude ratio) at a light power.

    The F=1 ratio grows as P^n at low power (n = 3 by default: light tuned to F=2 fills F=1 by
    hyperfine pumping, aligns it by repopulation, and the F=1 share of the probe grows with its
    population, each in proportion to the F=2 pumping rate) and saturates at `f1_relative_amplitude`.
    Below 10 uW it is ~0.1 % and the curve is a single dispersive; at ~100 uW it makes the nested
    narrow feature of opposite sign (g_1 = -g_2).
    """
    p_sat = params.saturation_power_D1_uW if line_name == "D1" else params.saturation_power_D2_uW
    kappa = max(power_uW, 0.0) / p_sat
    un = (max(power_uW, 0.0) / params.f1_onset_power_uW) ** params.f1_onset_exponent
    return kappa / (1.0 + kappa), params.f1_relative_amplitude * un / (1.0 + un)


def _f2_profiles(line_name: str, temperature_C: float):
    """Absorptive and dispersive Doppler (Voigt) profiles of the 39K F=2 components, per MHz."""
    line = LINES[line_name]
    sigma = vapor.doppler_sigma_MHz(temperature_C, line.freq_MHz, isotope_mass_u(39))
    comps = [c for c in line.components if c.isotope == 39 and c.F == 2]
    norm = 1.0 / (sigma * np.sqrt(2.0 * np.pi))

    def complex_profile(d: np.ndarray) -> np.ndarray:
        total = np.zeros(np.shape(d), dtype=complex)
        for c in comps:
            z = (d - c.offset_MHz + 0.5j * line.natural_width_MHz) / (sigma * np.sqrt(2.0))
            total += c.weight * wofz(z)
        return total * norm
    return complex_profile


@lru_cache(maxsize=16)
def spectral_table(line_name: str, temperature_C: float, modulation_amplitude_MHz: float,
                   probe_phase_deg: float) -> fm.Table:
    """FM spectral factor of the in-phase 1f rotation versus the laser's centre detuning, normalised
    to +1 at its largest value.

    Atoms in the coated cell cross the whole Doppler profile (velocity changes at each wall bounce, every
    ~50 us) and keep their alignment for ~0.1 s, so they are pumped by the cycle- and Doppler-averaged
    F=2 absorption p_bar; the rotation they produce is read at the first harmonic, p1, of the probe
    profile cos(psi) absorptive + sin(psi) dispersive. Signal ~ p_bar p1.
    """
    profile = _f2_profiles(line_name, temperature_C)
    psi = np.radians(probe_phase_deg)
    (s0,) = fm.harmonics_on_grid(lambda d: profile(d).real, modulation_amplitude_MHz, (0,))
    (p1,) = fm.harmonics_on_grid(lambda d: np.cos(psi) * profile(d).real + np.sin(psi) * profile(d).imag,
                                 modulation_amplitude_MHz, (1,))
    s = 0.5 * s0 * p1
    return fm.Table(s / s[np.argmax(np.abs(s))])


class NmorModel:
    """Rotation angle (in-phase 1f amplitude, rad) of the coated cell versus field, power and detuning."""

    def __init__(self, params: NmorParams, temperature_C: float, modulation_amplitude_MHz: float) -> None:
        self.params = params
        self._spectral = {name: spectral_table(name, temperature_C, modulation_amplitude_MHz,
                                               params.fm_probe_phase_deg) for name in LINES}
        self._signs = (float(np.sign(G_F2)), float(np.sign(G_F1)))

    def spectral_factor(self, line_name: str, detuning_MHz: float) -> float:
        """FM spectral factor (+1 at the best detuning) of `line_name` at a detuning (MHz)."""
        return self._spectral[line_name](detuning_MHz)

    def amplitudes_rad(self, line_name: str, power_uW: float, detuning_MHz: float) -> tuple[float, float]:
        """Coefficients (A_2, A_1) of the x/(1+x^2) curves of F=2 and F=1 (peak rotation is A/2)."""
        p = self.params
        peak_urad = p.max_rotation_D1_urad if line_name == "D1" else p.max_rotation_D2_urad
        sat, f1_ratio = power_factors(p, line_name, power_uW)
        a2 = 2e-6 * peak_urad * sat * self.spectral_factor(line_name, detuning_MHz)
        return a2, a2 * f1_ratio

    def rotation_rad(self, field_uG: np.ndarray, power_uW: float, detuning_MHz: float,
                     line_name: str = "D1") -> np.ndarray:
        """Rotation (rad) for fields of shape (..., 3) in the cell (residual included by the caller)."""
        field = np.asarray(field_uG, dtype=float)
        a2, a1 = self.amplitudes_rad(line_name, power_uW, detuning_MHz)
        if a2 == 0.0:
            return np.zeros(field.shape[:-1])
        w2, w1 = widths_uG(self.params, line_name, power_uW)
        xt = 2.0 * field[..., 2] / self.params.transit_width_uG
        background = self.params.transit_amplitude_fraction * xt / (1.0 + xt * xt) + self.params.offset_fraction
        return (a2 * (dispersion(field, w2, self._signs[0]) + background)
                + a1 * dispersion(field, w1, self._signs[1]))

    def rotation_at(self, field_uG: tuple[float, float, float], power_uW: float, detuning_MHz: float,
                    line_name: str = "D1") -> float:
        """`rotation_rad` for one field point, in plain floats (cheap enough to call per point)."""
        a2, a1 = self.amplitudes_rad(line_name, power_uW, detuning_MHz)
        if a2 == 0.0:
            return 0.0
        w2, w1 = widths_uG(self.params, line_name, power_uW)
        bx, by, bz = field_uG
        xt = 2.0 * bz / self.params.transit_width_uG
        background = self.params.transit_amplitude_fraction * xt / (1.0 + xt * xt) + self.params.offset_fraction
        return (a2 * (_dispersion_scalar(bx, by, bz, w2, self._signs[0]) + background)
                + a1 * _dispersion_scalar(bx, by, bz, w1, self._signs[1]))


def dispersion(field_uG: np.ndarray, width_uG: float, g_sign: float) -> np.ndarray:
    """Closed form of `alignment_dispersion` (the fast path; equal to it to rounding).

    The steady state is the pumped alignment averaged over precession angles a = Omega t about
    n = B/|B| with weight gamma exp(-gamma t). The x-aligned tensor becomes u u^T with u = R_n(a) x,
    and the readout is 2 u_x u_y. With y = Omega/gamma = sign |B| / width, <cos ka> = 1/(1+k^2 y^2),
    <sin ka> = k y/(1+k^2 y^2), and n_x^2 = a_x:
        u_x u_y = a_x n_z sin a + a_x n_x n_y (1 - cos a) + (1 - a_x) n_z cos a sin a
                  + (1 - a_x) n_x n_y (cos a - cos^2 a).
    """
    field = np.asarray(field_uG, dtype=float)
    bx, by, bz = field[..., 0], field[..., 1], field[..., 2]
    mag2 = bx * bx + by * by + bz * bz
    mag = np.sqrt(mag2)
    safe = np.where(mag > 0.0, mag, 1.0)
    nx, ny, nz = bx / safe, by / safe, np.where(mag > 0.0, bz / safe, 1.0)
    y = g_sign * mag / width_uG
    y2 = y * y
    cos1 = 1.0 / (1.0 + y2)
    sin1 = y * cos1
    cos2 = 1.0 / (1.0 + 4.0 * y2)
    cos_sin = y * cos2                       # <sin 2a>/2
    cos_sq = 0.5 * (1.0 + cos2)
    ax = nx * nx
    nxy = nx * ny
    return 2.0 * (ax * nz * sin1 + ax * nxy * (1.0 - cos1) + (1.0 - ax) * nz * cos_sin
                  + (1.0 - ax) * nxy * (cos1 - cos_sq))


def _dispersion_scalar(bx: float, by: float, bz: float, width_uG: float, g_sign: float) -> float:
    """`dispersion` for one field point in plain floats (the engine calls this per point)."""
    mag2 = bx * bx + by * by + bz * bz
    if mag2 == 0.0:
        return 0.0
    mag = math.sqrt(mag2)
    nx, ny, nz = bx / mag, by / mag, bz / mag
    y = g_sign * mag / width_uG
    y2 = y * y
    cos1 = 1.0 / (1.0 + y2)
    cos2 = 1.0 / (1.0 + 4.0 * y2)
    ax = nx * nx
    nxy = nx * ny
    return 2.0 * (ax * nz * y * cos1 + ax * nxy * (1.0 - cos1) + (1.0 - ax) * nz * y * cos2
                  + (1.0 - ax) * nxy * (cos1 - 0.5 * (1.0 + cos2)))


def _solve(b: np.ndarray) -> np.ndarray:
    """x/(1+x^2)-normalised rotation for reduced fields b (..., 3) = sign 2 B / width (reference
    implementation by direct linear solve; `dispersion_pair` is the fast path)."""
    matrix = (np.eye(5) + 0.5j * (b[..., 0, None, None] * _LX + b[..., 1, None, None] * _LY
                                  + b[..., 2, None, None] * _LZ))
    rhs = np.broadcast_to(_M0, matrix.shape[:-1])[..., None]
    m = np.linalg.solve(matrix, rhs)[..., 0]
    return 0.5 * (m[..., 0].imag - m[..., 4].imag)
