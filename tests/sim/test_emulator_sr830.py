"""SR830 lock-in emulator: command set, status bytes, and the output filter and noise on the sim clock."""

import math

import numpy as np
import pytest

from kmor.sim.clock import SimClock
from kmor.sim.instruments import SR830Emulator
from kmor.sim.instruments.sr830 import SENSITIVITIES_V, TIME_CONSTANTS_S


class Input:
    """A settable demodulated input (rms volts) that records the harmonic asked for."""

    def __init__(self, value=0j, noise=0.0):
        self.value = value
        self.noise = noise
        self.harmonics = []

    def signal(self, harmonic):
        self.harmonics.append(harmonic)
        return self.value

    def density(self):
        return self.noise


def make(value=0j, noise=0.0, seed=0, **kwargs):
    clock = SimClock()
    source = Input(value, noise)
    lockin = SR830Emulator(clock, source.signal, source.density, np.random.default_rng(seed), **kwargs)
    return lockin, clock, source


def x_of(lockin):
    return float(lockin.handle(b"OUTP? 1"))


def test_identity_and_tables():
    lockin, _, _ = make()
    assert lockin.handle(b"*IDN?") == b"Stanford_Research_Systems,SR830,s/n12345,ver1.07"
    assert SENSITIVITIES_V[0] == pytest.approx(2e-9) and SENSITIVITIES_V[17] == pytest.approx(1e-3)
    assert SENSITIVITIES_V[26] == 1.0 and len(SENSITIVITIES_V) == 27
    assert TIME_CONSTANTS_S[0] == pytest.approx(10e-6) and TIME_CONSTANTS_S[19] == pytest.approx(30e3)


def test_settings_round_trip_and_joined_queries_each_get_a_terminator():
    lockin, _, _ = make()
    lockin.handle(b"SENS 17;OFLT 10;OFSL 3;HARM 2;RMOD 2;ISRC 1")
    assert lockin.handle(b"SENS?;OFLT?;OFSL?") == b"17\n10\n3"
    assert lockin.handle(b"HARM?") == b"2"
    assert (lockin.reserve_mode, lockin.input_source) == (2, 1)


@pytest.mark.parametrize("command", [b"SENS 27", b"OFLT 20", b"OFSL -1", b"HARM 0", b"PHAS 800",
                                     b"SLVL 6", b"SNAP? 1", b"OUTP? 5"])
def test_bad_parameters_set_execution_error(command):
    lockin, _, _ = make()
    before = lockin.handle(b"SENS?;OFLT?;OFSL?;HARM?;PHAS?;SLVL?")
    assert lockin.handle(command) is None
    assert lockin.handle(b"*ESR?") == b"16"
    assert lockin.handle(b"SENS?;OFLT?;OFSL?;HARM?;PHAS?;SLVL?") == before


def test_unknown_command_sets_command_error_and_cls_clears():
    lockin, _, _ = make()
    lockin.handle(b"SYST:ERR?")
    assert lockin.handle(b"*ESR? 5") == b"1"
    lockin.handle(b"ABCD")
    lockin.handle(b"*CLS")
    assert lockin.handle(b"*ESR?") == b"0"


def test_follows_a_step_after_five_time_constants_and_reads_old_value_sooner():
    lockin, clock, source = make()
    lockin.handle(b"SENS 17;OFLT 8;OFSL 0")  # 1 mV, 100 ms, 6 dB/oct
    clock.advance(10.0)
    assert abs(x_of(lockin)) < 1e-9
    source.value = 0.5e-3 + 0j
    lockin.input_changed()
    clock.advance(0.05)
    assert x_of(lockin) == pytest.approx(0.5e-3 * (1 - math.exp(-0.5)), rel=1e-5)
    clock.advance(0.45)  # 5 tau after the step
    assert x_of(lockin) == pytest.approx(0.5e-3, rel=0.01)


def test_steeper_slope_needs_about_ten_time_constants():
    lockin, clock, source = make()
    lockin.handle(b"SENS 17;OFLT 8;OFSL 3")  # 24 dB/oct
    clock.advance(1.0)
    source.value = 1e-3 + 0j
    lockin.input_changed()
    clock.advance(0.5)
    assert x_of(lockin) < 0.8e-3
    clock.advance(0.5)
    assert x_of(lockin) == pytest.approx(1e-3, rel=0.015)


def noise_rms(oflt, ofsl, samples=400):
    lockin, clock, _ = make(noise=1e-6, seed=oflt * 10 + ofsl)
    lockin.handle(f"SENS 10;OFLT {oflt};OFSL {ofsl}".encode())
    tau = TIME_CONSTANTS_S[oflt]
    values = []
    for _ in range(samples):
        clock.advance(20 * tau)
        values.append(lockin.handle(b"SNAP? 1,2"))
    xy = np.array([[float(v) for v in line.split(b",")] for line in values])
    return xy.std(axis=0)


@pytest.mark.parametrize("ofsl, enbw_tau", [(0, 1 / 4), (1, 1 / 8), (3, 5 / 64)])
def test_output_noise_is_density_times_root_enbw(ofsl, enbw_tau):
    rms_x, rms_y = noise_rms(8, ofsl)
    expected = 1e-6 * math.sqrt(enbw_tau / 0.1)
    assert rms_x == pytest.approx(expected, rel=0.15)
    assert rms_y == pytest.approx(expected, rel=0.15)


def test_noise_falls_as_one_over_root_time_constant():
    short = noise_rms(8, 1)[0]   # 100 ms
    long = noise_rms(10, 1)[0]   # 1 s
    assert short / long == pytest.approx(math.sqrt(10), rel=0.2)


def test_phase_rotates_the_input():
    lockin, clock, source = make(value=1e-3 + 0j)
    lockin.handle(b"SENS 18;OFLT 4;PHAS 90")
    clock.advance(1.0)
    x, y, r, theta = (float(v) for v in lockin.handle(b"SNAP? 1,2,3,4").split(b","))
    assert x == pytest.approx(0.0, abs=1e-8)
    assert y == pytest.approx(-1e-3, rel=1e-4)
    assert r == pytest.approx(1e-3, rel=1e-4) and theta == pytest.approx(-90.0, abs=0.01)
    lockin.handle(b"PHAS 540")
    assert float(lockin.handle(b"PHAS?")) == pytest.approx(180.0) or float(lockin.handle(b"PHAS?")) == pytest.approx(-180.0)


def test_auto_phase_zeroes_y():
    lockin, clock, _ = make(value=1e-3 * (1 + 1j) / math.sqrt(2))
    lockin.handle(b"SENS 18;OFLT 4")
    clock.advance(1.0)
    lockin.handle(b"APHS")
    clock.advance(1.0)
    assert float(lockin.handle(b"OUTP? 2")) == pytest.approx(0.0, abs=1e-7)
    assert float(lockin.handle(b"PHAS?")) == pytest.approx(45.0, abs=0.01)


def test_harmonic_is_passed_to_the_input():
    lockin, clock, source = make()
    lockin.handle(b"HARM 2")
    clock.advance(0.1)
    lockin.handle(b"OUTP? 1")
    assert source.harmonics[-1] == 2


def test_output_overload_bit_and_channel1_saturation():
    lockin, clock, source = make(value=20e-3 + 0j)
    lockin.handle(b"SENS 17;OFLT 4")  # 1 mV full scale
    clock.advance(1.0)
    lockin.handle(b"OUTP? 1")
    assert int(lockin.handle(b"LIAS? 2")) == 1
    assert lockin.channel1_output_V() == 11.0
    source.value = 0.1e-3 + 0j  # overload gone: the latched bit clears once read
    lockin.input_changed()
    clock.advance(1.0)
    lockin.handle(b"LIAS? 2")
    assert lockin.handle(b"LIAS? 2") == b"0"


def test_an_overload_while_the_buffer_stores_is_latched_though_over_before_the_query():
    lockin, clock, source = make(value=0.1e-3 + 0j)
    lockin.handle(b"SENS 17;OFLT 4;SRAT 10;SEND 0;REST;STRT")  # 1 mV full scale, 64 Hz storage
    clock.advance(1.0)
    lockin.input_will_change()                                 # as the lab tells it (decision 0120)
    source.value = 20e-3 + 0j                                  # 0.5 s far beyond full scale
    clock.advance(0.5)
    lockin.input_will_change()
    source.value = 0.1e-3 + 0j
    clock.advance(3.0)                                         # the filter (3 ms) forgot it long ago
    lockin.handle(b"PAUS")
    assert int(lockin.handle(b"LIAS? 2")) == 1


def test_input_overload_when_far_above_the_reserve():
    lockin, clock, _ = make(value=0.5 + 0j)
    lockin.handle(b"SENS 0;RMOD 2")
    clock.advance(0.1)
    assert int(lockin.handle(b"LIAS?")) & 1


def test_no_overload_in_range():
    lockin, clock, _ = make(value=0.4e-3 + 0j)
    lockin.handle(b"SENS 17;OFLT 4")
    clock.advance(1.0)
    lockin.handle(b"OUTP? 1")
    lockin.handle(b"LIAS?")
    clock.advance(1.0)
    assert lockin.handle(b"LIAS?") == b"0"


def test_channel1_output_is_x_scaled_to_ten_volts_full_scale():
    lockin, clock, _ = make(value=0.5e-3 + 0.3e-3j)
    lockin.handle(b"SENS 17;OFLT 4")
    clock.advance(1.0)
    assert lockin.channel1_output_V() == pytest.approx(5.0, rel=1e-4)


def test_outx_selecting_the_other_interface_silences_replies():
    lockin, _, _ = make()
    lockin.handle(b"OUTX 0")
    assert lockin.handle(b"*IDN?") is None
    lockin.handle(b"OUTX 1")
    assert lockin.handle(b"*IDN?").startswith(b"Stanford")


def test_reference_frequency_and_harmonic_limit():
    lockin, _, _ = make()
    lockin.handle(b"FMOD 1;FREQ 1000.5")
    assert float(lockin.handle(b"FREQ?")) == pytest.approx(1000.5)
    lockin.handle(b"HARM 200")
    assert lockin.handle(b"*ESR?") == b"16" and lockin.harmonic == 1
    lockin.handle(b"FMOD 0;FREQ 500")
    assert lockin.handle(b"*ESR?") == b"16"


def test_external_reference_missing_sets_unlock_bit():
    lockin, clock, _ = make(external_reference_hz=lambda: None)
    lockin.handle(b"FMOD 0")
    clock.advance(0.1)
    assert int(lockin.handle(b"LIAS? 3")) == 1


def test_aux_outputs_and_inputs():
    lockin, _, _ = make(aux_inputs_V=[lambda: 1.25, lambda: 0.0, lambda: 0.0, lambda: -3.5])
    lockin.handle(b"AUXV 1,2.5")
    assert float(lockin.handle(b"AUXV? 1")) == 2.5
    assert float(lockin.handle(b"OAUX? 4")) == -3.5
    assert lockin.handle(b"SNAP? 5,8") == b"1.25,-3.5"
    lockin.handle(b"AUXV 2,11")
    assert lockin.handle(b"*ESR?") == b"16"


def test_reset_restores_defaults():
    lockin, _, _ = make()
    lockin.handle(b"SENS 3;OFLT 2;PHAS 10")
    lockin.handle(b"*RST")
    assert lockin.handle(b"SENS?;OFLT?;OFSL?") == b"26\n8\n1"
