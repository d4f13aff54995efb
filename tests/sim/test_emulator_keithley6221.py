"""Keithley 6221 current source emulator."""

import pytest

from kmor.sim.instruments import Keithley6221Emulator


@pytest.fixture
def src():
    return Keithley6221Emulator()


def first_error(src):
    return src.handle(b"SYST:ERR?")


def test_identity_keeps_its_trailing_spaces(src):
    assert src.handle(b"*IDN?") == b"KEITHLEY INSTRUMENTS INC.,MODEL 6221,4559777,D04  /700x "


def test_current_flows_only_with_output_on(src):
    src.handle(b"SOUR:CURR 0.01")
    assert float(src.handle(b"SOUR:CURR?")) == pytest.approx(0.01)
    assert src.output_current_A == 0.0
    src.handle(b"OUTP 1")
    assert src.handle(b"OUTP?") == b"1"
    assert src.output_current_A == pytest.approx(0.01)
    src.handle(b"SOUR:CLE")
    assert src.handle(b"OUTP?") == b"0" and src.output_current_A == 0.0
    assert first_error(src) == b'0,"No error"'


@pytest.mark.parametrize("command, amps", [(b"CURR 5 MA", 0.005), (b"SOURce:CURRent:LEVel -0.105", -0.105),
                                           (b"sour1:curr 2E-6", 2e-6)])
def test_current_forms(src, command, amps):
    src.handle(command)
    assert src.current_setpoint_A == pytest.approx(amps)
    assert first_error(src) == b'0,"No error"'


def test_current_limit_is_105_mA(src):
    src.handle(b"SOUR:CURR 0.02")
    src.handle(b"SOUR:CURR 0.106")
    assert src.current_setpoint_A == pytest.approx(0.02)
    assert first_error(src) == b'-222,"Data out of range"'


def test_compliance_limits_current_into_a_load():
    src = Keithley6221Emulator(load_ohm=100.0)
    src.handle(b"SOUR:CURR:COMP 5;:SOUR:CURR 0.1;:OUTP 1")
    assert float(src.handle(b"SOUR:CURR:COMP?")) == 5.0
    assert src.output_current_A == pytest.approx(0.05)
    assert src.in_compliance


def test_fixed_range_rejects_larger_currents(src):
    src.handle(b"SOUR:CURR 0.001")
    src.handle(b"SOUR:CURR:RANG 2e-3")
    assert src.handle(b"SOUR:CURR:RANG:AUTO?") == b"0"
    src.handle(b"SOUR:CURR 0.01")
    assert src.current_setpoint_A == pytest.approx(0.001)
    assert first_error(src).startswith(b"-222")
    src.handle(b"SOUR:CURR:RANG:AUTO 1;:SOUR:CURR 0.01")
    assert src.current_setpoint_A == pytest.approx(0.01)
    assert float(src.handle(b"SOUR:CURR:RANG?")) == pytest.approx(0.02)


def test_range_below_the_present_current_is_a_settings_conflict(src):
    src.handle(b"SOUR:CURR 0.01")
    src.handle(b"SOUR:CURR:RANG 2e-3")
    assert first_error(src).startswith(b"-221")


def test_reset_turns_output_off_and_zeroes_current(src):
    src.handle(b"SOUR:CURR 0.05;:OUTP ON")
    src.handle(b"*RST")
    assert src.output_current_A == 0.0 and src.current_setpoint_A == 0.0


def test_unknown_command_is_queued(src):
    assert src.handle(b"SOUR:VOLT 1") is None
    assert first_error(src) == b'-113,"Undefined header"'


# --- status system (Model 622x manual section 11) --------------------------------------------------
def errors_of(src):
    """Every queued error code, oldest first (drains the queue)."""
    codes = []
    while (reply := first_error(src)) != b'0,"No error"':
        codes.append(int(reply.split(b",")[0]))
    return codes


def test_pymeasures_reset_line_leaves_no_error(src):
    src.handle(b"STAT:MEAS:ENAB 512;:SOUR:CURR 0.01;:FOO")
    assert src.handle(b"status:queue:clear;*RST;:stat:pres;:*CLS;") is None
    assert errors_of(src) == []
    assert src.handle(b"STAT:MEAS:ENAB?") == b"0" and src.current_setpoint_A == 0.0


@pytest.mark.parametrize("register", [b"MEAS", b"QUES", b"OPER", b"MEASurement", b"questionable", b"OPERation"])
def test_enable_registers_set_read_and_preset(src, register):
    src.handle(b":STAT:" + register + b":ENAB 4660")
    assert src.handle(b":STAT:" + register + b":ENAB?") == b"4660"
    assert src.handle(b":STAT:" + register + b"?") == b"0"
    assert src.handle(b":STAT:" + register + b":EVEN?") == b"0"
    assert src.handle(b":STAT:" + register + b":COND?") == b"0"
    src.handle(b":STAT:PRES")
    assert src.handle(b":STAT:" + register + b":ENAB?") == b"0"
    assert errors_of(src) == []


@pytest.mark.parametrize("command, code", [
    (b"STAT:OPER:ENAB 65536", -222), (b"STAT:QUES:ENAB -1", -222), (b"STAT:MEAS:ENAB abc", -104),
    (b"STAT:MEAS:ENAB", -109), (b"*ESE 256", -222), (b"*SRE 300", -222), (b"STAT:PRES 1", -108),
    (b"STAT:MEAS:COND 1", -113), (b"ESE 4", -113), (b"ESE?", -113),
])
def test_bad_status_arguments(src, command, code):
    assert src.handle(command) is None
    assert errors_of(src) == [code]


def test_status_byte_summarises_queue_events_and_service_request(src):
    assert src.handle(b"*STB?") == b"0"
    src.handle(b"FOO")                       # command error: ESR bit 5, error queue not empty
    assert src.handle(b"*STB?") == b"4"      # EAV only: *ESE is 0
    src.handle(b"*ESE 32")
    assert src.handle(b"*ESE?") == b"32" and src.handle(b"*STB?") == b"36"
    src.handle(b"*SRE 32")
    assert src.handle(b"*SRE?") == b"32" and src.handle(b"*STB?") == b"100"   # + MSS (64)
    src.handle(b"*CLS")
    assert src.handle(b"*STB?") == b"0" and src.handle(b"*ESE?") == b"32"      # enables survive *CLS
    assert src.handle(b"*ESR?") == b"0"


def test_error_queue_forms(src):
    src.handle(b"FOO;SOUR:CURR 1")
    assert src.handle(b"SYST:ERR:COUN?") == b"2"
    assert src.handle(b"SYST:ERR:CODE?") == b"-113"
    assert src.handle(b"SYST:ERR:NEXT?") == b'-222,"Data out of range"'
    src.handle(b"FOO;SOUR:CURR 1")
    assert src.handle(b"SYST:ERR:ALL?") == b'-113,"Undefined header",-222,"Data out of range"'
    assert src.handle(b"SYST:ERR:ALL?") == b'0,"No error"'
    src.handle(b"FOO;SOUR:CURR 1")
    assert src.handle(b"SYST:ERR:CODE:ALL?") == b"-113,-222"
    src.handle(b"FOO")
    assert src.handle(b"STAT:QUE?") == b'-113,"Undefined header"'
    src.handle(b"FOO")
    src.handle(b"SYST:ERR:CLE")
    src.handle(b"FOO")
    src.handle(b"STAT:QUE:CLE")
    assert src.handle(b"SYST:ERR:COUN?") == b"0"
    assert int(src.handle(b"*ESR?")) & 32     # clearing the queue leaves the event register


# --- source delay, output, display, beeper, identity ---------------------------------------------------
@pytest.mark.parametrize("command, query, reply", [
    (b"SOUR:DEL 0.5", b"SOUR:DEL?", b"5.000000E-01"),
    (b"SOURce:DELay 20 MS", b":SOUR:DEL?", b"2.000000E-02"),
    (b"OUTP:LTE ON", b"OUTP:LTE?", b"1"),
    (b"OUTPut:LTEarth 0", b"OUTP:LTE?", b"0"),
    (b":OUTP:ISH GUARD", b":OUTP:ISH?", b"GUAR"),
    (b":OUTPut:ISHield olow", b":OUTP:ISH?", b"OLOW"),
    (b":DISP:ENAB 0", b":DISP:ENAB?", b"0"),
    (b'DISP:TEXT "COIL BZ"', b"DISP:TEXT?", b'"COIL BZ"'),
    (b"DISP:WIND1:TEXT:STAT 1", b"DISP:TEXT:STAT?", b"1"),
    (b"SYST:BEEP:STAT OFF", b"SYST:BEEP:STAT?", b"0"),
])
def test_settings_read_back(src, command, query, reply):
    assert src.handle(command) is None
    assert src.handle(query) == reply
    assert errors_of(src) == []


@pytest.mark.parametrize("command, code", [
    (b"SOUR:DEL 0", -222), (b"SOUR:DEL 1E6", -222), (b"SOUR:DEL 1 V", -131),
    (b"OUTP:ISH FLOAT", -224), (b"OUTP:LTE MAYBE", -104),
    (b"DISP:TEXT HELLO", -151), (b'DISP:TEXT "123456789012345678901"', -223),
    (b"SYST:BEEP 10, 0.5", -222), (b"SYST:BEEP 1000, 8", -222), (b"SYST:BEEP 1000", -109),
    (b"SYST:BEEP 1000, 1, 2", -108), (b"*TRG", -211), (b"*OPT 1", -113),
])
def test_bad_arguments_are_queued_with_their_scpi_code(src, command, code):
    assert src.handle(command) is None
    assert errors_of(src) == [code]


def test_beeper_and_options(src):
    src.handle(b":SYST:BEEP 1000, 0.1")
    assert src.beeps == [(1000.0, 0.1)]
    src.handle(b":SYST:BEEP:STAT 0;:SYST:BEEP 2000, 0.1")
    assert src.beeps == [(1000.0, 0.1)]
    assert src.handle(b"*OPT?") == b"0"
    assert src.handle(b"SYST:VERS?") == b"1999.0"


# --- AC waveform on the sim clock ------------------------------------------------------------------
@pytest.fixture
def clocked():
    from kmor.sim.clock import SimClock

    return Keithley6221Emulator(clock=SimClock())


def test_sine_waveform_follows_the_clock(clocked):
    clocked.handle(b"SOUR:WAVE:FUNC SIN;FREQ 1000;AMPL 0.01;OFFS 0.002;DUR:TIME 0.01")
    assert errors_of(clocked) == []
    clocked.handle(b"SOUR:WAVE:ARM")
    assert clocked.output_on and clocked.output_current_A == pytest.approx(0.0)   # armed: the dc level
    clocked.handle(b"SOUR:WAVE:INIT")
    clocked.clock.advance(0.25e-3)
    assert clocked.output_current_A == pytest.approx(0.012)
    clocked.clock.advance(0.5e-3)
    assert clocked.output_current_A == pytest.approx(-0.008)
    clocked.clock.advance(0.01)                                               # past the duration
    assert clocked.output_current_A == pytest.approx(0.0)
    assert errors_of(clocked) == []


def test_square_and_arbitrary_waveforms(clocked):
    clocked.handle(b"SOUR:WAVE:FUNC SQU;DCYC 25;FREQ 100;AMPL 0.001;:SOUR:WAVE:ARM;INIT")
    clocked.clock.advance(0.002)
    assert clocked.output_current_A == pytest.approx(0.001)
    clocked.clock.advance(0.004)
    assert clocked.output_current_A == pytest.approx(-0.001)
    clocked.handle(b"SOUR:WAVE:ABOR")
    clocked.handle(b"SOUR:WAVE:ARB:DATA 0, 0.5, 1, -1;:SOUR:WAVE:ARB:COPY 3;:SOUR:WAVE:FUNC ARB3")
    assert clocked.handle(b"SOUR:WAVE:FUNC?") == b"ARB3"
    clocked.handle(b"SOUR:WAVE:FREQ 1;AMPL 0.01;OFFS 0;:SOUR:WAVE:ARM;INIT")
    clocked.clock.advance(0.6)
    assert clocked.output_current_A == pytest.approx(0.01)
    assert errors_of(clocked) == []


@pytest.mark.parametrize("setting, query, reply", [
    (b"SOUR:WAVE:FUNC RAMP", b"SOUR:WAVE:FUNC?", b"RAMP"),
    (b"SOUR:WAVE:FREQ 347", b"SOUR:WAVE:FREQ?", b"3.470000E+02"),
    (b"SOUR:WAVE:AMPL 5 MA", b"SOUR:WAVE:AMPL?", b"5.000000E-03"),
    (b"SOUR:WAVE:DUR:TIME INF", b"SOUR:WAVE:DUR:TIME?", b"9.900000E+37"),
    (b"SOUR:WAVE:DUR:CYCL 100", b"SOUR:WAVE:DUR:TIME?", b"1.000000E-01"),
    (b"SOUR:WAVE:RANG FIX", b"SOUR:WAVE:RANG?", b"FIX"),
    (b"SOUR:WAVE:PMAR:STAT ON", b"SOUR:WAVE:PMAR:STAT?", b"1"),
    (b"SOUR:WAVE:PMAR -90", b"SOUR:WAVE:PMAR?", b"-9.000000E+01"),
    (b"SOUR:WAVE:PMAR:OLIN 6", b"SOUR:WAVE:PMAR:OLIN?", b"6"),
])
def test_waveform_settings_read_back(src, setting, query, reply):
    src.handle(setting)
    assert src.handle(query) == reply
    assert errors_of(src) == []


@pytest.mark.parametrize("command, code", [
    (b"SOUR:WAVE:FUNC TRI", -224), (b"SOUR:WAVE:FREQ 2E5", -222), (b"SOUR:WAVE:FREQ 1E-4", -222),
    (b"SOUR:WAVE:AMPL 0.2", -222), (b"SOUR:WAVE:OFFS -0.2", -222), (b"SOUR:WAVE:DCYC 101", -222),
    (b"SOUR:WAVE:PMAR 181", -222), (b"SOUR:WAVE:PMAR:OLIN 7", -222), (b"SOUR:WAVE:ARB:DATA 0, 1.5", -222),
    (b"SOUR:WAVE:ARB:COPY 5", -222), (b"SOUR:WAVE:INIT", -221), (b"SOUR:WAVE:FOO 1", -113),
    (b"SOUR:WAVE:AMPL 0.1;OFFS 0.01;:SOUR:WAVE:ARM", -221),
])
def test_bad_waveform_commands(src, command, code):
    src.handle(command)
    assert errors_of(src) == [code]


# --- sweeps ------------------------------------------------------------------------------------------
def test_linear_staircase_sweep_steps_every_source_delay(clocked):
    clocked.handle(b"SOUR:CURR 0.005;:SOUR:DEL 0.1;:SOUR:SWE:SPAC LIN;:SOUR:CURR:STAR 0;STOP 3E-3;STEP 1E-3")
    clocked.handle(b"SOUR:SWE:COUN 2;:SOUR:SWE:ARM;:INIT")
    clocked.clock.advance(0.05)                       # sample in the middle of each level
    seen = []
    for _ in range(10):
        seen.append(round(clocked.output_current_A * 1e3, 6))
        clocked.clock.advance(0.1)
    assert seen == [0, 1, 2, 3, 0, 1, 2, 3, 5, 5]     # two sweeps of 0..3 mA, then the dc level
    assert errors_of(clocked) == []


def test_log_and_list_sweeps(clocked):
    clocked.handle(b"SOUR:DEL 1;:SOUR:SWE:SPAC LOG;POIN 3;:SOUR:CURR:STAR 1E-4;STOP 1E-2;:SOUR:SWE:ARM;:INIT")
    assert [clocked.output_current_A] == [pytest.approx(1e-4)]
    clocked.clock.advance(1.0)
    assert clocked.output_current_A == pytest.approx(1e-3)
    clocked.handle(b"SOUR:SWE:ABOR;:SOUR:SWE:SPAC LIST;:SOUR:LIST:CURR 1E-3, -2E-3")
    assert clocked.handle(b"SOUR:LIST:CURR:POIN?") == b"2"
    clocked.handle(b"SOUR:SWE:ARM;:INIT")
    clocked.clock.advance(1.5)
    assert clocked.output_current_A == pytest.approx(-2e-3)
    assert errors_of(clocked) == []


@pytest.mark.parametrize("command, code", [
    (b"SOUR:SWE:SPAC LOG;:SOUR:CURR:STAR 0;STOP 1E-3;:SOUR:SWE:ARM", -221),
    (b"SOUR:SWE:SPAC LIN;:SOUR:CURR:STAR 0;STOP 1E-3;STEP 0;:SOUR:SWE:ARM", -221),
    (b"SOUR:SWE:SPAC SPIRAL", -224), (b"SOUR:SWE:COUN 0", -222), (b"SOUR:CURR:STOP 0.2", -222),
    (b"SOUR:LIST:CURR 1E-3, 0.5", -222), (b"INIT", -221),
])
def test_bad_sweep_commands(src, command, code):
    src.handle(command)
    assert errors_of(src) == [code]


# --- delta mode and buffer: no 2182A in the simulated lab --------------------------------------------
@pytest.mark.parametrize("setting, query, reply", [
    (b"SOUR:DELT:HIGH 2E-3", b"SOUR:DELT:LOW?", b"-2.000000E-03"),
    (b"SOUR:DELT:LOW -1E-3", b"SOUR:DELT:LOW?", b"-1.000000E-03"),
    (b"SOUR:DELT:DEL 0.01", b"SOUR:DELT:DEL?", b"1.000000E-02"),
    (b"SOUR:DELT:COUN INF", b"SOUR:DELT:COUN?", b"9.900000E+37"),
    (b"SOUR:DELT:COUN 10", b"SOUR:DELT:COUN?", b"1.000000E+01"),
    (b"SOUR:DELT:CAB ON", b"SOUR:DELT:CAB?", b"1"),
    (b"SOUR:DELT:CSW 1", b"SOUR:DELT:CSW?", b"1"),
    (b"UNIT:VOLT:DC OHMS", b"UNIT:VOLT:DC?", b"OHMS"),
    (b"UNIT:VOLT SIEMENS", b"UNIT:VOLT?", b"SIEM"),
    (b"TRAC:POIN 100", b"TRAC:POIN?", b"100"),
    (b"TRAC:FEED SENSE", b"TRAC:FEED?", b"SENS1"),
    (b"TRAC:FEED:CONT NEXT", b"TRAC:FEED:CONT?", b"NEXT"),
    (b"FORM:DATA ASCII", b"FORM:DATA?", b"ASC"),
    (b"ARM:SOUR TIM", b"ARM:SOUR?", b"TIM"),
    (b"ARM:TIM 0.5", b"ARM:TIM?", b"5.000000E-01"),
    (b"ARM:ILIN 2", b"ARM:ILIN?", b"2"),
    (b"TRIG:SOUR TLIN", b"TRIG:SOUR?", b"TLIN"),
    (b"TRIG:OUTP DEL", b"TRIG:OUTP?", b"DEL"),
    (b"TRIG:OLIN 3", b"TRIG:OLIN?", b"3"),
])
def test_delta_buffer_and_trigger_settings_read_back(src, setting, query, reply):
    src.handle(setting)
    assert src.handle(query) == reply
    assert errors_of(src) == []


def test_delta_needs_a_2182a_the_lab_does_not_have(src):
    assert src.handle(b"SOUR:DELT:NVPR?") == b"0"
    src.handle(b"SOUR:DELT:ARM")
    assert errors_of(src) == [-241]                  # Hardware missing
    assert src.handle(b"SENS:DATA?") is None
    assert errors_of(src) == [-221]                  # no delta test running
    assert src.handle(b"TRAC:DATA?") is None
    assert src.handle(b"TRAC:POIN:ACT?") == b"0"
    assert errors_of(src) == [-230]                  # an empty buffer
    src.handle(b"SOUR:SWE:ABOR;:TRAC:CLE")
    assert errors_of(src) == []


@pytest.mark.parametrize("command, code", [
    (b"SOUR:DELT:HIGH 0.2", -222), (b"SOUR:DELT:HIGH -1E-3", -222), (b"SOUR:DELT:LOW 1E-3", -222),
    (b"SOUR:DELT:COUN 0", -222), (b"SOUR:DELT:DEL 1E4", -222), (b"UNIT:VOLT:DC AMPS", -224),
    (b"TRAC:POIN 70000", -222), (b"TRAC:FEED:CONT ALWAYS", -224), (b"FORM:DATA HEX", -224),
    (b"ARM:SOUR NOW", -224), (b"TRIG:SOUR BUS", -224), (b"TRIG:ILIN 7", -222), (b"ARM:TIM 0", -222),
])
def test_bad_delta_buffer_and_trigger_arguments(src, command, code):
    src.handle(command)
    assert errors_of(src) == [code]


def test_compliance_sets_measurement_bit_3_and_its_summary():
    src = Keithley6221Emulator(load_ohm=100.0)
    src.handle(b"STAT:MEAS:ENAB 8;:*SRE 1;:SOUR:CURR:COMP 1;:SOUR:CURR 0.005;:OUTP 1")
    assert src.handle(b"STAT:MEAS:COND?") == b"0"           # 0.5 V across 100 ohm: not in compliance
    src.handle(b"SOUR:CURR 0.02")                           # 2 V needed, 1 V allowed
    assert src.output_current_A == pytest.approx(0.01)
    assert src.handle(b"STAT:MEAS:COND?") == b"8"
    assert src.handle(b"*STB?") == b"65"                     # MSB and, through *SRE 1, MSS
    assert src.handle(b"STAT:MEAS?") == b"8" and src.handle(b"STAT:MEAS?") == b"0"
    src.handle(b"OUTP 0")
    assert src.handle(b"STAT:MEAS:COND?") == b"0" and src.handle(b"*STB?") == b"0"


def test_a_running_sweep_keeps_the_levels_it_was_armed_with(clocked):
    clocked.handle(b"SOUR:DEL 1;:SOUR:SWE:SPAC LOG;POIN 3;:SOUR:CURR:STAR 1E-4;STOP 1E-2;:SOUR:SWE:ARM;:INIT")
    clocked.handle(b"SOUR:CURR:STAR 0;:SOUR:DEL 0.001")        # no valid log sweep any more
    clocked.clock.advance(2.5)
    assert clocked.output_current_A == pytest.approx(1e-2)
    assert errors_of(clocked) == []
    clocked.handle(b"SOUR:SWE:ARM")
    assert errors_of(clocked) == [-221]
