"""Keithley 6221 current source emulator."""

import pytest

from kmor.sim.instruments import Keithley6221Emulator


@pytest.fixture
def src():
    return Keithley6221Emulator()


def first_error(src):
    return src.handle(b"SYST:ERR?")


def test_identity_keeps_its_trailing_spaces(src):
    assert src.handle(b"*IDN?") == b"KEITHLEY INSTRUMENTS INC.,MODEL 6221,4559777,D04  /700x "


def test_current_flows_only_with_output_on(src):
    src.handle(b"SOUR:CURR 0.01")
    assert float(src.handle(b"SOUR:CURR?")) == pytest.approx(0.01)
    assert src.output_current_A == 0.0
    src.handle(b"OUTP 1")
    assert src.handle(b"OUTP?") == b"1"
    assert src.output_current_A == pytest.approx(0.01)
    src.handle(b"SOUR:CLE")
    assert src.handle(b"OUTP?") == b"0" and src.output_current_A == 0.0
    assert first_error(src) == b'0,"No error"'


@pytest.mark.parametrize("command, amps", [(b"CURR 5 MA", 0.005), (b"SOURce:CURRent:LEVel -0.105", -0.105),
                                           (b"sour1:curr 2E-6", 2e-6)])
def test_current_forms(src, command, amps):
    src.handle(command)
    assert src.current_setpoint_A == pytest.approx(amps)
    assert first_error(src) == b'0,"No error"'


def test_current_limit_is_105_mA(src):
    src.handle(b"SOUR:CURR 0.02")
    src.handle(b"SOUR:CURR 0.106")
    assert src.current_setpoint_A == pytest.approx(0.02)
    assert first_error(src) == b'-222,"Data out of range"'


def test_compliance_limits_current_into_a_load():
    src = Keithley6221Emulator(load_ohm=100.0)
    src.handle(b"SOUR:CURR:COMP 5;:SOUR:CURR 0.1;:OUTP 1")
    assert float(src.handle(b"SOUR:CURR:COMP?")) == 5.0
    assert src.output_current_A == pytest.approx(0.05)
    assert src.in_compliance


def test_fixed_range_rejects_larger_currents(src):
    src.handle(b"SOUR:CURR 0.001")
    src.handle(b"SOUR:CURR:RANG 2e-3")
    assert src.handle(b"SOUR:CURR:RANG:AUTO?") == b"0"
    src.handle(b"SOUR:CURR 0.01")
    assert src.current_setpoint_A == pytest.approx(0.001)
    assert first_error(src).startswith(b"-222")
    src.handle(b"SOUR:CURR:RANG:AUTO 1;:SOUR:CURR 0.01")
    assert src.current_setpoint_A == pytest.approx(0.01)
    assert float(src.handle(b"SOUR:CURR:RANG?")) == pytest.approx(0.02)


def test_range_below_the_present_current_is_a_settings_conflict(src):
    src.handle(b"SOUR:CURR 0.01")
    src.handle(b"SOUR:CURR:RANG 2e-3")
    assert first_error(src).startswith(b"-221")


def test_reset_turns_output_off_and_zeroes_current(src):
    src.handle(b"SOUR:CURR 0.05;:OUTP ON")
    src.handle(b"*RST")
    assert src.output_current_A == 0.0 and src.current_setpoint_A == 0.0


def test_unknown_command_is_queued(src):
    assert src.handle(b"SOUR:VOLT 1") is None
    assert first_error(src) == b'-113,"Undefined header"'
