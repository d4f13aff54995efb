"""SR830 twin, raw bytes from the manual's command reference: displays, offsets and expands, auto
functions, stored settings, the data storage buffer (TRCA?/TRCB?/TRCL?, FAST), the status system and
setups; bad arguments set the manual's error bit; the filter's step response at any read time."""

import math
import struct

import numpy as np
import pytest
from scipy.special import gammainc

from kmor.sim.clock import SimClock
from kmor.sim.instruments import SR830Emulator
from kmor.sim.instruments.sr830_buffer import (
    BUFFER_POINTS,
    from_lockin_format,
    quantize,
)

EXE, CMD = b"16", b"32"


class Input:
    def __init__(self, value=0j, noise=0.0):
        self.value = value
        self.noise = noise

    def signal(self, harmonic):
        return self.value

    def density(self):
        return self.noise


def make(value=0j, noise=0.0, aux=(0.0, 0.0, 0.0, 0.0), **kwargs):
    clock = SimClock()
    source = Input(value, noise)
    aux_inputs = [lambda v=v: v for v in aux]
    lockin = SR830Emulator(clock, source.signal, source.density, np.random.default_rng(0),
                           aux_inputs_V=aux_inputs, **kwargs)
    return lockin, clock, source


def esr(lockin):
    return lockin.handle(b"*ESR?")


# --- display and output ---------------------------------------------------------------------
def test_ddef_sets_display_and_ratio_and_qcodes_spelling_reads_it():
    lockin, clock, _ = make(value=2e-3 + 1e-3j, aux=(0.5, 0, 0, 0))
    assert lockin.handle(b"DDEF ? 1") == b"0,0"
    lockin.handle(b"SENS 22;OFLT 4;DDEF 1,1,1;DDEF 2,1,0")
    clock.advance(1.0)
    assert lockin.handle(b"DDEF? 1;DDEF? 2") == b"1,1\n1,0"
    ch1, ch2 = (float(v) for v in lockin.handle(b"SNAP? 10,11").split(b","))
    assert ch1 == pytest.approx(abs(2e-3 + 1e-3j) / 0.5, rel=1e-4)       # R / Aux In 1
    assert ch2 == pytest.approx(math.degrees(math.atan2(1, 2)), rel=1e-4)  # theta
    assert float(lockin.handle(b"OUTR? 1")) == pytest.approx(ch1, rel=1e-5)
    assert esr(lockin) == b"0"


@pytest.mark.parametrize("command", [b"DDEF 3,0,0", b"DDEF 1,5,0", b"DDEF 1,0,3", b"DDEF 1,0",
                                     b"DDEF? 3", b"FPOP 1,2", b"FPOP 3,0", b"FPOP 1", b"OUTR? 3",
                                     b"OEXP 4,0,0", b"OEXP 1,106,0", b"OEXP 1,10,3", b"OEXP 1,10",
                                     b"AOFF 0", b"AOFF 4"])
def test_display_and_offset_bad_arguments_set_the_execution_bit(command):
    lockin, _, _ = make()
    before = lockin.handle(b"DDEF? 1;DDEF? 2;FPOP? 1;OEXP? 1;OEXP? 3")
    assert lockin.handle(command) is None
    assert esr(lockin) == EXE
    assert lockin.handle(b"DDEF? 1;DDEF? 2;FPOP? 1;OEXP? 1;OEXP? 3") == before


def test_fpop_round_trip():
    lockin, _, _ = make()
    lockin.handle(b"FPOP 1,1;FPOP 2,0")
    assert lockin.handle(b"FPOP? 1;FPOP? 2") == b"1\n0"


def test_offset_expand_format_and_effect_on_outputs_and_ch1():
    lockin, clock, _ = make(value=0.5e-3 + 0j)
    lockin.handle(b"SENS 17;OFLT 4;OEXP 1,40,1")  # 1 mV full scale, X offset 40 %, expand x10
    assert lockin.handle(b"OEXP? 1") == b"40.00,1"
    clock.advance(1.0)
    assert float(lockin.handle(b"OUTP? 1")) == pytest.approx(0.1e-3, rel=1e-4)  # 0.5 mV - 40 % of 1 mV
    assert float(lockin.handle(b"OUTR? 1")) == pytest.approx(0.1e-3, rel=1e-4)
    assert lockin.channel1_output_V() == pytest.approx((0.5 - 0.4) * 10 * 10, rel=1e-3)  # manual's formula
    assert float(lockin.handle(b"OUTP? 3")) == pytest.approx(0.5e-3, rel=1e-4)  # R offset untouched


def test_auto_offset_zeroes_the_quantity():
    lockin, clock, _ = make(value=0.5e-3 + 0.2e-3j)
    lockin.handle(b"SENS 17;OFLT 4")
    clock.advance(1.0)
    lockin.handle(b"AOFF 1;AOFF 3")
    assert lockin.handle(b"OEXP? 1") == b"50.00,0"
    clock.advance(0.1)
    x, y, r = (float(v) for v in lockin.handle(b"SNAP? 1,2,3").split(b","))
    assert x == pytest.approx(0.0, abs=1e-8) and y == pytest.approx(0.2e-3, rel=1e-4)
    assert r == pytest.approx(0.0, abs=1e-7)  # the offset has 0.01 % resolution


# --- auto functions ---------------------------------------------------------------------------
def test_auto_gain_picks_the_most_sensitive_range_that_holds_r():
    lockin, clock, _ = make(value=3e-3 + 0j)
    lockin.handle(b"OFLT 4")  # 1 ms: AGAN works
    clock.advance(0.1)
    lockin.handle(b"AGAN")
    assert lockin.handle(b"SENS?") == b"19"  # 5 mV: 3 mV is under 80 % of it, 2 mV would overload
    assert esr(lockin) == b"0"


def test_auto_gain_does_nothing_with_a_time_constant_over_one_second():
    lockin, clock, _ = make(value=3e-3 + 0j)
    lockin.handle(b"OFLT 11")  # 3 s
    clock.advance(100.0)
    lockin.handle(b"AGAN")
    assert lockin.handle(b"SENS?") == b"26"


def test_auto_reserve_takes_the_least_reserve_without_overload():
    lockin, clock, _ = make(value=50e-3 + 0j)
    lockin.handle(b"SENS 17;RMOD 0")  # 1 mV: 50 mV needs more than 20 dB, fits in 40 dB
    clock.advance(0.1)
    lockin.handle(b"ARSV")
    assert lockin.handle(b"RMOD?") == b"1"


# --- stored settings --------------------------------------------------------------------------
@pytest.mark.parametrize("name, high", [("ICPL", 1), ("IGND", 1), ("ILIN", 3), ("SYNC", 1), ("RSLP", 2),
                                        ("LOCL", 2), ("OVRM", 1), ("KCLK", 1), ("ALRM", 1), ("ISRC", 3),
                                        ("RMOD", 2), ("OFSL", 3), ("FAST", 2), ("SEND", 1), ("TSTR", 1),
                                        ("SRAT", 14), ("OUTX", 1)])
def test_every_setting_round_trips_and_refuses_one_past_its_range(name, high):
    lockin, _, _ = make()
    lockin.handle(f"{name} {high}".encode())
    lockin.handle(b"OUTX 1")
    assert lockin.handle(f"{name}?".encode()) == str(high).encode()
    lockin.handle(f"{name} {high + 1}".encode())
    lockin.handle(f"{name} -1".encode())
    assert lockin.handle(b"*ESR? 4") == b"1"
    assert lockin.handle(f"{name} ?".encode()) == str(high).encode()


def test_pymeasure_spellings_with_trailing_semicolons_and_float_indices():
    lockin, _, _ = make(aux=(1.25, 0, 0, 0))
    lockin.handle(b"AUXV1,2.500000;")
    assert lockin.handle(b"AUXV?1;") == b"2.5"
    assert lockin.handle(b"OAUX?1;") == b"1.25"
    lockin.handle(b"SRAT4.000000")
    lockin.handle(b"FREQ1.00000e+03")
    lockin.handle(b"DDEF1,1,0")
    assert lockin.handle(b"SRAT?;DDEF?1;") == b"4\n1,0"
    assert esr(lockin) == b"0"


def test_unknown_mnemonic_sets_the_command_bit():
    lockin, _, _ = make()
    lockin.handle(b"TRCD 1,1,0,0,1")  # an SR850 command
    assert esr(lockin) == CMD


# --- setups -----------------------------------------------------------------------------------
def test_sset_rset_restore_settings():
    lockin, _, _ = make()
    lockin.handle(b"SENS 10;OFLT 3;DDEF 1,1,0;OEXP 2,12.5,2;ILIN 3;SSET 4")
    lockin.handle(b"*RST")
    assert lockin.handle(b"SENS?;DDEF? 1;ILIN?") == b"26\n0,0\n0"
    lockin.handle(b"RSET 4")
    assert lockin.handle(b"SENS?;OFLT?;DDEF? 1;OEXP? 2;ILIN?") == b"10\n3\n1,0\n12.50,2\n3"
    lockin.handle(b"SSET 0;RSET 10")
    assert esr(lockin) == EXE


# --- status system ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", [b"*ESE", b"*SRE", b"ERRE", b"LIAE"])
def test_enable_registers_whole_and_bitwise_forms(name):
    lockin, _, _ = make()
    lockin.handle(name + b" 36")
    assert lockin.handle(name + b"?") == b"36"
    lockin.handle(name + b" 0,1")
    lockin.handle(name + b" 5,0")
    assert lockin.handle(name + b"?") == b"5"
    assert lockin.handle(name + b"? 2;" + name + b"? 1") == b"1\n0"
    assert lockin.handle(name + b"?") == b"5"  # reading an enable register does not clear it
    for bad in (b" 256", b" 8,1", b" 1,2", b" 1,1,1"):
        lockin.handle(name + bad)
        assert esr(lockin) == EXE
    assert lockin.handle(name + b"?") == b"5"


def test_status_byte_reports_only_enabled_events_and_service_request():
    lockin, clock, _ = make(value=20e-3 + 0j)
    assert lockin.handle(b"*STB?") == b"3"  # no scan in progress, no command executing
    lockin.handle(b"SENS 17;OFLT 4")
    clock.advance(1.0)
    lockin.handle(b"OUTP? 1")              # output overload: LIAS bit 2 latched
    assert int(lockin.handle(b"*STB?")) & 8 == 0   # not enabled
    lockin.handle(b"LIAE 2,1")
    assert lockin.handle(b"*STB? 3") == b"1"
    assert lockin.handle(b"*STB? 6") == b"0"
    lockin.handle(b"*SRE 8")
    assert lockin.handle(b"*STB? 6") == b"1"
    lockin.handle(b"XXXX;*ESE 32")
    assert lockin.handle(b"*STB? 5") == b"1"
    lockin.handle(b"*CLS")
    assert lockin.handle(b"*ESR?;ERRS?") == b"0\n0"
    assert lockin.handle(b"*ESE?;*SRE?;LIAE?") == b"32\n8\n4"  # *CLS keeps the enables
    lockin.handle(b"*PSC 0")
    assert lockin.handle(b"*PSC?") == b"0"


def test_lias_range_change_bit_when_detection_crosses_200_hz():
    lockin, _, _ = make()
    lockin.handle(b"FREQ 150")
    assert lockin.handle(b"LIAS? 4") == b"1"
    lockin.handle(b"FREQ 120")
    assert lockin.handle(b"LIAS? 4") == b"0"
    lockin.handle(b"HARM 2")
    assert lockin.handle(b"LIAS? 4") == b"1"


# --- the data storage buffer ------------------------------------------------------------------
def test_buffer_fills_at_the_sample_rate_on_the_sim_clock_with_the_displays():
    lockin, clock, source = make(value=1e-3 + 0j)
    lockin.handle(b"SENS 20;OFLT 5;OFSL 0;SRAT 10;SEND 0;REST")  # 3 ms, 6 dB/oct, 64 Hz
    clock.advance(1.0)
    lockin.handle(b"STRT")
    clock.advance(0.5)
    assert lockin.handle(b"SPTS?") == b"33"  # t = 0, 1/64, ... 32/64
    x = [float(v) for v in lockin.handle(b"TRCA? 1,0,33").decode().rstrip(",").split(",")]
    assert x == pytest.approx([quantize(1e-3)] * 33, rel=1e-4)
    lockin.handle(b"PAUS")
    clock.advance(10.0)
    assert lockin.handle(b"SPTS?") == b"33"
    lockin.handle(b"STRT")
    clock.advance(1 / 64 + 1e-9)
    assert lockin.handle(b"SPTS?") == b"35"
    lockin.handle(b"REST")
    assert lockin.handle(b"SPTS?") == b"0"
    assert esr(lockin) == b"0"


def test_buffer_records_a_step_as_the_filter_shows_it():
    lockin, clock, source = make()
    lockin.handle(b"SENS 20;OFLT 8;OFSL 1;SRAT 13;REST;STRT")  # 100 ms, 12 dB/oct, 512 Hz
    clock.advance(0.1)
    source.value = 5e-3 + 0j
    lockin.input_changed()      # the step at t_step
    t_step = clock.now_s()
    clock.advance(1.0)
    n = int(lockin.handle(b"SPTS?"))
    ch1 = np.frombuffer(lockin.handle(b"TRCB? 1,0,%d" % n), dtype="<f4")
    t = np.arange(n) / 512.0
    expected = 5e-3 * gammainc(2, np.clip(t - t_step, 0, None) / 0.1)
    np.testing.assert_allclose(ch1, expected, atol=5e-3 * 2e-4)


def test_trca_trcb_trcl_formats_agree():
    lockin, clock, _ = make(value=-1.234567e-9 + 7.654321e-9j)
    lockin.handle(b"SENS 2;OFLT 0;SRAT 4;REST")
    clock.advance(1.0)
    lockin.handle(b"STRT")
    clock.advance(1.0)
    text = lockin.handle(b"TRCA? 1,0,2")
    assert text.endswith(b",") and text.count(b",") == 2
    assert text.split(b",")[0].startswith(b"-1.23") and b"e-009" in text
    binary = lockin.handle(b"TRCB? 2,0,2")
    assert type(binary).__name__ == "BinaryReply" and len(binary) == 8
    lockin_fmt = lockin.handle(b"TRCL? 2,0,2")
    raw = np.frombuffer(lockin_fmt, dtype="<i2")
    from_trcl = raw[::2] * 2.0 ** (raw[1::2].astype(float) - 124)
    np.testing.assert_allclose(struct.unpack("<2f", binary), from_trcl, rtol=1e-7)
    assert from_trcl[0] == pytest.approx(7.654321e-9, rel=1e-4)
    assert all(0 <= e <= 248 for e in raw[1::2])


@pytest.mark.parametrize("command", [b"TRCA? 1,0,3", b"TRCB? 1,2,1", b"TRCL? 3,0,1", b"TRCA? 1,0,0",
                                     b"TRCA? 1,-1,1", b"TRCB? 1,0", b"SRAT 15", b"SEND 2"])
def test_buffer_reads_beyond_what_is_stored_set_the_execution_bit(command):
    lockin, clock, _ = make()
    lockin.handle(b"SRAT 4;REST;STRT")
    clock.advance(1.0)
    lockin.handle(b"PAUS")
    assert lockin.handle(b"SPTS?") == b"2"
    assert lockin.handle(command) is None
    assert esr(lockin) == EXE


def test_one_shot_stops_full_and_loop_keeps_the_newest():
    lockin, clock, _ = make()
    lockin.handle(b"SRAT 13;SEND 0;REST;STRT")
    clock.advance(40.0)
    assert int(lockin.handle(b"SPTS?")) == BUFFER_POINTS
    assert lockin.handle(b"*STB? 0") == b"1"  # storage stopped
    lockin.handle(b"SEND 1;REST;STRT")
    clock.advance(40.0)
    assert int(lockin.handle(b"SPTS?")) == BUFFER_POINTS
    assert lockin.handle(b"*STB? 0") == b"0"


def test_trigger_mode_samples_on_trig_and_tstr_starts_on_trigger():
    lockin, clock, _ = make(value=1e-3 + 0j)
    lockin.handle(b"SRAT 14;TSTR 1;REST")
    clock.advance(5.0)
    lockin.handle(b"TRIG")                    # starts the scan and takes the first point
    assert lockin.handle(b"SPTS?;LIAS? 6") == b"1\n1"
    clock.advance(5.0)
    assert lockin.handle(b"SPTS?") == b"1"    # nothing without a trigger
    lockin.handle(b"TRIG;TRIG")
    assert lockin.handle(b"SPTS?") == b"3"
    lockin.handle(b"SRAT 4;TSTR 1;REST")
    lockin.handle(b"TRIG")                    # a trigger starts a timed scan
    clock.advance(2.0)
    assert lockin.handle(b"SPTS?") == b"3"


def test_fast_streams_x_and_y_as_counts_and_aborts_when_the_host_falls_behind():
    lockin, clock, _ = make(value=0.5e-3 - 0.25e-3j)
    lockin.handle(b"SENS 17;OFLT 4;SRAT 10;REST")
    clock.advance(1.0)
    lockin.handle(b"FAST 2;STRD")
    clock.advance(0.4)
    assert lockin.take_stream() == b""        # STRD waits 0.5 s
    clock.advance(0.1 + 10 / 64)
    pairs = np.frombuffer(lockin.take_stream(), dtype="<i2").reshape(-1, 2)
    assert len(pairs) == 11
    assert tuple(pairs[-1]) == (15000, -7500)  # +-30000 = full scale
    clock.advance(2.0)                        # 128 samples unread: the 63-pair queue overflows
    assert lockin.handle(b"ERRS? 5;FAST?") == b"1\n0"
    assert int(lockin.handle(b"SPTS?")) > 100  # storage itself goes on


def test_fast_stream_goes_out_of_the_tcp_server_between_replies():
    import socket
    import time

    from kmor.sim.server import serve
    clock = SimClock(speed=1.0)
    lockin = SR830Emulator(clock, lambda h: 0.5e-3 + 0j, rng=np.random.default_rng(0))
    with serve({0: lockin}) as server:
        with socket.create_connection(("127.0.0.1", server.port_of(lockin)), timeout=5) as sock:
            sock.sendall(b"SENS 17;OFLT 0;SRAT 13;REST;FAST 2;STRT\n")
            time.sleep(0.5)
            sock.sendall(b"PAUS;FAST 0\n")
            time.sleep(0.3)
            data = bytearray()
            sock.settimeout(0.3)
            try:
                while chunk := sock.recv(65536):
                    data += chunk
            except TimeoutError:
                pass
    pairs = np.frombuffer(bytes(data[: len(data) // 4 * 4]), dtype="<i2").reshape(-1, 2)
    assert len(pairs) > 100                   # about 0.5 s at 512 Hz
    assert set(pairs[10:, 0]) == {15000}      # settled: half of full scale


# --- the output filter: an exact RC cascade in continuous sim time ------------------------------
@pytest.mark.parametrize("slope, poles", [(0, 1), (1, 2), (2, 3), (3, 4)])
@pytest.mark.parametrize("after_tau", [0.37, 1.0, 2.9, 7.5])
def test_step_at_a_known_time_gives_the_n_pole_response_at_any_later_read(slope, poles, after_tau):
    lockin, clock, source = make()
    lockin.handle(f"SENS 20;OFLT 8;OFSL {slope}".encode())  # 100 ms
    lockin.handle(b"OUTP? 1")
    clock.advance(30.0)                 # idle spell without reads
    source.value = 4e-3 + 0j
    lockin.input_changed()              # what the lab does when a coil or the laser moves
    clock.advance(after_tau * 0.1)
    expected = 4e-3 * gammainc(poles, after_tau)  # P(n, t/tau): n cascaded RC sections
    assert float(lockin.handle(b"OUTP? 1")) == pytest.approx(expected, rel=1e-5)


def test_a_change_just_before_a_read_is_not_applied_back_to_the_previous_read():
    lockin, clock, source = make()
    lockin.handle(b"SENS 20;OFLT 8;OFSL 3")
    lockin.handle(b"OUTP? 1")
    clock.advance(100.0)
    source.value = 4e-3 + 0j
    lockin.input_changed()
    clock.advance(1e-3)
    assert float(lockin.handle(b"OUTP? 1")) < 1e-9  # 24 dB/oct, 0.01 tau after the step


def test_lockin_format_round_trip():
    for v in (0.0, 1.0, -1.0, 3.3e-9, -7.7e-3, 123.456):
        m, e = __import__("kmor.sim.instruments.sr830_buffer", fromlist=["x"]).to_lockin_format(v)
        assert -32768 <= m <= 32767 and 0 <= e <= 248
        assert from_lockin_format(m, e) == pytest.approx(v, rel=1e-4, abs=1e-30)


def test_changes_announced_before_they_happen_each_hold_from_their_instant():
    lockin, clock, source = make()
    lockin.handle(b"SENS 20;OFLT 8;OFSL 0")  # 100 ms, 6 dB/oct
    lockin.handle(b"OUTP? 1")
    clock.advance(10.0)
    lockin.input_will_change()           # what the lab does before a coil or laser command
    source.value = 4e-3 + 0j
    clock.advance(0.1)
    lockin.input_will_change()           # a second change with no read in between
    source.value = 0j
    clock.advance(0.05)
    expected = 4e-3 * (1 - math.exp(-1.0)) * math.exp(-0.5)
    assert float(lockin.handle(b"OUTP? 1")) == pytest.approx(expected, rel=1e-5)
