"""SR620 counter emulator: parsing, status bits, and the measurement on the sim clock."""

import numpy as np
import pytest

from kmor.sim.clock import SimClock
from kmor.sim.instruments import SR620Emulator

F_HZ = 461_719_720.1


def make(freq=lambda: F_HZ, ref=lambda: True, seed=1):
    clock = SimClock()
    return SR620Emulator(clock, freq, ref, np.random.default_rng(seed)), clock


def freq_setup(counter, arming=5, size=1):
    counter.handle(f"MODE 3;SRCE 0;ARMM {arming};SIZE {size};CLCK 1;AUTM 0".encode())


def test_identity_and_terminations():
    counter, _ = make()
    assert counter.handle(b"*IDN?").startswith(b"StanfordResearchSystems,SR620")
    assert counter.read_termination == "\n"


def test_measures_the_given_frequency_and_takes_gate_times_size_on_the_clock():
    counter, clock = make()
    freq_setup(counter, arming=5, size=10)
    value = float(counter.handle(b"MEAS? 0"))
    assert value == pytest.approx(F_HZ, abs=0.02)
    assert clock.now_s() == pytest.approx(10.0)
    counter.handle(b"ARMM 4;SIZE 1")
    counter.handle(b"MEAS?0")
    assert clock.now_s() == pytest.approx(10.1)


def test_multiple_queries_come_back_as_one_line_joined_by_semicolons():
    counter, _ = make()
    freq_setup(counter)
    reply = counter.handle(b"STRT;*WAI;XAVG?;XJIT?")
    assert b"\n" not in reply
    mean, jitter = (float(x) for x in reply.split(b";"))
    assert mean == pytest.approx(F_HZ, abs=0.05) and jitter == 0.0


def test_replies_use_uppercase_exponents():
    counter, _ = make()
    freq_setup(counter)
    assert b"E+08" in counter.handle(b"MEAS? 0")


def test_gate_limited_resolution_jitter_and_averaging():
    counter, _ = make()
    freq_setup(counter, arming=4, size=1000)  # 0.1 s gates
    counter.handle(b"STRT")
    jitter = float(counter.handle(b"XJIT?"))
    expected = F_HZ * 10e-12 / 0.1  # about 46 mHz per 0.1 s sample
    assert jitter == pytest.approx(expected, rel=0.1)
    low, high = float(counter.handle(b"XMIN?")), float(counter.handle(b"XMAX?"))
    assert low < F_HZ < high
    means = [float(counter.handle(b"MEAS? 0")) for _ in range(30)]
    assert np.std(means) < jitter / 10  # the mean of 1000 samples averages down


def test_one_second_gate_floor_is_a_few_millihertz():
    counter, _ = make()
    freq_setup(counter, arming=5, size=1)
    values = [float(counter.handle(b"MEAS? 0")) for _ in range(200)]
    assert 1e-3 < np.std(values) < 10e-3
    assert np.mean(values) == pytest.approx(F_HZ, abs=2e-3)


def test_missing_external_reference_sets_no_clock_bit_and_runs_on_internal_timebase():
    counter, _ = make(ref=lambda: False)
    freq_setup(counter)
    value = float(counter.handle(b"MEAS? 0"))
    assert int(counter.handle(b"ERRS?")) & 0b10
    assert abs(value - F_HZ) > 1.0  # internal oscillator off by 5e-8: about 23 Hz
    counter.handle(b"CLCK 0")
    assert counter.handle(b"ERRS?") == b"0"


def test_with_reference_no_error_bit():
    counter, _ = make()
    freq_setup(counter)
    counter.handle(b"MEAS? 0")
    assert counter.handle(b"ERRS?") == b"0"


def test_no_signal_means_no_reply_and_no_time_passes():
    counter, clock = make(freq=lambda: None)
    freq_setup(counter)
    assert counter.handle(b"MEAS? 0") is None
    assert clock.now_s() == 0.0


def test_auto_measure_reports_fresh_results_without_start():
    level = {"f": 1e6}
    counter, clock = make(freq=lambda: level["f"])
    counter.handle(b"MODE 3;ARMM 5;CLCK 1;AUTM 1")
    assert float(counter.handle(b"XAVG?")) == pytest.approx(1e6, abs=0.01)
    level["f"] = 2e6
    clock.advance(2.0)
    assert float(counter.handle(b"XAVG?")) == pytest.approx(2e6, abs=0.01)
    assert clock.now_s() == 2.0


def test_period_mode_returns_inverse_frequency():
    counter, _ = make(freq=lambda: 1e6)
    counter.handle(b"MODE 4;ARMM 5;SIZE 1;CLCK 1;AUTM 0")
    assert float(counter.handle(b"MEAS? 0")) == pytest.approx(1e-6, rel=1e-9)


def test_parsing_is_case_and_space_insensitive():
    counter, _ = make()
    counter.handle(b"mode3; armm 5 ;size 2")
    assert (counter.mode, counter.arming_mode, counter.size) == (3, 5, 2)
    assert counter.handle(b"MODE?") == b"3"
    assert counter.handle(b"size?") == b"2"


def test_errors_set_esr_bits_and_keep_settings():
    counter, _ = make()
    counter.handle(b"MODE 3")
    counter.handle(b"MODE 9")
    assert counter.mode == 3
    assert counter.handle(b"*ESR?") == b"16"
    counter.handle(b"FOOO 1")
    assert counter.handle(b"*ESR? 5") == b"1"
    assert counter.handle(b"*ESR?") == b"0"


def test_size_rounds_to_the_1_2_5_sequence_and_gate_range():
    counter, _ = make()
    counter.handle(b"SIZE 7")
    assert counter.size == 5
    counter.handle(b"SIZE 2E6")
    assert counter.size == 5 and counter.handle(b"*ESR?") == b"16"
    counter.handle(b"GATE 0.0001")
    assert counter.handle(b"*ESR?") == b"16"
    counter.handle(b"GATE -0.5")
    assert counter.gate_s == -0.5


def test_setup_dump_reflects_settings():
    counter, _ = make()
    counter.handle(b"MODE 3;SRCE 1;ARMM 5;SIZE 100;CLCK 1")
    fields = [int(x) for x in counter.handle(b"STUP?").split(b",")]
    assert fields[:3] == [3, 1, 5]
    assert fields[7] & (1 << 6)
