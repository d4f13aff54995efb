"""HP 8647A: exact bytes for each setting, *OPC? after frequency changes, SCPI error queue."""

import pytest

from kmor.drivers.errors import InstrumentReplyError, InstrumentStatusError, SettingOutOfRange
from kmor.drivers.hp8647a import HP8647A
from kmor.drivers.testing import FakeResource, expected_protocol

IDN = "Hewlett-Packard,8647A,3523A01234,B.04.03"
NO_ERROR = ("SYST:ERR?", '+0,"No error"')
CONNECT = [("*IDN?", IDN), NO_ERROR]


def test_frequency_is_rounded_to_1_hz_sent_in_hz_then_opc_then_error_queue():
    with expected_protocol(HP8647A, CONNECT + [("FREQ:CW 461719720", None), ("*OPC?", "+1"),
                                               NO_ERROR]) as gen:
        gen.freq_hz = 461_719_720.1


def test_frequency_query_parses_scpi_float():
    with expected_protocol(HP8647A, CONNECT + [("FREQ:CW?", "+4.61719721000000E+08")]) as gen:
        assert gen.freq_hz == 461_719_721.0


@pytest.mark.parametrize("freq_hz", [249_999.0, 1.0e9 + 1, -5.0, float("nan")])
def test_frequency_outside_250khz_1ghz_refused_before_sending(freq_hz):
    with expected_protocol(HP8647A, CONNECT) as gen:
        with pytest.raises(SettingOutOfRange) as err:
            gen.freq_hz = freq_hz
        assert gen.fake.written == ["*IDN?", "SYST:ERR?"]
    message = str(err.value)
    assert "HP 8647A" in message and "freq_hz" in message and "250000 .. 1e+09 Hz" in message


def test_amplitude_limited_by_lab_safety_maximum_given_to_constructor():
    with expected_protocol(HP8647A, CONNECT + [("POW:AMPL -10.0 DBM", None), NO_ERROR],
                           max_amplitude_dBm=-10.0) as gen:
        with pytest.raises(SettingOutOfRange, match=r"-136 .. -10 dBm"):
            gen.amplitude_dBm = -9.9
        gen.amplitude_dBm = -10.0


def test_amplitude_minimum_and_default_maximum():
    with expected_protocol(HP8647A, CONNECT + [("POW:AMPL -136.0 DBM", None), NO_ERROR,
                                               ("POW:AMPL 10.0 DBM", None), NO_ERROR]) as gen:
        gen.amplitude_dBm = -136
        gen.amplitude_dBm = 10
        with pytest.raises(SettingOutOfRange):
            gen.amplitude_dBm = -136.1


def test_safety_maximum_above_10_dBm_is_refused():
    with pytest.raises(SettingOutOfRange, match="max_amplitude_dBm"):
        HP8647A(FakeResource([]), max_amplitude_dBm=13.0)


def test_rf_output_on_off_and_state_query():
    with expected_protocol(HP8647A, CONNECT + [("OUTP:STAT ON", None), NO_ERROR,
                                               ("OUTP:STAT?", "1"), ("OUTP:STAT OFF", None),
                                               NO_ERROR, ("OUTP:STAT?", "+0")]) as gen:
        gen.rf_on = True
        assert gen.rf_on is True
        gen.rf_on = False
        assert gen.rf_on is False


def test_rf_on_refuses_non_booleans():
    with expected_protocol(HP8647A, CONNECT) as gen:
        with pytest.raises(SettingOutOfRange):
            gen.rf_on = "yes"


def test_modulation_off_sends_am_fm_pm_off_checking_errors_after_each():
    with expected_protocol(HP8647A, CONNECT + [("AM:STAT OFF", None), NO_ERROR,
                                               ("FM:STAT OFF", None), NO_ERROR,
                                               ("PM:STAT OFF", None), NO_ERROR]) as gen:
        gen.modulation_off()


def test_error_queue_entries_after_a_setting_raise_with_command_and_reply():
    script = CONNECT + [("POW:AMPL 5.0 DBM", None),
                        ("SYST:ERR?", '-222,"Data out of range"'),
                        ("SYST:ERR?", '-113,"Undefined header"'), NO_ERROR]
    with expected_protocol(HP8647A, script) as gen:
        with pytest.raises(InstrumentStatusError) as err:
            gen.amplitude_dBm = 5.0
    message = str(err.value)
    assert "HP 8647A" in message and "POW:AMPL 5.0 DBM" in message
    assert '-222,"Data out of range"' in message and "-113" in message
    assert err.value.command == "POW:AMPL 5.0 DBM"


def test_opc_reply_other_than_1_is_a_reply_error():
    script = CONNECT + [("FREQ:CW 1000000", None), ("*OPC?", "busy")]
    with expected_protocol(HP8647A, script) as gen:
        with pytest.raises(InstrumentReplyError, match=r"\*OPC\?"):
            gen.freq_hz = 1e6


def test_garbled_error_queue_entry_is_a_reply_error():
    script = CONNECT + [("OUTP:STAT ON", None), ("SYST:ERR?", "#&%")]
    with expected_protocol(HP8647A, script) as gen:
        with pytest.raises(InstrumentReplyError, match="SYST:ERR"):
            gen.rf_on = True


def test_snapshot_queries_every_setting():
    script = CONNECT + [("*IDN?", IDN), ("FREQ:CW?", "4.617197200E+08"), ("POW:AMPL?", "-20.0"),
                        ("OUTP:STAT?", "1"), ("AM:STAT?", "0"), ("FM:STAT?", "0"),
                        ("PM:STAT?", "0")]
    with expected_protocol(HP8647A, script) as gen:
        snap = gen.snapshot()
    assert snap["freq_hz"] == 461_719_720.0 and snap["amplitude_dBm"] == -20.0
    assert snap["rf_on"] is True and snap["am_on"] is False and snap["identity"] == IDN
