"""SR620: one-line ';'-joined replies, frequency measurement, missing 10 MHz reference."""

import pytest

from kmor.drivers.errors import (InstrumentReplyError, InstrumentStatusError,
                                 ReferenceClockMissing, SettingOutOfRange)
from kmor.drivers.sr620 import SR620
from kmor.drivers.testing import expected_protocol

IDN = "StanfordResearchSystems,SR620,s/n02345,ver1.49"
OK = ("*ESR?;ERRS?", "0;0")
CONNECT = [("*IDN?", IDN), OK]


def test_configure_frequency_sends_the_setup_checking_status_after_each():
    setup = ["AUTM 0", "MODE 3", "SRCE 0", "ARMM 1", "GATE 0.1", "SIZE 10", "JTTR 0", "CLKF 0",
             "CLCK 1"]
    script = CONNECT + [pair for cmd in setup for pair in [(cmd, None), OK]]
    with expected_protocol(SR620, script) as counter:
        counter.configure_frequency(gate_s=0.1, sample_size=10)
        assert counter.measurement_timeout_s == pytest.approx(0.1 * 10 * 1.5 + 3.0)


def test_measure_frequency_reads_mean_and_jitter_from_one_joined_line():
    script = CONNECT + [("STRT;*WAI;XAVG?;XJIT?", "4.617197201E+08;1.25E-03"), OK]
    with expected_protocol(SR620, script) as counter:
        counter.measurement_timeout_s = 20.0
        mean_hz, jitter_hz = counter.measure_frequency()
        assert counter.fake.read_timeouts_ms[-2] == 20000     # the measurement's own timeout
        assert counter.fake.timeout == SR620.timeout_ms         # restored afterwards
    assert mean_hz == 461_719_720.1 and jitter_hz == 1.25e-3


def test_missing_reference_clock_with_external_clock_selected_raises_specific_error():
    script = CONNECT + [("STRT;*WAI;XAVG?;XJIT?", "4.6171972E+08;3.2E+02"),
                        ("*ESR?;ERRS?", "0;2"), ("CLCK?", "1")]
    with expected_protocol(SR620, script) as counter:
        with pytest.raises(ReferenceClockMissing) as err:
            counter.measure_frequency()
    assert isinstance(err.value, InstrumentStatusError)
    assert "10 MHz" in str(err.value) and "SR620" in str(err.value)
    assert err.value.command == "STRT;*WAI;XAVG?;XJIT?"


def test_no_clock_bit_on_internal_clock_is_not_an_error():
    script = CONNECT + [("CLCK 0", None), ("*ESR?;ERRS?", "0;2"), ("CLCK?", "0")]
    with expected_protocol(SR620, script) as counter:
        counter.external_clock = False


def test_execution_error_after_a_setting_raises_with_command_and_status():
    script = CONNECT + [("GATE 500", None), ("*ESR?;ERRS?", "16;0")]
    with expected_protocol(SR620, script) as counter:
        with pytest.raises(InstrumentStatusError) as err:
            counter.gate_s = 500
    assert "GATE 500" in str(err.value) and "execution error" in str(err.value)
    assert err.value.reply == "*ESR 16; ERRS 0"


@pytest.mark.parametrize("reply", ["4.6171972E+08", "4.6E8;1E-3;7", "4.6E8;abc"])
def test_wrong_number_or_garbled_joined_answers_raise_reply_error(reply):
    with expected_protocol(SR620, CONNECT + [("STRT;*WAI;XAVG?;XJIT?", reply)]) as counter:
        with pytest.raises(InstrumentReplyError) as err:
            counter.measure_frequency()
    assert err.value.command == "STRT;*WAI;XAVG?;XJIT?"


def test_joined_status_reply_with_one_answer_is_a_reply_error():
    with pytest.raises(InstrumentReplyError, match=r"\*ESR\?;ERRS\?"):
        with expected_protocol(SR620, [("*IDN?", IDN), ("*ESR?;ERRS?", "0")]):
            pass


@pytest.mark.parametrize("size", [3, 0, 2_000_000, 7.5])
def test_sample_size_outside_1_2_5_sequence_refused_before_sending(size):
    with expected_protocol(SR620, CONNECT) as counter:
        with pytest.raises(SettingOutOfRange, match="sample_size"):
            counter.sample_size = size
        assert counter.fake.written == ["*IDN?", "*ESR?;ERRS?"]


@pytest.mark.parametrize("size, command", [(1, "SIZE 1"), (5000, "SIZE 5000"),
                                           (1_000_000, "SIZE 1000000")])
def test_sample_size_in_sequence(size, command):
    with expected_protocol(SR620, CONNECT + [(command, None), OK]) as counter:
        counter.sample_size = size


def test_gate_range_and_mode_names():
    with expected_protocol(SR620, CONNECT + [("MODE?", "3"), ("ARMM?", "5")]) as counter:
        with pytest.raises(SettingOutOfRange, match=r"0.001 .. 500 s"):
            counter.gate_s = 0.0005
        with pytest.raises(SettingOutOfRange, match="mode"):
            counter.mode = "frequncy"
        assert counter.mode == "frequency" and counter.arming == "1s"
