"""Constants of nature and potassium atomic data used by the simulated lab.

Sources: CODATA 2018; Tiecke, "Properties of Potassium" v1.02 (2011); Arimondo, Inguscio & Violino,
RMP 49, 31 (1977). Frequencies in MHz unless the name says otherwise. Hyperfine component offsets are
derived here from the A and B coefficients rather than typed in, so the 39K and 41K data stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

H_J_S = 6.62607015e-34
HBAR_J_S = H_J_S / (2.0 * 3.141592653589793)
KB_J_PER_K = 1.380649e-23
C_M_PER_S = 299_792_458.0
AMU_KG = 1.66053906660e-27
E_CHARGE_C = 1.602176634e-19
ATM_PA = 101_325.0
ZERO_C_K = 273.15

MU_B_HZ_PER_G = 1.39962449e6
"""Bohr magneton over Planck's constant, Hz per gauss."""
MU_B_HZ_PER_UG = MU_B_HZ_PER_G * 1e-6

G_J_GROUND = 2.00229421
G_I_39K = -0.00014193489
NUCLEAR_SPIN_K = 1.5

NU_HFS_39K_HZ = 461_719_720.2
NU_HFS_41K_HZ = 254_013_872.0

MASS_39K_U = 38.96370668
MASS_41K_U = 40.96182576
ABUNDANCE_39K = 0.932581
ABUNDANCE_41K = 0.067302


def g_factor_F(F: float, I: float = NUCLEAR_SPIN_K, J: float = 0.5, S: float = 0.5, L: float = 0.0,
               g_I: float = G_I_39K) -> float:
    """Hyperfine Lande factor g_F (in units of mu_B) including the small nuclear term."""
    g_J = G_J_GROUND
    ff, ii, jj = F * (F + 1), I * (I + 1), J * (J + 1)
    return g_J * (ff - ii + jj) / (2 * ff) + g_I * (ff + ii - jj) / (2 * ff)


G_F2 = g_factor_F(2.0)   # +0.500467
G_F1 = g_factor_F(1.0)   # -0.500751
LARMOR_F2_HZ_PER_UG = G_F2 * MU_B_HZ_PER_UG   # +0.70047 Hz/uG
LARMOR_F1_HZ_PER_UG = G_F1 * MU_B_HZ_PER_UG   # -0.70086 Hz/uG


def hyperfine_offset_MHz(F: float, I: float, J: float, A_MHz: float, B_MHz: float = 0.0) -> float:
    """Energy of hyperfine level F relative to the fine-structure level, MHz (Casimir formula)."""
    K = F * (F + 1) - I * (I + 1) - J * (J + 1)
    shift = 0.5 * A_MHz * K
    if B_MHz and J > 0.5 and I > 0.5:
        shift += B_MHz * (1.5 * K * (K + 1) - 2 * I * (I + 1) * J * (J + 1)) / (
            4 * I * (2 * I - 1) * J * (2 * J - 1))
    return shift


@dataclass(frozen=True)
class Component:
    """One hyperfine component of an optical line: ground F, excited F', frequency offset from the
    39K centre of gravity of the line (MHz, isotope shift included) and relative strength (the
    strengths of one isotope sum to 1; multiply by the abundance for a natural mixture)."""

    isotope: int
    F: int
    Fp: int
    offset_MHz: float
    weight: float


@dataclass(frozen=True)
class OpticalLine:
    """A potassium D line: 39K centre of gravity, wavelength, natural width, degeneracy ratio and its
    hyperfine components for 39K and 41K."""

    name: str
    freq_MHz: float
    wavelength_nm: float
    natural_width_MHz: float
    g_ratio: float          # (2J'+1)/(2J+1)
    components: tuple[Component, ...]


# Relative hyperfine strengths for I = 3/2 (fraction of the line strength; each isotope sums to 1).
_D1_WEIGHTS = {(2, 1): 5 / 16, (2, 2): 5 / 16, (1, 1): 1 / 16, (1, 2): 5 / 16}
_D2_WEIGHTS = {(2, 3): 14 / 32, (2, 2): 5 / 32, (2, 1): 1 / 32,
               (1, 2): 5 / 32, (1, 1): 5 / 32, (1, 0): 2 / 32}

_GROUND_A_MHZ = {39: 230.8598601, 41: 127.0069352}
_P12_A_MHZ = {39: 27.775, 41: 15.245}
_P32_AB_MHZ = {39: (6.093, 2.786), 41: (3.363, 3.351)}
_ISOTOPE_SHIFT_MHZ = {"D1": {39: 0.0, 41: 235.5}, "D2": {39: 0.0, 41: 236.2}}


def _components(line: str) -> tuple[Component, ...]:
    out = []
    for iso in (39, 41):
        ground = {F: hyperfine_offset_MHz(F, 1.5, 0.5, _GROUND_A_MHZ[iso]) for F in (1, 2)}
        if line == "D1":
            weights = _D1_WEIGHTS
            excited = {F: hyperfine_offset_MHz(F, 1.5, 0.5, _P12_A_MHZ[iso]) for F in (1, 2)}
        else:
            weights = _D2_WEIGHTS
            A, B = _P32_AB_MHZ[iso]
            excited = {F: hyperfine_offset_MHz(F, 1.5, 1.5, A, B) for F in (0, 1, 2, 3)}
        for (F, Fp), w in weights.items():
            off = excited[Fp] - ground[F] + _ISOTOPE_SHIFT_MHZ[line][iso]
            out.append(Component(iso, F, Fp, off, w))
    return tuple(out)


D1 = OpticalLine("D1", 389_286_058.716, 770.108385, 5.956, 1.0, _components("D1"))
D2 = OpticalLine("D2", 391_016_170.03, 766.700922, 6.035, 2.0, _components("D2"))
LINES = {"D1": D1, "D2": D2}


def isotope_mass_u(isotope: int) -> float:
    """Atomic mass of 39K or 41K in unified atomic mass units."""
    return MASS_39K_U if isotope == 39 else MASS_41K_U


def isotope_abundance(isotope: int) -> float:
    """Natural abundance (fraction) of 39K or 41K."""
    return ABUNDANCE_39K if isotope == 39 else ABUNDANCE_41K
