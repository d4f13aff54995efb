"""QCoDeS's SR830 driver, unmodified, over pyvisa-py against `kmor sim serve`: construction (it asks
SRAT ? and DDEF ? i), snapshot(update=True), every settable parameter set and read back, the
functions, the buffer read as TRCL? (the lock-in's own format), and no error left in the registers.

QCoDeS's SR830 uses no read terminator: on GPIB each reply ends with EOI (its OUTX mapping expects
"1\n" and TRCL? is read with read_raw). A raw socket has no EOI, and pyvisa-py suppresses END on
sockets, so the session is set up the GPIB way after construction: no read terminator, END not
suppressed (a read then ends when the data stops, after half the timeout: keep it short)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pyvisa import constants

pytest.importorskip("qcodes")
from sim_serve_process import resource
from qcodes.instrument_drivers.stanford_research import SR830
from qcodes.validators import Enum

SKIP = {"IDN", "timeout"}   # the VISA session's own settings, not the lock-in's


@pytest.fixture(scope="module")
def lockin(sim_serve):
    instrument = SR830("kmor_sr830", resource(sim_serve["lockin_polarimeter"]), visalib="@py", timeout=0.2,
                       terminator="\n")
    instrument.visa_handle.read_termination = None
    instrument.visa_handle.set_visa_attribute(constants.ResourceAttribute.suppress_end_enabled, False)
    yield instrument
    instrument.close()


def no_errors(lockin) -> None:
    assert int(lockin.ask("*ESR?")) == 0 and int(lockin.ask("ERRS?")) == 0


def test_constructed_and_snapshot_with_update(lockin):
    assert lockin.IDN()["model"] == "SR830"
    snap = lockin.snapshot(update=True)
    params = snap["parameters"]
    assert params["buffer_SR"]["value"] in (62.5e-3, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512,
                                            "Trigger")
    assert params["ch1_display"]["value"] == "X" and params["ch2_ratio"]["value"] == "none"
    assert params["output_interface"]["value"] == "GPIB"
    no_errors(lockin)


def _values_to_try(param):
    special = {"phase": [-12.5, 45.0], "frequency": [1234.5, 1000.0], "harmonic": [3, 1],
               "amplitude": [0.25, 1.0], "aux_out1": [1.5], "aux_out2": [-2.25], "aux_out3": [10.5],
               "aux_out4": [0.0],
               "output_interface": ["GPIB"]}  # "RS232" would send the replies to the serial port
    if param.name in special:
        return special[param.name]
    if param.name.startswith("ch") and param.name.endswith("_display"):
        return ["X", "R", "X Noise", "Aux In 1", "Aux In 2"] if param.name[2] == "1" else \
               ["Y", "Phase", "Y Noise", "Aux In 3", "Aux In 4"]
    if param.name.endswith("_ratio"):
        return ["none", "Aux In 1", "Aux In 2"] if param.name[2] == "1" else ["none", "Aux In 3", "Aux In 4"]
    assert isinstance(param.vals, Enum), param.name
    values = list(param.vals._valid_values)
    return values if len(values) <= 6 else [values[0], values[len(values) // 2], values[-1]]  # long tables: ends and middle


def test_every_settable_parameter_round_trips(lockin):
    names = [name for name, p in lockin.parameters.items()
             if name not in SKIP and p.settable and p.gettable
             and not name.endswith(("databuffer", "datatrace", "setpoints"))]  # buffer: tested below
    assert {"sensitivity", "time_constant", "buffer_SR", "ch1_display", "reference_source"} <= set(names)
    for name in names:
        param = lockin.parameters[name]
        for value in _values_to_try(param):
            if name == "frequency" and lockin.reference_source() != "internal":
                continue
            param(value)
            got = param()
            expected = pytest.approx(value, abs=1e-3) if isinstance(value, float) else value
            assert got == expected, (name, value, got)
        if name == "reference_source":
            param("internal")
        if name == "input_config":
            param("a")
    lockin.sensitivity(1.0)
    no_errors(lockin)


def test_functions(lockin):
    lockin.time_constant(1e-3)
    lockin.auto_gain()
    lockin.auto_reserve()
    lockin.auto_phase()
    for quantity in (1, 2, 3):
        lockin.auto_offset(quantity)
    assert lockin.X_offset()[1] == 0
    lockin.disable_front_panel()
    lockin.enable_front_panel()
    lockin.increment_sensitivity()
    lockin.decrement_sensitivity()
    assert len(lockin.snap("x", "y", "r", "phase", "freq", "ch1")) == 6
    lockin.reset()
    no_errors(lockin)


def test_buffer_acquisition_read_as_trcl(lockin):
    lockin.ch1_display("X")
    lockin.ch2_display("Phase")
    lockin.buffer_SR(64)
    lockin.buffer_acq_mode("single shot")
    lockin.buffer_trig_mode("OFF")
    lockin.buffer_reset()
    started = time.monotonic()
    lockin.buffer_start()
    time.sleep(1.0)
    lockin.buffer_pause()
    elapsed = time.monotonic() - started
    n = lockin.buffer_npts()
    assert 40 <= n <= 64 * elapsed + 2
    lockin.ch1_databuffer.prepare_buffer_readout()
    lockin.ch2_databuffer.prepare_buffer_readout()
    ch1, ch2 = lockin.ch1_databuffer.get(), lockin.ch2_databuffer.get()
    assert ch1.shape == ch2.shape == (n,) and np.all(np.abs(ch2) <= 180)
    ascii_values = [float(v) for v in lockin.ask(f"TRCA? 1,0,{n}").strip().rstrip(",").split(",")]
    np.testing.assert_allclose(ch1, ascii_values, rtol=1e-6, atol=1e-30)
    lockin.sweep_setpoints.sweep_array = np.arange(n)
    assert lockin.ch1_datatrace.get().shape == (n,)
    lockin.buffer_reset()
    assert lockin.buffer_npts() == 0
    no_errors(lockin)
