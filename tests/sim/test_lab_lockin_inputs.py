"""The simulated lab tells both lock-ins the instant their input may change (a message to the rf
generator, laser or coil sources; a DAQ output write), so their filters see each step at its
own time (decision 0120); the step response itself is tested in test_emulator_sr830_manual.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammainc

from kmor.config.files import load_config
from kmor.sim.lab import SimLab


@pytest.fixture
def lab():
    return SimLab(load_config().config)


def spy(lab):
    calls = {"polarimeter": [], "reference": []}
    lab.lockin_polarimeter.input_will_change = lambda: calls["polarimeter"].append(lab.clock.now_s())
    lab.lockin_reference.input_will_change = lambda: calls["reference"].append(lab.clock.now_s())
    return calls


def test_instrument_messages_and_daq_output_writes_notify_both_lockins(lab):
    calls = spy(lab)
    ao = lab.config.coils.bz.ao_channel
    lab.clock.advance(1.0)
    lab.laser.handle(b"OUTP 1")
    lab.clock.advance(1.0)
    lab.rf_generator.handle(b"FREQ:CW 461.7197 MHZ")
    lab.clock.advance(1.0)
    lab.daq.write_ao_V(ao, 0.25)
    lab.daq.write_ao_V(ao, 0.25)          # the same value: a notice too (decision 0104)
    lab.daq.sweep(ao, np.array([0.25, 0.5, 0.5, 0.75]), [lab.config.daq.light_monitor_ai], 1000.0)
    assert calls["polarimeter"] == calls["reference"]
    assert calls["polarimeter"] == pytest.approx([1.0, 2.0, 3.0, 3.0, 3.0, 3.001, 3.002, 3.003])


def test_a_notified_step_reaches_the_lockin_output_with_the_rc_cascade_response(lab):
    lockin = lab.lockin_polarimeter
    lockin.input_noise_V_per_rtHz = lambda: 0.0
    lockin.handle(b"SENS 26;OFLT 10;OFSL 2")   # 1 s, 18 dB/oct
    level = {"V": 0.0}
    lockin.input_signal_V = lambda harmonic: complex(level["V"])
    lockin.handle(b"OUTP? 1")
    lab.clock.advance(50.0)
    lab.laser.handle(b"OUTP 1")              # the lab reports the change at t = 50 s ...
    level["V"] = 0.1                         # ... which the physics shows from then on
    lab.clock.advance(2.5)
    assert float(lockin.handle(b"OUTP? 1")) == pytest.approx(0.1 * gammainc(3, 2.5), rel=1e-5)
