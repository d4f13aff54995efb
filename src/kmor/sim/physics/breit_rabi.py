"""Ground-state Zeeman sublevels of 39K (Breit-Rabi formula, exact for J = 1/2) and the list of
magnetic-dipole rf transitions F=1 <-> F=2 with their relative strengths at a given field.

The strengths are the squared matrix elements of the electron spin (the nuclear moment is 2000 times
weaker) between the low-field |F, m> states: pi lines (Delta m = 0) are driven by the rf field
component along the static field, sigma lines (Delta m = +-1) by the transverse component. At
1.4 mG the states are the low-field ones to better than 1e-5, so low-field states are used for the
strengths while the frequencies are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kmor.sim.physics.constants import G_I_39K, G_J_GROUND, MU_B_HZ_PER_G, NU_HFS_39K_HZ, NUCLEAR_SPIN_K


def sublevel_energy_hz(F: int, m: int, field_G: float, nu_hfs_hz: float = NU_HFS_39K_HZ,
                       I: float = NUCLEAR_SPIN_K) -> float:
    """Energy of |F, m> over h, Hz, relative to the centre of gravity of the ground state.

    Breit-Rabi: -nu/(2(2I+1)) + g_I mu_B m B +- (nu/2) sqrt(1 + 4 m x/(2I+1) + x^2), with the upper
    sign for F = I + 1/2; for |m| = I + 1/2 the root is (1 +- x) exactly, which keeps the sign right
    at any field.
    """
    x = (G_J_GROUND - G_I_39K) * MU_B_HZ_PER_G * field_G / nu_hfs_hz
    base = -nu_hfs_hz / (2 * (2 * I + 1)) + G_I_39K * MU_B_HZ_PER_G * m * field_G
    sign = 1.0 if F == I + 0.5 else -1.0
    if abs(m) == I + 0.5:
        return base + sign * 0.5 * nu_hfs_hz * (1.0 + math.copysign(1.0, m) * x)
    return base + sign * 0.5 * nu_hfs_hz * math.sqrt(1.0 + 4.0 * m * x / (2 * I + 1) + x * x)


def clock_shift_hz_per_G2(nu_hfs_hz: float = NU_HFS_39K_HZ) -> float:
    """Second-order Zeeman coefficient of the 0-0 line, Hz/G^2 ((g_J - g_I) mu_B/h)^2 / (2 nu_hfs)."""
    return ((G_J_GROUND - G_I_39K) * MU_B_HZ_PER_G) ** 2 / (2.0 * nu_hfs_hz)


@dataclass(frozen=True)
class RfTransition:
    """One F=1, m1 -> F=2, m2 rf line: frequency offset from nu_hfs (Hz), relative strength (the 0-0
    line has 1) and kind ("pi" or "sigma")."""

    m1: int
    m2: int
    offset_hz: float
    strength: float
    kind: str


def _low_field_state(F: int, m: int, I: float = NUCLEAR_SPIN_K) -> dict[tuple[float, float], float]:
    """|F, m> as {(m_I, m_S): amplitude} for J = 1/2 (Condon-Shortley phases)."""
    out = {}
    if F == I + 0.5:
        a_up = math.sqrt((I + m + 0.5) / (2 * I + 1))
        a_dn = math.sqrt((I - m + 0.5) / (2 * I + 1))
    else:
        a_up = -math.sqrt((I - m + 0.5) / (2 * I + 1))
        a_dn = math.sqrt((I + m + 0.5) / (2 * I + 1))
    if abs(m - 0.5) <= I:
        out[(m - 0.5, 0.5)] = a_up
    if abs(m + 0.5) <= I:
        out[(m + 0.5, -0.5)] = a_dn
    return out


def _spin_matrix_element(F2: int, m2: int, F1: int, m1: int) -> float:
    """<F2 m2| S_q |F1 m1> for the spherical component q = m2 - m1 (magnitudes: S_0 = S_z,
    |S_+-1| = S_+- / sqrt 2; the phase is irrelevant since only squares are used)."""
    bra, ket = _low_field_state(F2, m2), _low_field_state(F1, m1)
    total = 0.0
    for (mi, ms), amp in ket.items():
        if m2 == m1:
            total += bra.get((mi, ms), 0.0) * amp * ms
        elif m2 == m1 + 1 and ms == -0.5:
            total += bra.get((mi, 0.5), 0.0) * amp / math.sqrt(2.0)
        elif m2 == m1 - 1 and ms == 0.5:
            total += bra.get((mi, -0.5), 0.0) * amp / math.sqrt(2.0)
    return total


def rf_transitions(field_G: float, nu_hfs_hz: float = NU_HFS_39K_HZ) -> list[RfTransition]:
    """All F=1 -> F=2 magnetic-dipole lines at `field_G`, sorted by frequency.

    Strengths are |<2 m2|S_q|1 m1>|^2 for the spherical components q = m2 - m1, relative to the 0-0
    line (which has 4/16): pi lines 3/4, 1, 3/4 and sigma lines 6, 1, 3, 3, 1, 6 in units of 1/4,
    i.e. physics.md's 3:4:3 and 6:1:3:3:1:6 (/16). How much of the rf field is along or across B is
    a property of the loop geometry and is applied by the caller.
    """
    ref = _spin_matrix_element(2, 0, 1, 0) ** 2
    lines = []
    for m1 in (-1, 0, 1):
        for m2 in (m1 - 1, m1, m1 + 1):
            if abs(m2) > 2:
                continue
            amp = _spin_matrix_element(2, m2, 1, m1)
            if amp == 0.0:
                continue
            offset = (sublevel_energy_hz(2, m2, field_G, nu_hfs_hz)
                      - sublevel_energy_hz(1, m1, field_G, nu_hfs_hz) - nu_hfs_hz)
            lines.append(RfTransition(m1, m2, offset, amp * amp / ref, "pi" if m1 == m2 else "sigma"))
    return sorted(lines, key=lambda t: t.offset_hz)
