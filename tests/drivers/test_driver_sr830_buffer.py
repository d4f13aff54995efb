"""SR830 driver's data buffer against the simulated twin through pyvisa: sample rate, modes,
start/pause/reset, and binary reads of what the displays showed."""

from __future__ import annotations

import numpy as np
import pytest
import pyvisa

from kmor.drivers.errors import SettingOutOfRange
from kmor.drivers.sr830 import BUFFER_RATES_HZ, SR830
from kmor.sim.clock import SimClock
from kmor.sim.instruments import SR830Emulator
from kmor.sim.visa_backend import SimVisaLibrary

ADDRESS = "GPIB0::8::INSTR"


@pytest.fixture
def rig():
    clock = SimClock()
    signal = {"V": 2e-3 + 1e-3j}
    twin = SR830Emulator(clock, lambda h: signal["V"], rng=np.random.default_rng(0))
    rm = pyvisa.ResourceManager(SimVisaLibrary.from_emulators({ADDRESS: twin}, clock=clock))
    lockin = SR830(rm.open_resource(ADDRESS))
    yield lockin, clock, twin, signal
    lockin.close()
    rm.close()


def test_buffer_settings_round_trip(rig):
    lockin, _, _, _ = rig
    lockin.buffer_sample_rate_hz = 512.0
    assert lockin.buffer_sample_rate_hz == 512.0
    lockin.buffer_sample_rate_hz = "trigger"
    assert lockin.buffer_sample_rate_hz == "trigger"
    lockin.buffer_mode = "one_shot"
    lockin.buffer_trigger_starts = True
    lockin.ch1_display = "R"
    assert (lockin.buffer_mode, lockin.buffer_trigger_starts, lockin.ch1_display) == ("one_shot", True, "R")
    assert len(BUFFER_RATES_HZ) == 14 and BUFFER_RATES_HZ[0] == 0.0625
    with pytest.raises(SettingOutOfRange):
        lockin.buffer_sample_rate_hz = 100.0


def test_read_buffer_returns_the_displays_sampled_on_the_lockin_clock(rig):
    lockin, clock, _, signal = rig
    lockin.sensitivity_V = 5e-3
    lockin.time_constant_s = 1e-3
    lockin.ch1_display, lockin.ch2_display = "X", "Y"
    lockin.buffer_sample_rate_hz = 64.0
    clock.advance(1.0)
    lockin.reset_buffer()
    lockin.start_buffer()
    clock.advance(2.0)
    lockin.pause_buffer()
    n = lockin.buffer_points()
    assert n == 129
    x, y = lockin.read_buffer(1), lockin.read_buffer(2, first=100, count=5)
    assert x.shape == (129,) and y.shape == (5,)
    np.testing.assert_allclose(x, 2e-3, rtol=1e-4)
    np.testing.assert_allclose(y, 1e-3, rtol=1e-4)
    with pytest.raises(SettingOutOfRange, match="129 stored"):
        lockin.read_buffer(1, first=120, count=10)
    lockin.reset_buffer()
    assert lockin.buffer_points() == 0 and lockin.read_buffer(1).size == 0


def test_trigger_mode_takes_one_point_per_trigger(rig):
    lockin, clock, _, _ = rig
    lockin.buffer_sample_rate_hz = "trigger"
    lockin.reset_buffer()
    lockin.start_buffer()
    for _ in range(3):
        clock.advance(1.0)
        lockin.trigger()
    assert lockin.buffer_points() == 3
