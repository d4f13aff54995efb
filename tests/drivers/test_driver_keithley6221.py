"""Keithley 6221: SCPI source commands, +-105 mA limit, identity with trailing spaces."""

import pytest

from kmor.drivers.errors import InstrumentStatusError, SettingOutOfRange, WrongInstrument
from kmor.drivers.keithley6221 import Keithley6221
from kmor.drivers.testing import FakeResource, expected_protocol

IDN = "KEITHLEY INSTRUMENTS INC.,MODEL 6221,4559777,D04  /700x "
NO_ERROR = ("SYST:ERR?", '0,"No error"')
CONNECT = [("*IDN?", IDN), NO_ERROR]


def test_identity_has_trailing_spaces_stripped():
    with expected_protocol(Keithley6221, CONNECT + [("*IDN?", IDN + "  ")]) as source:
        assert source.identity == "KEITHLEY INSTRUMENTS INC.,MODEL 6221,4559777,D04  /700x"


def test_source_settings_exact_commands():
    script = CONNECT
    for command in ["SOUR:CURR 1.250000e-02", "SOUR:CURR -1.050000e-01", "SOUR:CURR:COMP 10.000",
                    "SOUR:CURR:RANG:AUTO 1", "SOUR:CURR:RANG 2.000000e-02", "OUTP 1", "SOUR:CLE"]:
        script = script + [(command, None), NO_ERROR]
    with expected_protocol(Keithley6221, script) as source:
        source.current_A = 0.0125
        source.current_A = -0.105
        source.compliance_V = 10
        source.auto_range = True
        source.range_A = 0.02
        source.output_on = True
        source.source_clear()


def test_queries():
    script = CONNECT + [("SOUR:CURR?", "1.250000E-02"), ("OUTP?", "0"),
                        ("SOUR:CURR:RANG:AUTO?", "1")]
    with expected_protocol(Keithley6221, script) as source:
        assert source.current_A == 0.0125
        assert source.output_on is False
        assert source.auto_range is True


@pytest.mark.parametrize("current_A", [0.106, -0.2, float("inf")])
def test_current_beyond_105_mA_refused_before_sending(current_A):
    with expected_protocol(Keithley6221, CONNECT) as source:
        with pytest.raises(SettingOutOfRange, match=r"-0.105 .. 0.105 A"):
            source.current_A = current_A
        assert source.fake.written == ["*IDN?", "SYST:ERR?"]


def test_error_queue_after_setting_raises():
    script = CONNECT + [("SOUR:CURR:COMP 50.000", None),
                        ("SYST:ERR?", '-221,"Settings conflict"'), NO_ERROR]
    with expected_protocol(Keithley6221, script) as source:
        with pytest.raises(InstrumentStatusError) as err:
            source.compliance_V = 50
    assert "SOUR:CURR:COMP 50.000" in str(err.value) and "Settings conflict" in str(err.value)


def test_other_keithley_model_refused():
    with pytest.raises(WrongInstrument, match="MODEL 2400"):
        Keithley6221(FakeResource([("*IDN?", "KEITHLEY INSTRUMENTS INC.,MODEL 2400,1,C30")]))
