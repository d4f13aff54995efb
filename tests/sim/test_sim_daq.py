"""Simulated DAQ: single points, noise, output limits, and hardware-timed sweeps on the sim clock."""

import math

import numpy as np
import pytest

from kmor.sim.clock import SimClock
from kmor.sim.daq import LSB_V, SimDaq
from kmor.sim.instruments import SR830Emulator


def make(sources=None, noise=None, **kwargs):
    clock = SimClock()
    daq = SimDaq(clock, "Dev1", sources or {"Dev1/ai0": lambda: 1.2345}, noise,
                 np.random.default_rng(5), **kwargs)
    return daq, clock


def test_single_point_reads_the_source_to_16_bit_resolution():
    daq, _ = make()
    assert daq.read_ai_V("Dev1/ai0") == pytest.approx(1.2345, abs=LSB_V)
    assert daq.read_ai_V("ai0") == daq.read_ai_V("Dev1/ai0")


def test_inputs_clip_at_the_range():
    daq, _ = make({"ai0": lambda: 12.0, "ai1": lambda: -50.0})
    assert daq.read_ai_V("ai0") == pytest.approx(10.0, abs=LSB_V)
    assert daq.read_ai_V("ai1") == -10.0


def test_noise_is_density_over_the_nyquist_band():
    daq, _ = make({"ai0": lambda: 0.0}, {"ai0": lambda: 1e-4}, single_point_rate_hz=1000.0)
    values = np.array([daq.read_ai_V("ai0") for _ in range(3000)])
    assert values.std() == pytest.approx(1e-4 * math.sqrt(500), rel=0.08)
    assert abs(values.mean()) < 2e-4


def test_analog_output_holds_and_refuses_bad_values():
    daq, _ = make()
    daq.write_ao_V("Dev1/ao0", 2.5)
    assert daq.ao_V("Dev1/ao0") == 2.5 and daq.ao_V("ao0") == 2.5
    for bad in (float("nan"), 10.01, -11.0, float("inf")):
        with pytest.raises(ValueError):
            daq.write_ao_V("Dev1/ao0", bad)
    assert daq.ao_V("Dev1/ao0") == 2.5


def test_unknown_channels_name_the_channel_and_the_known_ones():
    daq, _ = make()
    with pytest.raises(ValueError, match=r"'Dev1/ai7'.*Dev1/ai0"):
        daq.read_ai_V("Dev1/ai7")
    with pytest.raises(ValueError, match=r"'Dev2/ao0'.*Dev1/ao0"):
        daq.write_ao_V("Dev2/ao0", 0.0)


def test_sweep_applies_each_ao_value_before_its_ai_sample():
    clock = SimClock()
    holder = {}
    daq = SimDaq(clock, "Dev1", {"ai0": lambda: 0.5 * holder["daq"].ao_V("ao0"),
                                 "ai1": lambda: clock.now_s()}, None, np.random.default_rng(0))
    holder["daq"] = daq
    wave = np.linspace(-4.0, 4.0, 101)
    data = daq.sweep("Dev1/ao0", wave, ["Dev1/ai0", "Dev1/ai1"], rate_hz=1000.0)
    assert data.shape == (2, 101)
    np.testing.assert_allclose(data[0], 0.5 * wave, atol=LSB_V)
    np.testing.assert_allclose(data[1], (np.arange(101) + 1) / 1000.0, atol=LSB_V)
    assert clock.now_s() == pytest.approx(0.101)
    assert daq.ao_V("ao0") == 4.0


def test_sweep_refuses_out_of_range_waveforms_and_rates():
    daq, _ = make()
    with pytest.raises(ValueError):
        daq.sweep("ao0", np.array([0.0, 10.5]), ["ai0"], 1000.0)
    with pytest.raises(ValueError):
        daq.sweep("ao0", np.array([0.0, np.nan]), ["ai0"], 1000.0)
    with pytest.raises(ValueError):
        daq.sweep("ao0", np.zeros(3), ["ai0"], 0.0)
    assert daq.ao_V("ao0") == 0.0


def test_sweep_through_a_lockin_shows_its_filter_lag():
    clock = SimClock()
    holder = {}
    daq = SimDaq(clock, "Dev1", {"ai0": lambda: holder["lockin"].channel1_output_V()}, None,
                 np.random.default_rng(2))
    lockin = SR830Emulator(clock, lambda h: 1e-3 * daq.ao_V("ao0") + 0j, rng=np.random.default_rng(1))
    holder["lockin"] = lockin
    daq.on_output_change = lockin.input_will_change  # as the SimLab wires them
    lockin.handle(b"SENS 20;OFLT 6;OFSL 0")  # 10 mV, 10 ms, 6 dB/oct
    wave = np.full(200, 5.0)  # a 5 mV step at the lock-in input
    ch1 = daq.sweep("ao0", wave, ["ai0"], rate_hz=1000.0)[0]
    t = (np.arange(200) + 1) / 1000.0
    np.testing.assert_allclose(ch1, 5.0 * (1 - np.exp(-t / 0.01)), atol=2e-3)


def test_closed_device_refuses_calls():
    daq, _ = make()
    daq.close()
    daq.close()
    with pytest.raises(RuntimeError):
        daq.read_ai_V("ai0")
    with pytest.raises(RuntimeError):
        daq.write_ao_V("ao0", 0.0)
