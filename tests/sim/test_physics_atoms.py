"""Atomic and vapour data of the simulated potassium lab against the numbers in physics.md."""

import math

import numpy as np
import pytest

from kmor.sim.physics import breit_rabi, vapor
from kmor.sim.physics.constants import (
    D1, D2, G_F1, G_F2, LARMOR_F1_HZ_PER_UG, LARMOR_F2_HZ_PER_UG, MASS_39K_U,
)


@pytest.mark.parametrize("temperature_C, expected_cm3", [(20.0, 3.2e8), (45.0, 5.3e9), (47.0, 6.4e9),
                                                         (49.2, 8.0e9), (100.0, 5.8e11)])
def test_alcock_density_matches_reference_values(temperature_C, expected_cm3):
    assert vapor.number_density_cm3(temperature_C) == pytest.approx(expected_cm3, rel=0.015)


def test_vapor_pressure_is_continuous_at_the_melting_point():
    below = vapor.vapor_pressure_atm(vapor.MELTING_POINT_K - 1e-6)
    above = vapor.vapor_pressure_atm(vapor.MELTING_POINT_K + 1e-6)
    assert above == pytest.approx(below, rel=0.02)


def test_doppler_width_on_d1_at_47_C():
    assert vapor.doppler_fwhm_MHz(47.0, D1.freq_MHz, MASS_39K_U) == pytest.approx(799.0, abs=1.0)
    assert vapor.doppler_sigma_MHz(47.0, D1.freq_MHz, MASS_39K_U) == pytest.approx(339.0, abs=1.0)


def test_coated_cell_absorbs_about_ten_percent_on_d1_and_twenty_on_d2():
    od_d1 = vapor.peak_optical_depth(D1, 47.0, 5e9, 3.0)
    od_d2 = vapor.peak_optical_depth(D2, 47.0, 5e9, 3.0)
    assert od_d1 == pytest.approx(0.12, abs=0.01)
    assert 1 - math.exp(-od_d1) == pytest.approx(0.10, abs=0.02)
    assert 1 - math.exp(-od_d2) == pytest.approx(0.20, abs=0.03)


def test_d1_hyperfine_components_relative_to_centre_of_gravity():
    k39 = {(c.F, c.Fp): (c.offset_MHz, c.weight) for c in D1.components if c.isotope == 39}
    assert k39[(2, 1)] == pytest.approx((-207.9, 5 / 16), abs=0.1)
    assert k39[(2, 2)] == pytest.approx((-152.3, 5 / 16), abs=0.1)
    assert k39[(1, 1)] == pytest.approx((253.9, 1 / 16), abs=0.1)
    assert k39[(1, 2)] == pytest.approx((309.4, 5 / 16), abs=0.1)
    centroid = sum(off * w for off, w in k39.values())
    assert centroid == pytest.approx(0.0, abs=0.05)


def test_d2_excited_levels_match_tiecke():
    ground_f2 = 173.14
    excited = {c.Fp: c.offset_MHz + ground_f2 for c in D2.components if c.isotope == 39 and c.F == 2}
    assert excited[3] == pytest.approx(14.41, abs=0.02)
    assert excited[2] == pytest.approx(-6.66, abs=0.02)
    assert excited[1] == pytest.approx(-16.06, abs=0.02)


def test_larmor_frequencies_have_opposite_signs():
    assert G_F2 == pytest.approx(0.500467, abs=2e-6)
    assert G_F1 == pytest.approx(-0.500751, abs=2e-6)
    assert LARMOR_F2_HZ_PER_UG == pytest.approx(0.70047, abs=1e-5)
    assert LARMOR_F1_HZ_PER_UG == pytest.approx(-0.70086, abs=1e-5)


PHYSICS_MD_LINES_AT_1P4_MG = [  # (m1, m2, offset Hz, strength in 1/16 units)
    (-1, -2, -2942.51, 6), (-1, -1, -1961.85, 3), (-1, 0, -981.19, 1), (0, -1, -980.64, 3),
    (0, 0, 0.017, 4), (0, 1, 980.67, 3), (1, 0, 981.22, 1), (1, 1, 1961.87, 3), (1, 2, 2942.52, 6),
]


def test_breit_rabi_lines_at_1p4_mG_match_physics_md_to_10_mHz():
    lines = breit_rabi.rf_transitions(1.4e-3)
    assert [(t.m1, t.m2) for t in lines] == [(m1, m2) for m1, m2, _, _ in PHYSICS_MD_LINES_AT_1P4_MG]
    for line, (_, _, offset, _) in zip(lines, PHYSICS_MD_LINES_AT_1P4_MG):
        assert line.offset_hz == pytest.approx(offset, abs=0.01)


def test_breit_rabi_strengths_pi_3_4_3_and_sigma_6_1_3_3_1_6():
    lines = breit_rabi.rf_transitions(1.4e-3)
    for line, (_, _, _, sixteenths) in zip(lines, PHYSICS_MD_LINES_AT_1P4_MG):
        assert line.strength * 4 == pytest.approx(sixteenths, rel=1e-9)
        assert line.kind == ("pi" if line.m1 == line.m2 else "sigma")


def test_clock_shift_coefficient_and_stretched_state_is_linear():
    assert breit_rabi.clock_shift_hz_per_G2() == pytest.approx(8506.0, abs=1.0)
    e = [breit_rabi.sublevel_energy_hz(2, 2, b) for b in (0.0, 1e-3, 2e-3)]
    assert e[2] - e[1] == pytest.approx(e[1] - e[0], rel=1e-9)


def test_zeeman_lines_collapse_onto_hfs_at_zero_field():
    offsets = np.array([t.offset_hz for t in breit_rabi.rf_transitions(0.0)])
    assert np.abs(offsets).max() < 1e-6
