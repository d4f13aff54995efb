"""Physical constants the analysis needs, kept here so analysis imports nothing else of kmor.

Sources: CODATA 2018 (exact SI constants, mu_B/h); Tiecke, "Properties of Potassium" v1.02 (2011)
for 39K (nuclear spin, g-factors, mass, hyperfine splitting). The paper used 461,719,720.1 Hz as its
hyperfine reference, so that value is the reference here too (its shift comes out as -9.1 Hz).
"""

from __future__ import annotations

BOLTZMANN_J_PER_K: float = 1.380649e-23
ATOMIC_MASS_KG: float = 1.66053906660e-27
ZERO_CELSIUS_K: float = 273.15
PASCAL_PER_ATM: float = 101325.0

BOHR_MAGNETON_HZ_PER_UG: float = 1.39962449361
"""mu_B/h in Hz per microgauss (13.996 244 936 1 GHz/T; 1 uG = 1e-10 T)."""

K39_MASS_U: float = 38.96370668
K39_NUCLEAR_SPIN: float = 1.5
K39_G_J: float = 2.00229421
K39_G_I: float = -0.00014193489
"""Nuclear g-factor in units of mu_B (sign as in Tiecke)."""
K39_HFS_REFERENCE_HZ: float = 461_719_720.1
"""Ground hyperfine reference frequency the paper used (Hz)."""


def g_factor_hyperfine(f: float, i: float = K39_NUCLEAR_SPIN, j: float = 0.5,
                       g_j: float = K39_G_J, g_i: float = K39_G_I) -> float:
    """Hyperfine Lande factor g_F of level F (dimensionless, sign included), from g_J and g_I."""
    ff, ii, jj = f * (f + 1.0), i * (i + 1.0), j * (j + 1.0)
    return g_j * (ff - ii + jj) / (2.0 * ff) + g_i * (ff + ii - jj) / (2.0 * ff)


K39_G_F2: float = g_factor_hyperfine(2.0)
"""g_F for 39K F=2: +0.500467."""
K39_G_F1: float = g_factor_hyperfine(1.0)
"""g_F for 39K F=1: -0.500751 (precesses in the opposite sense to F=2)."""

LARMOR_F2_HZ_PER_UG: float = abs(K39_G_F2) * BOHR_MAGNETON_HZ_PER_UG
"""|g_F| mu_B/h for 39K F=2: 0.70047 Hz per uG, converts an NMOR width DeltaB to gamma/2pi."""
