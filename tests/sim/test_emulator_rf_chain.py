"""The generator's frequency wired into the counter: set on one with bytes, read on the other."""

import numpy as np
import pytest

from kmor.sim.clock import SimClock
from kmor.sim.instruments import HP8647AEmulator, SR620Emulator


def chain():
    clock = SimClock()
    gen = HP8647AEmulator()
    counter = SR620Emulator(clock, lambda: gen.freq_hz if gen.output_on else None, lambda: True,
                            np.random.default_rng(3))
    return gen, counter, clock


def test_counter_reads_the_frequency_set_on_the_generator():
    gen, counter, clock = chain()
    assert gen.handle(b"FREQ:CW 461.7197 MHZ;:OUTP:STAT ON") is None
    counter.handle(b"MODE 3;SRCE 0;ARMM 5;SIZE 1;CLCK 1;AUTM 0")
    assert float(counter.handle(b"MEAS? 0")) == pytest.approx(461_719_700.0, abs=0.02)
    gen.handle(b"FREQ:CW 461719721")  # one 1 Hz step, as in the seed's scans
    assert float(counter.handle(b"MEAS? 0")) == pytest.approx(461_719_721.0, abs=0.02)
    assert clock.now_s() == pytest.approx(2.0)


def test_generator_off_means_no_count():
    gen, counter, _ = chain()
    gen.handle(b"FREQ:CW 461.7197 MHZ")
    counter.handle(b"MODE 3;ARMM 5;CLCK 1;AUTM 0")
    assert counter.handle(b"MEAS? 0") is None
