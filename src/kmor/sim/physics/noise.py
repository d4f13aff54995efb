"""Noise densities of the detectors (one-sided, per root hertz): photon shot noise of a polarimeter,
shot noise of a photodiode current, and quadrature sums."""

from __future__ import annotations

import math

from kmor.sim.physics.constants import C_M_PER_S, E_CHARGE_C, H_J_S


def photon_energy_J(wavelength_nm: float) -> float:
    """h nu of a photon, J."""
    return H_J_S * C_M_PER_S / (wavelength_nm * 1e-9)


def polarimeter_shot_noise_rad_per_rtHz(power_W: float, wavelength_nm: float, quantum_efficiency: float) -> float:
    """Shot-noise-limited rotation noise (1/2) sqrt(h nu / (eta P)), rad/sqrt(Hz); inf at zero power."""
    if power_W <= 0.0:
        return math.inf
    return 0.5 * math.sqrt(photon_energy_J(wavelength_nm) / (quantum_efficiency * power_W))


def photocurrent_A(power_W: float, wavelength_nm: float, quantum_efficiency: float) -> float:
    """Photodiode current eta e P / (h nu), A."""
    return quantum_efficiency * E_CHARGE_C * power_W / photon_energy_J(wavelength_nm)


def shot_noise_A_per_rtHz(current_A: float) -> float:
    """Shot noise of a DC current, sqrt(2 e I), A/sqrt(Hz)."""
    return math.sqrt(2.0 * E_CHARGE_C * max(current_A, 0.0))


def quadrature_sum(*terms: float) -> float:
    """sqrt of the sum of squares of independent noise terms."""
    return math.sqrt(sum(t * t for t in terms))
