"""Potassium vapour: saturated pressure and density, Doppler widths, absorption cross-sections and
optical depth of a Doppler-broadened D line.

Vapour pressure: Alcock, Itkin & Horrigan (1984), as quoted in Tiecke Eq. 1 (solid below the
336.8 K melting point, liquid above). The line profile is a Voigt profile (Doppler Gaussian and
natural Lorentzian) per hyperfine component of 39K and 41K.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import voigt_profile

from kmor.sim.physics.constants import (
    AMU_KG, ATM_PA, C_M_PER_S, KB_J_PER_K, ZERO_C_K, OpticalLine, isotope_abundance, isotope_mass_u,
)

MELTING_POINT_K = 336.8


def vapor_pressure_atm(temperature_K: float) -> float:
    """Saturated potassium vapour pressure in atm (Alcock et al. 1984)."""
    T = temperature_K
    if T < MELTING_POINT_K:
        return 10.0 ** (4.961 - 4646.0 / T)
    return 10.0 ** (8.233 - 4693.0 / T - 1.2403 * math.log10(T))


def number_density_cm3(temperature_C: float) -> float:
    """Saturated-vapour number density of potassium atoms (all isotopes), cm^-3, from n = p/(k_B T)."""
    T = temperature_C + ZERO_C_K
    return vapor_pressure_atm(T) * ATM_PA / (KB_J_PER_K * T) * 1e-6


def doppler_sigma_MHz(temperature_C: float, freq_MHz: float, mass_u: float) -> float:
    """Gaussian standard deviation of the Doppler profile, MHz: nu/c sqrt(k_B T / m)."""
    T = temperature_C + ZERO_C_K
    return freq_MHz / C_M_PER_S * math.sqrt(KB_J_PER_K * T / (mass_u * AMU_KG))


def doppler_fwhm_MHz(temperature_C: float, freq_MHz: float, mass_u: float) -> float:
    """Doppler full width at half maximum, MHz (2 sqrt(2 ln 2) sigma)."""
    return 2.0 * math.sqrt(2.0 * math.log(2.0)) * doppler_sigma_MHz(temperature_C, freq_MHz, mass_u)


def integrated_cross_section_cm2_Hz(line: OpticalLine) -> float:
    """Line-integrated absorption cross-section (all hyperfine components together), cm^2 Hz:
    lambda^2 / (8 pi) (g'/g) A, with A the spontaneous decay rate 2 pi Gamma."""
    lam_cm = line.wavelength_nm * 1e-7
    decay_rate_s = 2.0 * math.pi * line.natural_width_MHz * 1e6
    return lam_cm ** 2 / (8.0 * math.pi) * line.g_ratio * decay_rate_s


def cross_section_cm2(detuning_MHz: np.ndarray | float, line: OpticalLine, temperature_C: float,
                      ground_F: int | None = None) -> np.ndarray:
    """Doppler-broadened absorption cross-section per atom of the natural isotope mixture, cm^2, at a
    detuning from the line's 39K centre of gravity. `ground_F` keeps only components from that ground
    level (per atom of the whole mixture, i.e. not renormalised to the level's population)."""
    d = np.asarray(detuning_MHz, dtype=float)
    total = np.zeros_like(d)
    integ = integrated_cross_section_cm2_Hz(line)
    gamma_hwhm = 0.5 * line.natural_width_MHz
    for comp in line.components:
        if ground_F is not None and comp.F != ground_F:
            continue
        sigma = doppler_sigma_MHz(temperature_C, line.freq_MHz, isotope_mass_u(comp.isotope))
        shape_per_MHz = voigt_profile(d - comp.offset_MHz, sigma, gamma_hwhm)
        total = total + isotope_abundance(comp.isotope) * comp.weight * shape_per_MHz
    return total * integ * 1e-6


def optical_depth(detuning_MHz: np.ndarray | float, line: OpticalLine, temperature_C: float,
                  density_cm3: float, length_cm: float) -> np.ndarray:
    """Optical depth n L sigma(nu) of a vapour column for weak light (no optical pumping)."""
    return density_cm3 * length_cm * cross_section_cm2(detuning_MHz, line, temperature_C)


def peak_optical_depth(line: OpticalLine, temperature_C: float, density_cm3: float,
                       length_cm: float) -> float:
    """Largest optical depth across the line (searched on a 1 MHz grid), dimensionless."""
    grid = np.arange(-1500.0, 1500.0, 1.0)
    return float(optical_depth(grid, line, temperature_C, density_cm3, length_cm).max())
