"""No input makes an emulator raise: bad bytes set error flags, like on the instrument."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kmor.sim.clock import SimClock
from kmor.sim.instruments import (
    HP8647AEmulator,
    Keithley6221Emulator,
    SR620Emulator,
    SR830Emulator,
    TLB6300Emulator,
)


def all_emulators():
    clock = SimClock()
    rng = np.random.default_rng(0)
    return [HP8647AEmulator(), Keithley6221Emulator(load_ohm=10.0),
            SR620Emulator(clock, lambda: 1e7, lambda: False, rng),
            SR830Emulator(clock, lambda h: 1e-3 + 0j, lambda: 1e-8, rng),
            TLB6300Emulator(clock, power_factor=lambda mA: 1.0)]


EMULATORS = all_emulators()
WORDS = ["FREQ", ":CW", "POW", "AMPL", "OUTP", "STAT", "SOUR", "CURR", "COMP", "RANG", "AUTO", "SENS",
         "OFLT", "SNAP?", "OUTP?", "MEAS?", "XAVG?", "WAVE", "VOLT", "*IDN?", "*RST", "?", ";", ":", ",",
         " ", "1", "-1", "1E400", "nan", "inf", "MHZ", "MAX", "1.5e-3", "99999999", "ERRS?", "LIAS?",
         "SYST:ERR?", "++read", "\x00", "\xff"]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_never_raise(data):
    for emulator in EMULATORS:
        reply = emulator.handle(data)
        assert reply is None or isinstance(reply, bytes)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=12))
def test_command_like_garbage_never_raises(words):
    line = "".join(words).encode("latin-1")
    for emulator in EMULATORS:
        reply = emulator.handle(line)
        assert reply is None or isinstance(reply, bytes)


NASTY = [b"FREQ:CW 1E400", b"FREQ:CW -1E400 MHZ", b"POW:AMPL 1e999", b"SOUR:CURR 1E400",
         b"SOUR:CURR:RANG 1e400", b"SIZE 1E400", b"GATE 1E400", b"PHAS 1E400", b"FREQ 1E400",
         b"WAVE 1E400", b"CURR 1e400", b"SNAP? 1,2,3,4,5,6,7", b"AUXV 1", b"AUXV 9,1",
         b"MEAS? 9", b"LIAS? 99", b"*ESR? 1E400", b";;;", b":", b"::FREQ", b"FREQ::CW 1",
         b"*", b"?", b"OUTP? 1E400", b"SIZE 0", b"HARM 1E400"]


def test_overflowing_and_malformed_values_never_raise():
    for emulator in all_emulators():
        for line in NASTY:
            reply = emulator.handle(line)
            assert reply is None or isinstance(reply, bytes)
