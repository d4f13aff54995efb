"""rf-optical double resonance on the 39K ground hyperfine transitions (two-level Bloch model with
optical pumping, physics.md).

Each F=1, m1 <-> F=2, m2 line changes the transmission by
    dT/T = -C Omega^2 (G2/G1) / (delta^2 + G2^2 + Omega^2 G2/G1),   delta = 2 pi (nu - nu_c),
a pure Lorentzian (Dicke regime: the 65 cm rf wavelength dwarfs the cell) of FWHM
(1/pi) sqrt(G2^2 + Omega^2 G2/G1) Hz. G2 = pi (intrinsic FWHM + light broadening * P),
G1 = ratio * G2, Omega^2 = (2 pi k)^2 P_rf(mW) * strength. Centres sit at the Breit-Rabi positions for
the field in the cell, shifted by the wall shift (and an optional light shift). The contrast C grows
with the pumped population difference, C_max P/(P + P_pump), times a detuning factor.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from kmor.sim.physics import breit_rabi, fm, vapor
from kmor.sim.physics.constants import LINES
from kmor.sim.physics.params import RfParams


def rf_power_mW(amplitude_dBm: float) -> float:
    """Generator power in mW from dBm."""
    return 10.0 ** (amplitude_dBm / 10.0)


def coherence_rate_s(params: RfParams, light_power_uW: float) -> float:
    """G2 in s^-1 (half width of the unsaturated line in angular units)."""
    return math.pi * (params.intrinsic_fwhm_hz + params.light_broadening_hz_per_uW * light_power_uW)


def rabi_sq_s2(params: RfParams, amplitude_dBm: float) -> float:
    """Omega_R^2 of the 0-0 line, rad^2/s^2."""
    return (2.0 * math.pi * params.rabi_hz_per_sqrt_mW) ** 2 * rf_power_mW(amplitude_dBm)


def fwhm_hz(params: RfParams, light_power_uW: float, amplitude_dBm: float, strength: float = 1.0) -> float:
    """FWHM (Hz) of a line with relative strength `strength` (the 0-0 line has 1)."""
    g2 = coherence_rate_s(params, light_power_uW)
    sat = rabi_sq_s2(params, amplitude_dBm) * strength / params.population_to_coherence_rate_ratio
    return math.sqrt(g2 * g2 + sat) / math.pi


def zero_zero_centre_hz(params: RfParams, light_power_uW: float, field_G: float) -> float:
    """Centre of the 0-0 line: nu_ref + wall shift + light shift + second-order Zeeman shift."""
    offset = _lines(field_G, params.nu_ref_hz)[0][4]
    return params.nu_ref_hz + params.wall_shift_hz + params.light_shift_hz_per_uW * light_power_uW + offset


@lru_cache(maxsize=256)
def _lines(field_G: float, nu_hfs_hz: float) -> tuple[tuple[float, ...], tuple[float, ...], tuple[bool, ...]]:
    """(offsets Hz, strengths, is_pi) of the nine rf lines at |B| = field_G; the 0-0 line is index 4."""
    lines = breit_rabi.rf_transitions(field_G, nu_hfs_hz)
    return (tuple(t.offset_hz for t in lines), tuple(t.strength for t in lines),
            tuple(t.kind == "pi" for t in lines))


def transmission_change(params: RfParams, rf_freq_hz: float, amplitude_dBm: float, light_power_uW: float,
                        field_G: float, contrast: float) -> float:
    """Fractional transmission change dT/T (<= 0) with the rf on, all nine lines summed."""
    offsets, strengths, is_pi = _lines(field_G, params.nu_ref_hz)
    g2 = coherence_rate_s(params, light_power_uW)
    ratio = 1.0 / params.population_to_coherence_rate_ratio          # G2 / G1
    omega_sq = rabi_sq_s2(params, amplitude_dBm)
    base = params.nu_ref_hz + params.wall_shift_hz + params.light_shift_hz_per_uW * light_power_uW
    total = 0.0
    for off, strength, pi_line in zip(offsets, strengths, is_pi):
        sat = omega_sq * strength * (1.0 if pi_line else params.sigma_weight) * ratio
        if sat == 0.0:
            continue
        delta = 2.0 * math.pi * (rf_freq_hz - base - off)
        total -= contrast * sat / (delta * delta + g2 * g2 + sat)
    return total


def pumping_factor(params: RfParams, light_power_uW: float) -> float:
    """Pumped population difference relative to its maximum, P / (P + P_pump)."""
    p = max(light_power_uW, 0.0)
    return p / (p + params.pumping_power_uW)


@lru_cache(maxsize=16)
def detuning_table(line_name: str, temperature_C: float, modulation_amplitude_MHz: float) -> fm.Table:
    """Detuning factor of the contrast, normalised to 1 at its largest value.

    Light pumps atoms out of the level it absorbs from and probes the population difference it
    created: both go with the difference of the cycle-averaged absorptions from F=2 and from F=1, so
    the factor is that difference squared. F=2 holds 5/8 of the atoms, so the side below the line
    (largest ~370 MHz below the centre of gravity with 400 MHz FM) beats the side above it.
    """
    line = LINES[line_name]

    def difference(d: np.ndarray) -> np.ndarray:
        return (vapor.cross_section_cm2(d, line, temperature_C, ground_F=2)
                - vapor.cross_section_cm2(d, line, temperature_C, ground_F=1))
    (s0,) = fm.harmonics_on_grid(difference, modulation_amplitude_MHz, (0,))
    h = (0.5 * s0) ** 2
    return fm.Table(h / h.max())
