"""Transient I/O faults are retried (bounded, with back-off, each retry logged); a dropped
connection is re-opened; a fault that outlasts the retries is one clear error naming instrument,
command and reply. Faults come from [sim.faults] or from a test."""

from __future__ import annotations

import logging

import pytest
from rel_helpers import config_with

from kmor.config.files import load_config
from kmor.drivers.errors import InstrumentConnectionError, InstrumentReplyError, InstrumentTimeout
from kmor.drivers.hp8647a import HP8647A
from kmor.sim.faults import IOFault
from kmor.sim.lab import SimLab
from kmor.sim.server import serve
from kmor.station import build_station

RF = "GPIB0::19::INSTR"


@pytest.fixture
def lab():
    return SimLab(load_config().config)


@pytest.fixture
def rf(lab):
    library = lab.visa_library()
    gen = HP8647A(RF, library)
    gen.freq_hz = 461_719_720.0
    yield gen, library, lab
    gen.close()


@pytest.mark.parametrize("kind", ["timeout", "garbled", "empty", "disconnect"])
def test_a_fault_once_is_retried_and_the_value_is_right(rf, kind, caplog):
    gen, library, lab = rf
    fault = IOFault(kind, count=1)
    library.set_fault(RF, fault)
    with caplog.at_level(logging.WARNING, logger="kmor.drivers"):
        assert gen.freq_hz == 461_719_720.0
    assert fault.hits == 1 and gen.retries == 1
    retry_lines = [r.getMessage() for r in caplog.records if "retry 1 of 2" in r.getMessage()]
    assert len(retry_lines) == 1 and "FREQ:CW?" in retry_lines[0] and "HP 8647A" in retry_lines[0]
    if kind == "disconnect":
        assert any("connection re-opened" in r.getMessage() for r in caplog.records)


def test_two_lost_replies_are_still_recovered_by_the_third_try(rf):
    gen, library, lab = rf
    library.set_fault(RF, IOFault("timeout", count=2))
    t0 = lab.clock.now_s()
    assert gen.freq_hz == 461_719_720.0
    # two timeouts plus back-offs of 0.1 s and 0.5 s, all on the lab's clock (no wall-clock wait)
    timeout_s = gen._resource.timeout / 1000
    assert lab.clock.now_s() - t0 == pytest.approx(2 * timeout_s + 0.1 + 0.5, abs=0.01)


def test_timeouts_for_a_while_raise_one_timeout_naming_instrument_and_command(rf):
    gen, library, lab = rf
    library.set_fault(RF, IOFault("timeout", count=0, at_s=lab.clock.now_s(), for_s=60.0, clock=lab.clock))
    with pytest.raises(InstrumentTimeout) as info:
        _ = gen.amplitude_dBm
    assert "HP 8647A" in str(info.value) and "POW:AMPL?" in str(info.value) and "tried 3 times" in str(info.value)
    lab.clock.sleep(60.0)   # the fault is over: the instrument answers again
    assert gen.freq_hz == 461_719_720.0


def test_a_persistent_garbled_reply_names_the_reply(rf):
    gen, library, _ = rf
    library.set_fault(RF, IOFault("garbled", count=100))
    with pytest.raises(InstrumentReplyError) as info:
        _ = gen.freq_hz
    assert "FREQ:CW?" in str(info.value) and "garbled" in str(info.value) and "tried 3 times" in str(info.value)
    assert info.value.reply is not None and "garbled" in info.value.reply


def test_a_connection_that_stays_down_is_a_connection_error(rf):
    gen, library, _ = rf
    library.set_fault(RF, IOFault("disconnect", count=100))
    with pytest.raises(InstrumentConnectionError, match="connection lost on 'FREQ:CW\\?'"):
        _ = gen.freq_hz


def test_a_fault_starts_at_its_lab_time(rf):
    gen, library, lab = rf
    fault = IOFault("timeout", count=1, at_s=lab.clock.now_s() + 10.0, clock=lab.clock)
    library.set_fault(RF, fault)
    assert gen.freq_hz == 461_719_720.0 and fault.hits == 0
    lab.clock.sleep(10.0)
    assert gen.freq_hz == 461_719_720.0 and fault.hits == 1


def test_the_io_fault_from_the_config_reaches_the_station(tmp_path):
    loaded = config_with(tmp_path, {"sim.faults.io": {"enabled": True, "instrument": "counter",
                                                      "kind": "garbled", "count": 1}})
    station = build_station(loaded)
    try:
        role, fault = station.sim.io_fault
        assert role == "counter" and fault.kind == "garbled" and fault.hits == 1   # hit on *IDN?, retried
        assert station.counter.retries == 1
    finally:
        station.close()


def test_default_config_has_every_fault_off():
    faults = load_config().config.sim.faults
    assert not any(getattr(faults, name).enabled for name in ("io", "mode_hop", "reference", "overload", "disk"))


def test_a_dropped_tcp_connection_of_sim_serve_is_reopened(lab, caplog):
    """`kmor sim serve` with a connection-dropping fault: the driver (pyvisa-py, a real socket)
    re-opens the connection and gets its answer."""
    with serve({0: lab.rf_generator}) as server:
        gen = HP8647A(f"TCPIP::127.0.0.1::{server.port_of(lab.rf_generator)}::SOCKET", "@py", timeout_ms=500)
        try:
            gen.freq_hz = 1e8
            fault = IOFault("disconnect", count=1)
            server.set_fault(lab.rf_generator, fault)
            with caplog.at_level(logging.WARNING, logger="kmor.drivers"):
                assert gen.freq_hz == 1e8
            assert fault.hits == 1 and gen.retries >= 1
            assert any("connection re-opened" in r.getMessage() for r in caplog.records)
        finally:
            gen.close()
