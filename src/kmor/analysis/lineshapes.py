"""Line shapes of the experiment and their analytic derivatives.

- NMOR near zero field: a dispersive curve a*u/(u**2 + (dB/2)**2) + c0 + c1*B, u = B - B0, whose
  extrema are separated by dB (the paper's DeltaB); several such terms may share B0 (the nested
  F=1/F=2 shape at high power).
- rf-optical double resonance: a Lorentzian A/(1 + (2(f - f0)/fwhm)**2) + c0 + c1*(f - f_mid)
  (A < 0 for a transmission dip).

The Jacobian functions return one column per parameter, in the order documented on each, so the
fitters can hand them to scipy.optimize.least_squares (jac=...).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def dispersive(field_uG: ArrayLike, amplitude: float, center_uG: float, width_uG: float,
               offset: float = 0.0, slope: float = 0.0) -> NDArray[np.float64]:
    """NMOR dispersive curve a*u/(u**2 + (dB/2)**2) + c0 + c1*B, u = B - B0 (field in uG).

    `amplitude` (a) is in signal units x uG; the extrema sit at B0 -+ dB/2 with values
    +-a/dB above the background, so `width_uG` is the peak-to-peak field separation.
    """
    field = np.asarray(field_uG, dtype=float)
    u = field - center_uG
    return amplitude * u / (u * u + 0.25 * width_uG * width_uG) + offset + slope * field


def dispersive_sum(field_uG: ArrayLike, center_uG: float, amplitudes: ArrayLike,
                   widths_uG: ArrayLike, offset: float = 0.0,
                   slope: float = 0.0) -> NDArray[np.float64]:
    """Several dispersive terms sharing the center B0, plus one linear background (field in uG)."""
    field = np.asarray(field_uG, dtype=float)
    u = field - center_uG
    total = offset + slope * field
    for amp, width in zip(np.atleast_1d(amplitudes), np.atleast_1d(widths_uG)):
        total = total + amp * u / (u * u + 0.25 * width * width)
    return total


def dispersive_sum_jacobian(field: NDArray[np.float64], params: NDArray[np.float64]
                            ) -> NDArray[np.float64]:
    """Jacobian of `dispersive_sum` for params [B0, c0, c1, a_1, dB_1, ..., a_K, dB_K]."""
    center = params[0]
    u = field - center
    u2 = u * u
    jac = np.empty((field.size, params.size))
    jac[:, 0] = 0.0
    jac[:, 1] = 1.0
    jac[:, 2] = field
    for k in range(3, params.size, 2):
        amp, width = params[k], params[k + 1]
        w2 = 0.25 * width * width
        inv = 1.0 / (u2 + w2)
        inv2 = inv * inv
        jac[:, 0] -= amp * (w2 - u2) * inv2
        jac[:, k] = u * inv
        jac[:, k + 1] = -0.5 * amp * width * u * inv2
    return jac


def dispersive_sum_model(field: NDArray[np.float64], params: NDArray[np.float64]
                         ) -> NDArray[np.float64]:
    """`dispersive_sum` with the packed parameter vector [B0, c0, c1, a_1, dB_1, ...]."""
    return dispersive_sum(field, params[0], params[3::2], params[4::2], params[1], params[2])


def lorentzian(freq_hz: ArrayLike, amplitude: float, center_hz: float, fwhm_hz: float,
               offset: float = 0.0, slope: float = 0.0,
               f_mid_hz: float = 0.0) -> NDArray[np.float64]:
    """Lorentzian A/(1 + (2(f - f0)/fwhm)**2) + c0 + c1*(f - f_mid), frequencies in Hz.

    A is the height at the center above the background (negative for a dip); c0 is the background
    at f_mid and c1 its slope per Hz.
    """
    freq = np.asarray(freq_hz, dtype=float)
    z = 2.0 * (freq - center_hz) / fwhm_hz
    return amplitude / (1.0 + z * z) + offset + slope * (freq - f_mid_hz)


def lorentzian_sum_model(freq: NDArray[np.float64], params: NDArray[np.float64]
                         ) -> NDArray[np.float64]:
    """Sum of Lorentzians for params [c0, c1, A_1, f0_1, fwhm_1, ...], background c0 + c1*freq."""
    total: NDArray[np.float64] = params[0] + params[1] * freq
    for k in range(2, params.size, 3):
        z = 2.0 * (freq - params[k + 1]) / params[k + 2]
        total = total + params[k] / (1.0 + z * z)
    return total


def lorentzian_sum_jacobian(freq: NDArray[np.float64], params: NDArray[np.float64]
                            ) -> NDArray[np.float64]:
    """Jacobian of `lorentzian_sum_model` for params [c0, c1, A_1, f0_1, fwhm_1, ...]."""
    jac = np.empty((freq.size, params.size))
    jac[:, 0] = 1.0
    jac[:, 1] = freq
    for k in range(2, params.size, 3):
        amp, center, fwhm = params[k], params[k + 1], params[k + 2]
        z = 2.0 * (freq - center) / fwhm
        shape = 1.0 / (1.0 + z * z)
        s2 = shape * shape
        jac[:, k] = shape
        jac[:, k + 1] = 4.0 * amp * z * s2 / fwhm
        jac[:, k + 2] = 2.0 * amp * z * z * s2 / fwhm
    return jac
