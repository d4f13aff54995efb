"""The relaxation budget reproduces the paper's Eqs. 2-9 with the numbers in physics.md."""

import json

import pytest

from kmor.analysis import (adiabatic_phase_rad, format_budget, gamma_adiabatic_hz, gamma_se_00_hz,
                           gamma_se_nmor_hz, mean_speed_m_s, relative_speed_m_s,
                           relaxation_budget, slowdown_00, temperature_for_density_C,
                           vapor_density_cm3, wall_collision_time_s)


def test_speeds_at_47_C():
    assert relative_speed_m_s(47.0) == pytest.approx(590.0, abs=1.0)
    assert mean_speed_m_s(47.0) == pytest.approx(417.0, abs=1.0)


def test_spin_exchange_rates():
    assert gamma_se_nmor_hz(5e9, 47.0) == pytest.approx(0.47, abs=0.005)   # Eq. 2 (paper ~0.4)
    assert slowdown_00(1.5) == pytest.approx(5.0 / 8.0)
    assert gamma_se_00_hz(8e9, 47.0) == pytest.approx(1.88, abs=0.005)     # Eq. 4 (paper 2.2)
    # the paper's 2.2 Hz needs n ~ 9.4e9 cm^-3
    assert gamma_se_00_hz(9.4e9, 47.0) == pytest.approx(2.2, abs=0.02)


def test_adiabatic_wall_collisions():
    t_c = wall_collision_time_s(1.5, 47.0)
    assert t_c == pytest.approx(48e-6, abs=0.5e-6)
    phi = adiabatic_phase_rad(-9.1, t_c)
    assert phi == pytest.approx(2.74e-3, abs=0.01e-3)
    assert gamma_adiabatic_hz(phi, t_c) == pytest.approx(0.050, abs=0.001)


def test_vapor_density_curve_and_its_inverse():
    assert vapor_density_cm3(20.0) == pytest.approx(3.2e8, rel=0.03)
    assert vapor_density_cm3(45.0) == pytest.approx(5.3e9, rel=0.03)
    assert vapor_density_cm3(100.0) == pytest.approx(5.8e11, rel=0.03)   # liquid branch
    assert temperature_for_density_C(8e9) == pytest.approx(49.2, abs=0.1)
    assert vapor_density_cm3(temperature_for_density_C(5e9)) == pytest.approx(5e9, rel=1e-8)


def test_budget_table_with_the_paper_inputs():
    rows = relaxation_budget(measured_nmor_hz=2.0, measured_hf_hz=10.6)
    table = {row.key: row for row in rows}
    assert table["nmor.gamma_se_hz"].value == pytest.approx(0.47, abs=0.005)
    assert table["nmor.gamma_se_hz"].units == "Hz"
    assert "Eq. 2" in table["nmor.gamma_se_hz"].equation
    assert table["hf.gamma_se_hz"].value == pytest.approx(1.88, abs=0.005)
    assert table["hf.t_wall_s"].value == pytest.approx(48e-6, abs=0.5e-6)
    assert table["hf.phase_rad"].value == pytest.approx(2.74e-3, abs=0.01e-3)
    assert table["hf.gamma_adiabatic_hz"].value == pytest.approx(0.050, abs=0.001)
    accounted = table["hf.accounted_hz"].value
    assert accounted == pytest.approx(1.878 + 2.0 + 0.050, abs=0.01)   # "about 4-5 Hz" of 10.6
    assert table["hf.unexplained_hz"].value == pytest.approx(10.6 - accounted)
    assert table["nmor.density_cm3"].source == "input"
    records = json.loads(json.dumps([row.as_dict() for row in rows]))
    assert {"key", "name", "value", "units", "equation", "source"} <= set(records[0])
    assert "0-0 spin exchange" in format_budget(rows)


def test_budget_derives_a_missing_temperature_or_density():
    table = {r.key: r for r in relaxation_budget(hf_temperature_C=None, hf_density_cm3=8e9,
                                                 nmor_temperature_C=45.0, nmor_density_cm3=None)}
    assert table["hf.temperature_C"].source == "derived"
    assert table["hf.temperature_C"].value == pytest.approx(49.2, abs=0.1)
    assert table["nmor.density_cm3"].source == "derived"
    assert table["nmor.density_cm3"].value == pytest.approx(5.3e9, rel=0.03)
    assert "nmor.measured_hz" not in table
    with pytest.raises(ValueError):
        relaxation_budget(nmor_temperature_C=None, nmor_density_cm3=None)
