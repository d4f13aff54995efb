"""CoilSet: microgauss in, ramps no faster than the rate in bounded steps, limits before sending."""

import pytest

from kmor.drivers.coils import CoilAxis, CoilSet, CurrentSourceCoilDrive, DaqCoilDrive
from kmor.drivers.errors import CoilLimitError, InstrumentError
from kmor.drivers.keithley6221 import Keithley6221
from kmor.drivers.testing import expected_protocol


class FakeClock:
    def __init__(self):
        self.now_s, self.sleeps = 0.0, []

    def sleep(self, dt_s):
        self.sleeps.append(dt_s)
        self.now_s += dt_s


class RecordingDaq:
    """DaqBoard stand-in recording (time, channel, volts) of every AO write."""

    def __init__(self, clock, fail_on=None):
        self.clock, self.fail_on, self.writes, self._ao = clock, fail_on, [], {}

    def write_ao_V(self, channel, value_V):
        if channel == self.fail_on:
            raise InstrumentError(f"{channel} broken")
        self.writes.append((self.clock.now_s, channel, value_V))
        self._ao[channel] = value_V

    def ao_V(self, channel):
        return self._ao.get(channel, 0.0)

    def read_ai_V(self, channel):
        return 0.0

    def sweep(self, ao_channel, waveform_V, ai_channels, rate_hz):
        raise NotImplementedError

    def close(self):
        pass


class FakeSource:
    def __init__(self):
        self.current_A = 0.0


def daq_coils(clock, daq, *, rate=100.0, step=10.0, max_field=800.0, max_V=5.0):
    axes = {name: CoilAxis(DaqCoilDrive(daq, f"Dev1/ao{i}"), uG_per_unit=200.0,
                           max_field_uG=max_field, max_drive=max_V)
            for i, name in enumerate(["bx", "by", "bz"])}
    return CoilSet(axes, max_ramp_rate_uG_per_s=rate, max_step_uG=step, sleep=clock.sleep)


def test_ramp_in_bounded_steps_never_faster_than_the_rate():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    coils = daq_coils(clock, daq, rate=100.0, step=10.0)
    coils.set_field_uG("bz", 45.0)
    times = [t for t, _, _ in daq.writes]
    fields = [v * 200.0 for _, _, v in daq.writes]
    assert fields == pytest.approx([9.0, 18.0, 27.0, 36.0, 45.0])
    assert times == pytest.approx([0.09, 0.18, 0.27, 0.36, 0.45])     # 45 uG at 100 uG/s
    assert coils.field_uG("bz") == pytest.approx(45.0)
    assert coils.drive("bz") == pytest.approx(0.225) and coils.drive_units("bz") == "V"
    for (t0, f0), (t1, f1) in zip([(0.0, 0.0)] + list(zip(times, fields)), zip(times, fields)):
        assert abs(f1 - f0) <= 10.0 + 1e-9
        assert abs(f1 - f0) / (t1 - t0) <= 100.0 * (1 + 1e-9)


def test_ramp_starts_from_the_present_field_read_from_the_drive():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    daq._ao["Dev1/ao2"] = 1.0                       # 200 uG already applied
    coils = daq_coils(clock, daq, step=50.0)
    coils.set_field_uG("bz", 100.0)
    assert [v * 200 for _, _, v in daq.writes] == pytest.approx([150.0, 100.0])


def test_several_axes_ramp_together_each_within_the_rate():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    coils = daq_coils(clock, daq, rate=200.0, step=20.0)
    coils.set_fields_uG({"bx": 100.0, "by": -30.0})
    assert clock.now_s == pytest.approx(0.5)        # set by the larger change
    by = [(t, v * 200) for t, ch, v in daq.writes if ch == "Dev1/ao1"]
    assert by[-1][1] == pytest.approx(-30.0) and len(by) == 5
    assert all(abs(b - a) <= 6.0 + 1e-9 for (_, a), (_, b) in zip([(0, 0.0)] + by, by))


def test_field_beyond_limit_refused_before_anything_is_sent():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    coils = daq_coils(clock, daq, max_field=800.0, max_V=10.0)
    with pytest.raises(CoilLimitError) as err:
        coils.set_field_uG("bz", -900.0)
    assert "bz" in str(err.value) and "-900" in str(err.value) and "800" in str(err.value)
    assert daq.writes == [] and clock.sleeps == []


def test_drive_beyond_voltage_limit_refused_naming_the_voltage():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    coils = daq_coils(clock, daq, max_field=2000.0, max_V=5.0)    # 200 uG/V: 1000 uG = 5 V
    coils.set_field_uG("bx", 1000.0)
    with pytest.raises(CoilLimitError) as err:
        coils.set_fields_uG({"by": 10.0, "bx": 1200.0})
    message = str(err.value)
    assert "bx" in message and "6 V" in message and "+-5 V" in message and "coil voltage" in message
    assert all(ch == "Dev1/ao0" for _, ch, _ in daq.writes)      # by was not touched either


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "10", None])
def test_non_numbers_refused(value):
    clock = FakeClock()
    coils = daq_coils(clock, RecordingDaq(clock))
    with pytest.raises(CoilLimitError):
        coils.set_field_uG("bx", value)


def test_current_source_axis_speaks_milliamps():
    clock = FakeClock()
    source = FakeSource()
    coils = CoilSet({"dbz_dz": CoilAxis(CurrentSourceCoilDrive(source), uG_per_unit=-25.0,
                                        max_field_uG=600.0, max_drive=20.0)},
                    max_ramp_rate_uG_per_s=1000.0, max_step_uG=100.0, sleep=clock.sleep)
    coils.set_field_uG("dbz_dz", 250.0)
    assert source.current_A == pytest.approx(-0.010)                # 250 / -25 uG/mA = -10 mA
    assert coils.drive("dbz_dz") == pytest.approx(-10.0) and coils.drive_units("dbz_dz") == "mA"
    assert coils.field_uG("dbz_dz") == pytest.approx(250.0)
    with pytest.raises(CoilLimitError, match=r"-22 mA, beyond the coil current limit \+-20 mA"):
        coils.set_field_uG("dbz_dz", 550.0)
    assert source.current_A == pytest.approx(-0.010)


def test_current_source_coil_sends_keithley_commands():
    clock = FakeClock()
    no_error = ("SYST:ERR?", '0,"No error"')
    script = [("*IDN?", "KEITHLEY INSTRUMENTS INC.,MODEL 6221,1,D04 "), no_error,
              ("SOUR:CURR?", "0.000000E+00"),
              ("SOUR:CURR 5.000000e-04", None), no_error,
              ("SOUR:CURR 1.000000e-03", None), no_error]
    with expected_protocol(Keithley6221, script) as source:
        coils = CoilSet({"bx": CoilAxis(CurrentSourceCoilDrive(source), uG_per_unit=100.0,
                                        max_field_uG=1000.0, max_drive=10.0)},
                        max_ramp_rate_uG_per_s=50.0, max_step_uG=50.0, sleep=clock.sleep)
        coils.set_field_uG("bx", 100.0)
    assert clock.sleeps == [1.0, 1.0]


def test_ramp_all_to_zero_continues_past_a_failing_axis_and_reports_it():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    coils = daq_coils(clock, daq, step=1000.0)
    coils.set_fields_uG({"bx": 100.0, "by": 200.0, "bz": -300.0})
    daq.fail_on = "Dev1/ao1"
    with pytest.raises(InstrumentError, match="by: Dev1/ao1 broken"):
        coils.ramp_all_to_zero()
    assert coils.field_uG("bx") == 0.0 and coils.field_uG("bz") == 0.0
    assert coils.field_uG("by") == pytest.approx(200.0)


def test_ramp_all_to_zero_at_rate():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    coils = daq_coils(clock, daq, rate=100.0, step=25.0)
    coils.set_fields_uG({"bx": 50.0, "bz": 100.0})
    start = clock.now_s
    coils.ramp_all_to_zero()
    assert clock.now_s - start == pytest.approx(1.5)        # 50 then 100 uG at 100 uG/s
    assert coils.fields_uG() == {"bx": 0.0, "by": 0.0, "bz": 0.0}


def test_unknown_axes_refused():
    clock = FakeClock()
    daq = RecordingDaq(clock)
    with pytest.raises(ValueError, match="unknown coil axes"):
        CoilSet({"bq": CoilAxis(DaqCoilDrive(daq, "Dev1/ao0"), 1.0, 1.0, 1.0)},
                max_ramp_rate_uG_per_s=1, max_step_uG=1, sleep=clock.sleep)
    coils = daq_coils(clock, daq)
    with pytest.raises(CoilLimitError, match="unknown axis 'gxy'"):
        coils.set_field_uG("gxy", 1.0)
