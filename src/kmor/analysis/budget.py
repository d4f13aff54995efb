"""Relaxation budget of the paper (Eqs. 2-9): which known mechanisms account for the measured
NMOR (Zeeman) and 0-0 (hyperfine) widths.

Units: temperatures in C, densities in cm^-3, cross-sections in cm^2, radius in cm, speeds in m/s,
times in s, rates as gamma/2pi in Hz, phases in rad. The paper's inputs are not self-consistent
(its 5e9 cm^-3 at 47 C is below the saturated-vapor 6.4e9, and its 2.2 Hz of Eq. 5 needs about
9.4e9 cm^-3); the budget therefore takes temperature and density separately, derives a missing
one from the saturated-vapor curve, and reports what the formulas give rather than the paper's
rounded figures.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from scipy.optimize import brentq

from .constants import (ATOMIC_MASS_KG, BOLTZMANN_J_PER_K, K39_MASS_U, K39_NUCLEAR_SPIN,
                        PASCAL_PER_ATM, ZERO_CELSIUS_K)

SIGMA_SE_CM2 = 2e-14
"""Spin-exchange cross-section of K-K collisions used by the paper (cm^2)."""
NMOR_SLOWDOWN = 0.5
"""Nuclear slow-down factor for NMOR (alignment) in an I = 3/2 alkali (paper Eq. 2)."""
_MELTING_K = 336.8


def vapor_density_cm3(temperature_C: float) -> float:
    """Saturated potassium vapor density (cm^-3) at temperature_C (C).

    Alcock, Itkin & Horrigan (1984) as in Tiecke Eq. 1: solid below 336.8 K,
    log10(p/atm) = 4.961 - 4646/T; liquid above, 8.233 - 4693/T - 1.2403 log10(T); n = p/(k_B T).
    """
    t_k = temperature_C + ZERO_CELSIUS_K
    if not t_k > 0.0:
        raise ValueError(f"temperature {temperature_C} C is below absolute zero")
    if t_k < _MELTING_K:
        log_p = 4.961 - 4646.0 / t_k
    else:
        log_p = 8.233 - 4693.0 / t_k - 1.2403 * math.log10(t_k)
    return float(10.0**log_p * PASCAL_PER_ATM / (BOLTZMANN_J_PER_K * t_k) * 1e-6)


def temperature_for_density_C(density_cm3: float) -> float:
    """Temperature (C) at which the saturated vapor reaches density_cm3 (inverse of
    `vapor_density_cm3`, valid from -50 C to 400 C)."""
    lo, hi = -50.0, 400.0
    if not vapor_density_cm3(lo) <= density_cm3 <= vapor_density_cm3(hi):
        raise ValueError(f"density {density_cm3:g} cm^-3 is outside the vapor curve "
                         f"from {lo} to {hi} C")
    return float(brentq(lambda t: math.log(vapor_density_cm3(t) / density_cm3), lo, hi, xtol=1e-9))


def relative_speed_m_s(temperature_C: float, mass_u: float = K39_MASS_U) -> float:
    """Mean relative speed of two identical atoms, sqrt(8 k T / (pi mu)), mu = m/2 (paper Eq. 3)."""
    return _mean_speed(temperature_C, 0.5 * mass_u)


def mean_speed_m_s(temperature_C: float, mass_u: float = K39_MASS_U) -> float:
    """Mean thermal speed of one atom, sqrt(8 k T / (pi m)) (m/s)."""
    return _mean_speed(temperature_C, mass_u)


def _mean_speed(temperature_C: float, mass_u: float) -> float:
    t_k = temperature_C + ZERO_CELSIUS_K
    return math.sqrt(8.0 * BOLTZMANN_J_PER_K * t_k / (math.pi * mass_u * ATOMIC_MASS_KG))


def gamma_se_nmor_hz(density_cm3: float, temperature_C: float,
                     sigma_se_cm2: float = SIGMA_SE_CM2, slowdown: float = NMOR_SLOWDOWN,
                     mass_u: float = K39_MASS_U) -> float:
    """Spin-exchange contribution to the NMOR rate, gamma/2pi = slowdown n sigma v_rel / (2 pi)
    in Hz (paper Eq. 2; 0.47 Hz at 5e9 cm^-3 and 47 C)."""
    rate_s = density_cm3 * 1e6 * sigma_se_cm2 * 1e-4 * relative_speed_m_s(temperature_C, mass_u)
    return slowdown * rate_s / (2.0 * math.pi)


def slowdown_00(nuclear_spin: float = K39_NUCLEAR_SPIN) -> float:
    """Nuclear slow-down factor of the 0-0 transition, R(I) = (6I + 1)/(8I + 4)
    (5/8 for I = 3/2)."""
    return (6.0 * nuclear_spin + 1.0) / (8.0 * nuclear_spin + 4.0)


def gamma_se_00_hz(density_cm3: float, temperature_C: float,
                   sigma_se_cm2: float = SIGMA_SE_CM2, nuclear_spin: float = K39_NUCLEAR_SPIN,
                   mass_u: float = K39_MASS_U) -> float:
    """Spin-exchange width of the 0-0 line, gamma/2pi = R(I) n v_rel sigma / pi in Hz
    (paper Eq. 4; 1.88 Hz at 8e9 cm^-3 and 47 C)."""
    rate_s = density_cm3 * 1e6 * sigma_se_cm2 * 1e-4 * relative_speed_m_s(temperature_C, mass_u)
    return slowdown_00(nuclear_spin) * rate_s / math.pi


def wall_collision_time_s(radius_cm: float, temperature_C: float,
                          mass_u: float = K39_MASS_U) -> float:
    """Mean time between wall collisions in a sphere, t_c = 4R/(3 vbar), in s (48 us for
    R = 1.5 cm at 47 C)."""
    return 4.0 * radius_cm * 1e-2 / (3.0 * mean_speed_m_s(temperature_C, mass_u))


def adiabatic_phase_rad(shift_hz: float, wall_time_s: float) -> float:
    """Mean phase per wall collision from the wall shift, phi = 2 pi |dnu| t_c in rad
    (from dnu = phi/(2 pi t_c); 2.74e-3 for -9.1 Hz and 48 us)."""
    return 2.0 * math.pi * abs(shift_hz) * wall_time_s


def gamma_adiabatic_hz(phase_rad: float, wall_time_s: float) -> float:
    """Width from adiabatic wall collisions, gamma_a/2pi = phi^2/(pi t_c) in Hz (paper Eq. 7;
    0.050 Hz for phi = 2.74e-3 and t_c = 48 us)."""
    return phase_rad * phase_rad / (math.pi * wall_time_s)


@dataclass(frozen=True)
class BudgetRow:
    """One line of the budget: `key` is a stable identifier, `source` is "input" (given),
    "derived" (filled in from the vapor curve) or "computed" (from the equation)."""

    key: str
    name: str
    value: float
    units: str
    equation: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """Plain strings and floats (json.dumps-able)."""
        return dataclasses.asdict(self)


def relaxation_budget(*, nmor_temperature_C: float | None = 47.0,
                      nmor_density_cm3: float | None = 5e9,
                      hf_temperature_C: float | None = 47.0,
                      hf_density_cm3: float | None = 8e9,
                      radius_cm: float = 1.5, sigma_se_cm2: float = SIGMA_SE_CM2,
                      nuclear_spin: float = K39_NUCLEAR_SPIN, mass_u: float = K39_MASS_U,
                      hf_shift_hz: float = -9.1, stem_nmor_hz: float = 1.0,
                      stem_hf_hz: float = 2.0, measured_nmor_hz: float | None = None,
                      measured_hf_hz: float | None = None) -> list[BudgetRow]:
    """The paper's relaxation budget as a table (defaults: the paper's inputs).

    For each measurement (NMOR, 0-0) give its temperature (C) or density (cm^-3) or both; a
    missing one is derived from the saturated-vapor curve. The stem-exchange rates (Hz) are
    inputs (the paper estimates them with large uncertainty from the stem geometry). The wall
    collision time uses the 0-0 temperature. With measured rates (Hz), the table also gives the
    part not accounted for. Returns rows in a fixed order; `[r.as_dict() for r in rows]` is JSON.
    """
    rows: list[BudgetRow] = []
    nmor_t, nmor_n = _conditions("nmor", nmor_temperature_C, nmor_density_cm3, rows)
    v_nmor = relative_speed_m_s(nmor_t, mass_u)
    se_nmor = gamma_se_nmor_hz(nmor_n, nmor_t, sigma_se_cm2, NMOR_SLOWDOWN, mass_u)
    rows += [
        BudgetRow("nmor.v_rel_m_s", "mean relative speed (NMOR conditions)", v_nmor, "m/s",
                  "v_rel = sqrt(8 k T / (pi mu)), mu = m/2 (Eq. 3)", "computed"),
        BudgetRow("nmor.gamma_se_hz", "NMOR spin exchange", se_nmor, "Hz",
                  "gamma/2pi = (1/2) n sigma_SE v_rel / (2 pi) (Eq. 2)", "computed"),
        BudgetRow("nmor.gamma_stem_hz", "NMOR stem exchange", stem_nmor_hz, "Hz",
                  "estimate from stem geometry (Sec. III)", "input"),
    ]
    _totals("nmor", "NMOR", se_nmor + stem_nmor_hz, measured_nmor_hz,
            "Eq. 2 + stem", rows)

    hf_t, hf_n = _conditions("hf", hf_temperature_C, hf_density_cm3, rows)
    v_hf = relative_speed_m_s(hf_t, mass_u)
    se_hf = gamma_se_00_hz(hf_n, hf_t, sigma_se_cm2, nuclear_spin, mass_u)
    t_c = wall_collision_time_s(radius_cm, hf_t, mass_u)
    phi = adiabatic_phase_rad(hf_shift_hz, t_c)
    gamma_a = gamma_adiabatic_hz(phi, t_c)
    rows += [
        BudgetRow("hf.v_rel_m_s", "mean relative speed (0-0 conditions)", v_hf, "m/s",
                  "v_rel = sqrt(8 k T / (pi mu)), mu = m/2 (Eq. 3)", "computed"),
        BudgetRow("hf.slowdown", "nuclear slow-down factor R(I)", slowdown_00(nuclear_spin), "",
                  "R(I) = (6I + 1)/(8I + 4) (Eq. 4)", "computed"),
        BudgetRow("hf.gamma_se_hz", "0-0 spin exchange", se_hf, "Hz",
                  "gamma/2pi = R(I) n v_rel sigma_SE / pi (Eqs. 4-5)", "computed"),
        BudgetRow("hf.gamma_stem_hz", "0-0 stem exchange", stem_hf_hz, "Hz",
                  "estimate, consistent with NMOR (Eq. 6)", "input"),
        BudgetRow("hf.radius_cm", "cell radius", radius_cm, "cm", "", "input"),
        BudgetRow("hf.v_mean_m_s", "mean thermal speed", mean_speed_m_s(hf_t, mass_u), "m/s",
                  "vbar = sqrt(8 k T / (pi m))", "computed"),
        BudgetRow("hf.t_wall_s", "time between wall collisions", t_c, "s",
                  "t_c = 4R/(3 vbar) (Sec. VI)", "computed"),
        BudgetRow("hf.shift_hz", "0-0 wall shift", hf_shift_hz, "Hz", "measured", "input"),
        BudgetRow("hf.phase_rad", "adiabatic phase per wall collision", phi, "rad",
                  "phi = 2 pi |dnu| t_c, from dnu = phi/(2 pi t_c) (Eq. 8)", "computed"),
        BudgetRow("hf.gamma_adiabatic_hz", "adiabatic wall collisions", gamma_a, "Hz",
                  "gamma_a/2pi = phi^2/(pi t_c) (Eqs. 7, 9)", "computed"),
    ]
    _totals("hf", "0-0", se_hf + stem_hf_hz + gamma_a, measured_hf_hz,
            "Eqs. 5 + 6 + 9", rows)
    return rows


def _conditions(prefix: str, temperature_C: float | None, density_cm3: float | None,
                rows: list[BudgetRow]) -> tuple[float, float]:
    """Temperature and density for one measurement, deriving a missing one from the vapor curve."""
    label = "NMOR" if prefix == "nmor" else "0-0"
    if temperature_C is None and density_cm3 is None:
        raise ValueError(f"{label}: give a temperature, a density, or both")
    t_source = n_source = "input"
    if temperature_C is None:
        assert density_cm3 is not None  # both None was refused above
        temperature_C, t_source = temperature_for_density_C(density_cm3), "derived"
    if density_cm3 is None:
        density_cm3, n_source = vapor_density_cm3(temperature_C), "derived"
    if not density_cm3 > 0.0:
        raise ValueError(f"{label}: density must be > 0, got {density_cm3}")
    rows.append(BudgetRow(f"{prefix}.temperature_C", f"cell temperature ({label})", temperature_C,
                          "C", "saturated vapor curve (Alcock 1984)" if t_source == "derived"
                          else "", t_source))
    rows.append(BudgetRow(f"{prefix}.density_cm3", f"K density ({label})", density_cm3, "cm^-3",
                          "saturated vapor curve (Alcock 1984)" if n_source == "derived"
                          else "", n_source))
    return temperature_C, density_cm3


def _totals(prefix: str, label: str, accounted_hz: float, measured_hz: float | None,
            equation: str, rows: list[BudgetRow]) -> None:
    rows.append(BudgetRow(f"{prefix}.accounted_hz", f"{label} width accounted for", accounted_hz,
                          "Hz", equation, "computed"))
    if measured_hz is None:
        return
    rows.append(BudgetRow(f"{prefix}.measured_hz", f"{label} intrinsic width measured",
                          measured_hz, "Hz", "extrapolated to zero power", "input"))
    rows.append(BudgetRow(f"{prefix}.unexplained_hz", f"{label} width not accounted for",
                          measured_hz - accounted_hz, "Hz", "measured - accounted", "computed"))


def format_budget(rows: list[BudgetRow]) -> str:
    """A plain-text table of the budget rows (for reports and the command line)."""
    lines = [f"{'quantity':44s} {'value':>12s}  {'units':6s} equation"]
    for row in rows:
        lines.append(f"{row.name:44s} {row.value:12.4g}  {row.units:6s} {row.equation}")
    return "\n".join(lines)
