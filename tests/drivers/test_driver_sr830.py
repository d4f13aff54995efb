"""SR830: OUTX first, value->code tables at their edges, SNAP?, LIAS? decoding, settle time."""

import math

import pytest

from kmor.drivers.errors import InstrumentReplyError, InstrumentStatusError, SettingOutOfRange
from kmor.drivers.sr830 import SR830, settle_time_s_for
from kmor.drivers.testing import expected_protocol

IDN = "Stanford_Research_Systems,SR830,s/n12345,ver1.07"
OK = ("*ESR?;ERRS?", ["0", "0"])          # the SR830 answers a joined query with a line per answer
CONNECT = [("OUTX 1", None), ("*IDN?", IDN), OK]


def test_outx_is_the_first_thing_sent():
    with expected_protocol(SR830, CONNECT) as lockin:
        assert lockin.fake.written[0] == "OUTX 1"
    with expected_protocol(SR830, [("OUTX 0", None), ("*IDN?", IDN), OK],
                           interface="rs232") as lockin:
        assert lockin.fake.write_termination == "\r"


@pytest.mark.parametrize("value_V, code", [
    (2e-9, 0), (2e-9 * (1 + 1e-9), 0), (5e-9, 1), (1e-6, 8), (1e-3, 17), (3.2e-3, 19),
    (math.sqrt(2e-3 * 5e-3), 19),          # tie on the log scale goes to the larger range
    (2.9e-3, 18), (0.5, 25), (1.0, 26), (1.0 * (1 + 1e-9), 26)])
def test_sensitivity_by_value_maps_to_nearest_code(value_V, code):
    with expected_protocol(SR830, CONNECT + [(f"SENS {code}", None), OK]) as lockin:
        lockin.sensitivity_V = value_V


@pytest.mark.parametrize("value_V", [1.9e-9, 1e-12, 1.01, 2.0, 0.0, -1e-3])
def test_sensitivity_outside_table_refused_before_sending(value_V):
    with expected_protocol(SR830, CONNECT) as lockin:
        with pytest.raises(SettingOutOfRange) as err:
            lockin.sensitivity_V = value_V
        assert lockin.fake.written == ["OUTX 1", "*IDN?", "*ESR?;ERRS?"]
    assert "sensitivity_V" in str(err.value) and "2e-09 .. 1 V" in str(err.value)


@pytest.mark.parametrize("value_s, code", [(10e-6, 0), (30e-6, 1), (0.1, 8), (0.2, 9), (1, 10),
                                           (3, 11), (30e3, 19)])
def test_time_constant_by_value_maps_to_nearest_code(value_s, code):
    with expected_protocol(SR830, CONNECT + [(f"OFLT {code}", None), OK]) as lockin:
        lockin.time_constant_s = value_s


@pytest.mark.parametrize("value_s", [9e-6, 31e3, 1e5])
def test_time_constant_outside_table_refused(value_s):
    with expected_protocol(SR830, CONNECT) as lockin:
        with pytest.raises(SettingOutOfRange, match="time_constant_s"):
            lockin.time_constant_s = value_s


def test_codes_read_back_as_values_and_unknown_codes_refused():
    with expected_protocol(SR830, CONNECT + [("SENS?", "17"), ("OFLT?", "19"), ("SENS?", "27")]) \
            as lockin:
        assert lockin.sensitivity_V == 1e-3
        assert lockin.time_constant_s == 30e3
        with pytest.raises(InstrumentReplyError, match="SENS?"):
            lockin.sensitivity_V


def test_reference_harmonic_slope_reserve_input_phase_commands():
    script = list(CONNECT)
    sets = [("HARM 2", lambda l: setattr(l, "harmonic", 2)),
            ("FMOD 0", lambda l: setattr(l, "reference_source", "external")),
            ("FREQ 1000.0000", lambda l: setattr(l, "reference_freq_hz", 1000)),
            ("OFSL 3", lambda l: setattr(l, "filter_slope_dB_per_oct", 24)),
            ("RMOD 2", lambda l: setattr(l, "reserve", "low_noise")),
            ("ISRC 1", lambda l: setattr(l, "input_source", "A-B")),
            ("PHAS -45.50", lambda l: setattr(l, "phase_deg", -45.5))]
    for command, _ in sets:
        script += [(command, None), OK]
    with expected_protocol(SR830, script) as lockin:
        for _, action in sets:
            action(lockin)


@pytest.mark.parametrize("name, value", [("harmonic", 0), ("harmonic", 20000), ("harmonic", 1.5),
                                         ("filter_slope_dB_per_oct", 30), ("phase_deg", 730),
                                         ("reference_freq_hz", 2e5)])
def test_other_settings_refused_outside_manual_ranges(name, value):
    with expected_protocol(SR830, CONNECT) as lockin:
        with pytest.raises(SettingOutOfRange, match=name):
            setattr(lockin, name, value)


def test_outputs_and_snap_of_several_outputs_at_one_instant():
    script = CONNECT + [("OUTP? 1", "-1.2345e-04"), ("SNAP? 1,2,9", "1.5e-3,-2.5e-4,1000.02")]
    with expected_protocol(SR830, script) as lockin:
        assert lockin.x_V == -1.2345e-4
        assert lockin.snap("x_V", "y_V", "ref_freq_hz") == {
            "x_V": 1.5e-3, "y_V": -2.5e-4, "ref_freq_hz": 1000.02}


SEVEN = ("x_V", "y_V", "r_V", "theta_deg", "aux1_V", "aux2_V", "aux3_V")


@pytest.mark.parametrize("names", [("x_V",), ("x_V", "volts"), ("x_V", "x_V"), SEVEN])
def test_snap_with_bad_names_refused_before_sending(names):
    with expected_protocol(SR830, CONNECT) as lockin:
        with pytest.raises(SettingOutOfRange):
            lockin.snap(*names)
        assert len(lockin.fake.written) == 3


def test_snap_reply_with_wrong_count_is_a_reply_error():
    with expected_protocol(SR830, CONNECT + [("SNAP? 1,2", "1.5e-3")]) as lockin:
        with pytest.raises(InstrumentReplyError, match="SNAP"):
            lockin.snap("x_V", "y_V")


def test_aux_outputs_and_inputs():
    script = CONNECT + [("AUXV 1,2.500", None), OK, ("AUXV? 1", "2.500"), ("OAUX? 3", "-0.125")]
    with expected_protocol(SR830, script) as lockin:
        lockin.set_aux_out_V(1, 2.5)
        assert lockin.aux_out_V(1) == 2.5
        assert lockin.aux_in_V(3) == -0.125
        with pytest.raises(SettingOutOfRange, match="10.5"):
            lockin.set_aux_out_V(2, 11.0)
        with pytest.raises(SettingOutOfRange, match="aux channel"):
            lockin.set_aux_out_V(5, 1.0)


def test_status_decodes_lias_bits():
    with expected_protocol(SR830, CONNECT + [("LIAS?", "9"), ("LIAS?", "0")]) as lockin:
        status = lockin.status()
        assert status.input_overload and status.reference_unlock and status.overloaded
        assert not status.filter_overload and not status.output_overload
        assert not lockin.status().overloaded


def test_command_error_after_setting_raises_with_command_and_status():
    with expected_protocol(SR830, CONNECT + [("HARM 3", None), ("*ESR?;ERRS?", ["32", "0"])]) \
            as lockin:
        with pytest.raises(InstrumentStatusError) as err:
            lockin.harmonic = 3
    assert "HARM 3" in str(err.value) and "command error" in str(err.value)


def test_settle_time_from_present_time_constant_and_slope():
    script = CONNECT + [("OFLT?", "10"), ("OFSL?", "3"), ("OFLT?", "8"), ("OFSL?", "0")]
    with expected_protocol(SR830, script) as lockin:
        assert lockin.settle_time_s() == pytest.approx(10.05, abs=0.01)    # 1 s, 24 dB/oct
        assert lockin.settle_time_s() == pytest.approx(0.4605, abs=1e-3)   # 100 ms, 6 dB/oct


def test_settle_time_factors_are_the_multi_pole_step_responses():
    factors = [settle_time_s_for(1.0, slope) for slope in (6, 12, 18, 24)]
    assert factors == pytest.approx([4.61, 6.64, 8.41, 10.05], abs=0.01)
    # a 6 dB/oct filter reaches 1 - exp(-t/tau): check the definition, not just the numbers
    assert 1 - math.exp(-settle_time_s_for(0.3, 6, 0.9) / 0.3) == pytest.approx(0.9)
    with pytest.raises(ValueError):
        settle_time_s_for(1.0, 9)
