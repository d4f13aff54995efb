"""Invariants over many values: table snapping and coil ramps."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from kmor.drivers.coils import CoilAxis, CoilSet, DaqCoilDrive
from kmor.drivers.sr830 import SENSITIVITIES_V, TIME_CONSTANTS_S
from kmor.drivers.settings import NearestInTable


@given(st.sampled_from([SENSITIVITIES_V, TIME_CONSTANTS_S]), st.floats(0.0, 1.0))
def test_snapped_value_is_a_table_entry_no_other_entry_is_closer(table, position):
    lo, hi = math.log(table[0]), math.log(table[-1])
    value = math.exp(lo + position * (hi - lo))
    snapped = NearestInTable(table).check(value, None)
    assert snapped in table
    distance = abs(math.log(snapped / value))
    assert all(abs(math.log(t / value)) >= distance - 1e-12 for t in table)


class _Daq:
    def __init__(self, clock):
        self.clock, self.values, self.log = clock, {}, []

    def write_ao_V(self, channel, value_V):
        self.values[channel] = value_V
        self.log.append((self.clock[0], value_V))

    def ao_V(self, channel):
        return self.values.get(channel, 0.0)


@settings(max_examples=200)
@given(start=st.floats(-800, 800), target=st.floats(-800, 800), rate=st.floats(1, 5000),
       step=st.floats(0.5, 200), calibration=st.sampled_from([-150.0, 80.0, 1000.0]))
def test_ramps_never_exceed_step_or_rate_and_end_on_target(start, target, rate, step,
                                                           calibration):
    clock = [0.0]

    def sleep(dt_s):
        clock[0] += dt_s

    daq = _Daq(clock)
    daq.values["Dev1/ao0"] = start / calibration
    coils = CoilSet({"bz": CoilAxis(DaqCoilDrive(daq, "Dev1/ao0"), calibration, 1000.0, 10.0)},
                    max_ramp_rate_uG_per_s=rate, max_step_uG=step, sleep=sleep)
    coils.set_field_uG("bz", target)
    assert math.isclose(coils.field_uG("bz"), target, abs_tol=1e-9)
    previous_f = start
    for t, volts in daq.log:
        field = volts * calibration
        assert abs(field - previous_f) <= step * (1 + 1e-9) + 1e-9
        assert abs(field - start) <= rate * t * (1 + 1e-9) + 1e-9
        previous_f = field
