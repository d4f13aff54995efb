"""TLB-6300: exactly one read after every command, OK / Out of Range / Unknown Command replies."""

import pytest

from kmor.drivers.errors import (InstrumentReplyError, InstrumentStatusError, InstrumentTimeout,
                                 SettingOutOfRange)
from kmor.drivers.testing import TIMEOUT, expected_protocol
from kmor.drivers.tlb6300 import TLB6300

IDN = "NewFocus 6300 v2.4 SN1234"
CONNECT = [("*IDN?", IDN)]


def tlb(script, **kwargs):
    """The 6300's GPIB re-sends its last response on every extra read."""
    return expected_protocol(TLB6300, CONNECT + script, repeat_last_reply=True, **kwargs)


def test_set_commands_read_their_ok_exactly_once():
    script = [("OUTP 1", "OK"), ("OUTP:TRAC OFF", "OK"), ("WAVE 770.108", "OK"),
              ("VOLT 42.50", "OK"), ("CURR 55.00", "OK")]
    with tlb(script) as laser:
        laser.output_on = True
        laser.track_mode_off()
        laser.wavelength_nm = 770.108
        laser.piezo_pct = 42.5
        laser.current_mA = 55
        assert laser.fake.reads == len(laser.fake.written) == 6


def test_reads_use_sens_forms_without_question_mark_one_read_each():
    script = [("SENS:WAVE", "770.1042"), ("SENS:VOLT:PIEZ", "42.47"),
              ("SENS:CURR:DIOD", "54.98"), ("SENS:POW:FRON", "12.3"), ("OUTP?", "1")]
    with tlb(script) as laser:
        assert laser.wavelength_nm == 770.1042
        assert laser.piezo_pct == 42.47
        assert laser.current_mA == 54.98
        assert laser.front_power_mW == 12.3
        assert laser.output_on is True
        assert laser.fake.reads == len(laser.fake.written)


@pytest.mark.parametrize("reply", ["Out of Range", "Unknown Command", "Busy"])
def test_non_ok_reply_to_a_set_command_raises_with_command_and_reply(reply):
    with tlb([("CURR 90.00", reply)]) as laser:
        with pytest.raises(InstrumentStatusError) as err:
            laser.current_mA = 90
    assert "CURR 90.00" in str(err.value) and reply in str(err.value)
    assert err.value.reply == reply


def test_error_reply_to_a_query_raises_status_error_not_a_parse_error():
    with tlb([("SENS:POW:FRON", "Unknown Command")]) as laser:
        with pytest.raises(InstrumentStatusError, match="Unknown Command"):
            laser.front_power_mW


@pytest.mark.parametrize("name, value, allowed", [("wavelength_nm", 790.0, "765 .. 781 nm"),
                                                  ("piezo_pct", 100.5, "0 .. 100 %"),
                                                  ("current_mA", 120, "0 .. 100 mA")])
def test_values_outside_limits_refused_before_sending(name, value, allowed):
    with tlb([]) as laser:
        with pytest.raises(SettingOutOfRange) as err:
            setattr(laser, name, value)
        assert laser.fake.written == ["*IDN?"]
    assert allowed in str(err.value) and "TLB-6300" in str(err.value)


def test_head_limits_are_constructor_arguments():
    with tlb([("WAVE 766.700", "OK")], wavelength_range_nm=(766.0, 771.0),
             max_current_mA=60.0) as laser:
        laser.wavelength_nm = 766.7
        with pytest.raises(SettingOutOfRange, match="60 mA"):
            laser.current_mA = 61


def test_stale_repeat_after_a_lost_reply_is_not_taken_for_a_value():
    # The quirk in action: a reply that never comes shows up as the previous "OK" again.
    with tlb([("OUTP 1", "OK"), ("SENS:WAVE", None)]) as laser:
        laser.output_on = True
        with pytest.raises(InstrumentReplyError, match="SENS:WAVE"):
            laser.wavelength_nm


def test_timeout_retried_once_by_sending_the_command_again():
    with tlb([("SENS:POW:FRON", TIMEOUT), ("SENS:POW:FRON", "12.5")]) as laser:
        assert laser.front_power_mW == 12.5
        assert laser.fake.written.count("SENS:POW:FRON") == 2


def test_rs232_prefixes_each_command_with_at_sign():
    with expected_protocol(TLB6300, [("@*IDN?", IDN), ("@OUTP 0", "OK")], rs232=True,
                           repeat_last_reply=True) as laser:
        laser.output_on = False
        assert laser.fake.read_termination == "\r"


def test_wait_complete_polls_opc_on_the_injected_clock():
    slept = []
    with tlb([("*OPC?", "0"), ("*OPC?", "0"), ("*OPC?", "1")]) as laser:
        laser.wait_complete(slept.append, poll_s=0.25)
    assert slept == [0.25, 0.25]


def test_wait_complete_gives_up_after_timeout():
    slept = []
    with tlb([("*OPC?", "0")] * 3) as laser:
        with pytest.raises(InstrumentTimeout, match="busy"):
            laser.wait_complete(slept.append, poll_s=0.5, timeout_s=1.0)
    assert sum(slept) == 1.0
