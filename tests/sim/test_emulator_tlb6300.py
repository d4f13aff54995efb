"""New Focus TLB-6300 emulator: OK / error replies, SENS reads, wavelength motor on the sim clock."""

import dataclasses

import numpy as np
import pytest

from kmor.config.files import load_config
from kmor.sim.clock import SimClock
from kmor.sim.instruments import TLB6300Emulator
from kmor.sim.lab import SimLab
from kmor.sim.physics.laser import Laser
from kmor.sim.physics.params import LaserParams


def physics_power_factor(**params):
    return Laser(LaserParams(**params), np.random.default_rng(0)).power_factor


@pytest.fixture
def laser():
    return TLB6300Emulator(SimClock(), power_factor=physics_power_factor())


def test_set_commands_reply_ok_and_change_state(laser):
    assert laser.handle(b"OUTP 1") == b"OK"
    assert laser.output_on and laser.handle(b"OUTP?") == b"1"
    assert laser.handle(b"CURR 55.5") == b"OK" and laser.current_mA == 55.5
    assert laser.handle(b"VOLT 42.5") == b"OK" and laser.piezo_pct == 42.5
    assert laser.handle(b"OUTP 0") == b"OK" and laser.handle(b"OUTP?") == b"0"


@pytest.mark.parametrize("command, reply", [
    (b"WAVE 800", b"Out of Range"), (b"VOLT 101", b"Out of Range"), (b"CURR 150", b"Out of Range"),
    (b"CURR -1", b"Out of Range"), (b"CURR abc", b"Out of Range"), (b"FOO 1", b"Unknown Command"),
    (b"SENS:NOPE", b"Unknown Command"), (b"OUTP 2", b"Out of Range"),
])
def test_errors_reply_as_text_and_are_queued(laser, command, reply):
    assert laser.handle(command) == reply
    assert laser.handle(b"ERRSTR?").upper().endswith(reply.upper())
    assert laser.handle(b"ERRSTR?") == b"0,NO ERROR"


def test_bad_values_leave_settings_alone(laser):
    laser.handle(b"CURR 40")
    laser.handle(b"CURR 400")
    assert laser.current_setpoint_mA == 40.0


@pytest.mark.parametrize("read", [b"SENS:WAVE", b"SENS:WAVE?", b":SENSe:WAVElength", b"sens:wave"])
def test_sense_reads_work_with_or_without_question_mark(laser, read):
    laser.handle(b"WAVE 770.108")
    laser.clock.advance(10.0)
    assert float(laser.handle(read)) == pytest.approx(770.108)


def test_wavelength_motor_moves_on_the_clock_and_opc_reports_busy(laser):
    start = float(laser.handle(b"SENS:WAVE"))
    assert laser.handle(b"WAVE 770.108") == b"OK"
    assert laser.handle(b"*OPC?") == b"0"
    laser.clock.advance(0.2)
    middle = float(laser.handle(b"SENS:WAVE"))
    assert 770.108 < middle < start
    assert float(laser.handle(b"WAVE?")) == pytest.approx(770.108)
    laser.clock.advance(5.0)
    assert laser.handle(b"*OPC?") == b"1"
    assert laser.wavelength_nm == pytest.approx(770.108)
    assert laser.track_on
    assert laser.handle(b"OUTP:TRAC OFF") == b"OK" and not laser.track_on


def test_wavelength_limits_by_query(laser):
    assert float(laser.handle(b"WAVE? MIN")) == 765.0
    assert float(laser.handle(b"wave ? max")) == 781.0


def test_diode_current_and_front_power_follow_output_and_threshold(laser):
    laser.handle(b"CURR 60")
    assert float(laser.handle(b"SENS:CURR:DIOD")) == 0.0
    assert float(laser.handle(b"SENS:POW:FRON")) == 0.0
    laser.handle(b"OUTP 1")
    assert float(laser.handle(b"SENS:CURR:DIOD")) == 60.0
    # physics defaults: threshold 20 mA, nominal 50 mA; 7.5 mW at nominal
    assert float(laser.handle(b"SENS:POW:FRON")) == pytest.approx(7.5 * (60 - 20) / (50 - 20), abs=0.01)
    laser.handle(b"CURR 20")
    assert float(laser.handle(b"SENS:POW:FRON")) == 0.0
    assert float(laser.handle(b"SENS:VOLT:PIEZ")) == laser.piezo_pct


@pytest.mark.parametrize("threshold_mA", [20.0, 35.0])
def test_lasing_threshold_is_the_physics_one_in_the_lab(threshold_mA):
    """The controller's front power and the light the cell sees start at one threshold, the
    `[sim.physics.laser] threshold_current_mA` of the config."""
    cfg = load_config().config
    laser_params = dataclasses.replace(cfg.sim.physics.laser, threshold_current_mA=threshold_mA)
    physics = dataclasses.replace(cfg.sim.physics, laser=laser_params)
    lab = SimLab(dataclasses.replace(cfg, sim=dataclasses.replace(cfg.sim, physics=physics)))
    lab.laser.handle(b"OUTP 1")
    for current_mA in (threshold_mA - 1.0, threshold_mA + 5.0):
        lab.laser.handle(f"CURR {current_mA}".encode())
        front_mW = float(lab.laser.handle(b"SENS:POW:FRON"))
        light_uW = lab.physics.light_power_uW(lab.state())
        assert (front_mW > 0) == (light_uW > 0) == (current_mA > threshold_mA)


def test_joined_commands_keep_only_the_last_response(laser):
    assert laser.handle(b"OUTP 1;OUTP?") == b"1"
    assert laser.handle(b"CURR 40;FOO") == b"Unknown Command"
    assert laser.current_setpoint_mA == 40.0


def test_identity_and_terminations(laser):
    assert laser.handle(b"*IDN?").startswith(b"NewFocus")
    assert laser.output_policy == "replace"
    assert laser.read_termination == "\r\n"


def test_without_clock_moves_finish_at_once():
    laser = TLB6300Emulator(power_factor=physics_power_factor())
    laser.handle(b"WAVE 766.7")
    assert laser.handle(b"*OPC?") == b"1" and laser.wavelength_nm == pytest.approx(766.7)
