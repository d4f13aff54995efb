"""HP 8647A emulator: raw bytes in, raw bytes out, SCPI error queue."""

import pytest

from kmor.sim.instruments import HP8647AEmulator


@pytest.fixture
def gen():
    return HP8647AEmulator()


def errors(gen):
    """Drain the error queue through the bytes interface."""
    out = []
    while True:
        reply = gen.handle(b"SYST:ERR?")
        if reply.startswith(b"+0,"):
            return out
        out.append(int(reply.split(b",")[0]))


def test_terminations_are_lf(gen):
    assert gen.read_termination == "\n" and gen.write_termination == "\n"


def test_identity_names_the_manufacturer(gen):
    assert gen.handle(b"*IDN?").startswith(b"Hewlett-Packard,8647A,")


@pytest.mark.parametrize("command, hz", [
    (b"FREQ:CW 461.7197 MHZ", 461_719_700.0),
    (b"FREQ:CW 461.7197MHZ", 461_719_700.0),
    (b"freq:cw 250 khz", 250_000.0),
    (b"FREQuency:CW 1 GHz", 1e9),
    (b"FREQ:CW 12345678", 12_345_678.0),
    (b"FREQ:CW 2.5E8 HZ", 2.5e8),
    (b":SOUR:FREQ 100MHZ", 100e6),
    (b"FREQ:CW 461719720.4", 461_719_720.0),
    (b"FREQ:CW 461719720.6", 461_719_721.0),
])
def test_frequency_suffixes_long_forms_and_1hz_resolution(gen, command, hz):
    assert gen.handle(command) is None
    assert gen.freq_hz == hz
    assert float(gen.handle(b"FREQ:CW?")) == hz
    assert errors(gen) == []


@pytest.mark.parametrize("command, code", [
    (b"FREQ:CW 249999", -222),
    (b"FREQ:CW 1.000000002 GHZ", -222),
    (b"FREQ:CW 10 THZ", -131),
    (b"FREQ:CW ten", -104),
    (b"FREQ:CW", -109),
])
def test_bad_frequency_sets_the_error_and_keeps_the_old_value(gen, command, code):
    gen.handle(b"FREQ:CW 461.7197 MHZ")
    assert gen.handle(command) is None
    assert gen.freq_hz == 461_719_700.0
    assert errors(gen) == [code]


def test_amplitude_in_dbm_with_limits(gen):
    gen.handle(b"POW:AMPL -20.04 DBM")
    assert gen.amplitude_dBm == -20.0
    assert float(gen.handle(b"POW:AMPL?")) == -20.0
    gen.handle(b"POW:AMPL -136")
    gen.handle(b"POW:AMPL 10 dBm")
    assert gen.amplitude_dBm == 10.0 and errors(gen) == []
    gen.handle(b"POW:AMPL -137")
    gen.handle(b"POW:AMPL 10.5")
    gen.handle(b"POW:AMPL 0 DBUV")
    assert gen.amplitude_dBm == 10.0
    assert errors(gen) == [-222, -222, -131]


@pytest.mark.parametrize("word, state", [(b"ON", True), (b"OFF", False), (b"1", True), (b"0", False),
                                         (b"on", True)])
def test_output_switch(gen, word, state):
    gen.handle(b"OUTP:STAT " + word)
    assert gen.output_on is state
    assert gen.handle(b"OUTP:STAT?") == (b"1" if state else b"0")


def test_modulation_switches(gen):
    gen.handle(b"AM:STAT ON;:FM:STAT ON;:PM:STAT ON")
    assert all(gen.modulation_on.values())
    gen.handle(b"AM:STAT OFF;:FM:STAT OFF;:PM:STAT OFF")
    assert not any(gen.modulation_on.values())
    assert gen.handle(b"FM:STAT?") == b"0"
    assert errors(gen) == []


def test_compound_commands_follow_scpi_path_rules(gen):
    gen.handle(b"FREQ:CW 2 MHZ;:POW:AMPL -30 DBM;:OUTP:STAT ON")
    assert (gen.freq_hz, gen.amplitude_dBm, gen.output_on) == (2e6, -30.0, True)
    # relative header after ';' resolves under FREQ: -> undefined, as on the instrument
    gen.handle(b"FREQ:CW 3 MHZ;POW:AMPL -10")
    assert gen.freq_hz == 3e6 and gen.amplitude_dBm == -30.0
    assert errors(gen) == [-113]


def test_several_queries_come_back_on_one_line(gen):
    gen.handle(b"FREQ:CW 5 MHZ;:POW:AMPL -7 DBM")
    reply = gen.handle(b"FREQ:CW?;:POW:AMPL?")
    freq, power = reply.split(b";")
    assert float(freq) == 5e6 and float(power) == -7.0


def test_unknown_command_sets_command_error_bit(gen):
    assert gen.handle(b"FREQ:STEP 1 HZ") is None
    assert gen.handle(b"*ESR?") == b"32"
    assert gen.handle(b"*ESR?") == b"0"
    assert errors(gen) == [-113]


def test_out_of_range_sets_execution_error_bit_and_cls_clears(gen):
    gen.handle(b"FREQ:CW 2 GHZ")
    assert int(gen.handle(b"*STB?")) & 4
    gen.handle(b"*CLS")
    assert gen.handle(b"*ESR?") == b"0"
    assert gen.handle(b"SYST:ERR?") == b'+0,"No error"'


def test_reset_and_opc(gen):
    gen.handle(b"FREQ:CW 5 MHZ;:OUTP:STAT ON")
    gen.handle(b"*RST")
    assert gen.output_on is False and gen.freq_hz == 1e9
    assert gen.handle(b"*OPC?") in (b"1", b"+1")


def test_error_queue_is_first_in_first_out(gen):
    gen.handle(b"BOGUS")
    gen.handle(b"FREQ:CW 1 HZ")
    assert errors(gen) == [-113, -222]
