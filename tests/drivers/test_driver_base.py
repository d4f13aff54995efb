"""Behaviour every driver inherits from VisaInstrument: identity check, timeouts retried once,
garbled and empty replies, logging, opening by resource name through a real pyvisa backend."""

import logging
import socket
import threading

import pytest
from pyvisa.constants import StatusCode
from pyvisa.errors import VisaIOError

from kmor.drivers.errors import (InstrumentError, InstrumentReplyError, InstrumentTimeout,
                                 WrongInstrument)
from kmor.drivers.hp8647a import HP8647A
from kmor.drivers.keithley6221 import Keithley6221
from kmor.drivers.sr620 import SR620
from kmor.drivers.sr830 import SR830
from kmor.drivers.testing import TIMEOUT, FakeResource, expected_protocol
from kmor.drivers.tlb6300 import TLB6300

HP_IDN = "Hewlett-Packard,8647A,3523A01234,B.04.03"
NO_ERROR = ("SYST:ERR?", '0,"No error"')
CONNECT = [("*IDN?", HP_IDN), NO_ERROR]
SR830_IDN = "Stanford_Research_Systems,SR830,s/n12345,ver1.07"


@pytest.mark.parametrize("driver, prelude, expected", [
    (HP8647A, [], "HP 8647A"),
    (SR620, [], "SR620"),
    (SR830, [("OUTX 1", None)], "SR830"),
    (TLB6300, [], "TLB-6300"),
    (Keithley6221, [], "Keithley 6221"),
])
def test_wrong_instrument_refused_naming_resource_expected_model_and_answer(driver, prelude,
                                                                            expected):
    answer = "Agilent Technologies,34401A,0,11-5-2" if driver is not SR830 else HP_IDN
    fake = FakeResource(prelude + [("*IDN?", answer)], resource_name="GPIB0::7::INSTR")
    with pytest.raises(WrongInstrument) as err:
        driver(fake)
    message = str(err.value)
    assert "GPIB0::7::INSTR" in message and expected in message and answer in message
    assert fake.written == [cmd for cmd, _ in prelude] + ["*IDN?"]
    assert not fake.closed            # a resource we were given stays the caller's


def test_terminations_and_timeout_are_set_per_instrument():
    with expected_protocol(SR830, [("OUTX 0", None), ("*IDN?", SR830_IDN),
                                   ("*ESR?;ERRS?", ["0", "0"])], interface="rs232",
                           timeout_ms=1234) as lockin:
        assert lockin.fake.read_termination == "\r" and lockin.fake.timeout == 1234
    with expected_protocol(HP8647A, CONNECT) as gen:
        assert gen.fake.read_termination == "\n" and gen.fake.timeout == HP8647A.timeout_ms


def test_timeout_is_retried_after_a_device_clear_and_a_backoff():
    script = CONNECT + [("FREQ:CW?", TIMEOUT), ("FREQ:CW?", TIMEOUT), ("FREQ:CW?", "4.6E8")]
    with expected_protocol(HP8647A, script) as gen:
        assert gen.freq_hz == 4.6e8
        assert gen.fake.clears == 2
        assert gen.fake.slept_s == [0.1, 0.5] and gen.retries == 2


def test_third_timeout_raises_instrument_timeout_naming_instrument_and_command():
    script = CONNECT + [("POW:AMPL?", TIMEOUT)] * 3
    with expected_protocol(HP8647A, script) as gen:
        with pytest.raises(InstrumentTimeout) as err:
            gen.amplitude_dBm
    assert "HP 8647A" in str(err.value) and "POW:AMPL?" in str(err.value)
    assert "tried 3 times" in str(err.value)
    assert err.value.command == "POW:AMPL?"


def test_timeout_on_identity_names_the_resource():
    fake = FakeResource([("*IDN?", TIMEOUT)] * 3, resource_name="GPIB0::19::INSTR")
    with pytest.raises(InstrumentTimeout, match="GPIB0::19::INSTR"):
        HP8647A(fake)


@pytest.mark.parametrize("reply, why", [(b"\xff\xfe\x00garbage", "not ASCII"), ("", "empty"),
                                        ("   ", "empty"), ("4.6E8#X", "cannot read")])
def test_garbled_and_empty_replies_raise_reply_error_with_command_and_reply(reply, why):
    # an unreadable reply is asked for again (3 tries); a reply that reads but does not parse is not
    tries = 1 if why == "cannot read" else 3
    with expected_protocol(HP8647A, CONNECT + [("FREQ:CW?", reply)] * tries) as gen:
        with pytest.raises(InstrumentReplyError) as err:
            gen.freq_hz
    message = str(err.value)
    assert why in message and "FREQ:CW?" in message and "HP 8647A" in message
    assert err.value.command == "FREQ:CW?" and err.value.reply is not None


def test_other_visa_errors_become_instrument_errors_without_retry():
    lost = VisaIOError(StatusCode.error_connection_lost)
    with expected_protocol(HP8647A, CONNECT + [("FREQ:CW?", lost)]) as gen:
        with pytest.raises(InstrumentError, match="FREQ:CW?") as err:
            gen.freq_hz
        assert not isinstance(err.value, InstrumentTimeout)


def test_every_exchange_is_logged_at_debug_on_the_driver_logger(caplog):
    caplog.set_level(logging.DEBUG, logger="kmor.drivers.hp8647a")
    with expected_protocol(HP8647A, CONNECT + [("FREQ:CW?", "1E6")]) as gen:
        gen.freq_hz
    lines = [r.getMessage() for r in caplog.records if r.name == "kmor.drivers.hp8647a"
             and r.levelno == logging.DEBUG]
    assert any("'FREQ:CW?'" in line and "<-" in line for line in lines)
    assert any("'1E6'" in line and "->" in line for line in lines)


def test_errors_pending_at_connect_are_read_and_logged_not_raised(caplog):
    script = [("*IDN?", HP_IDN), ("SYST:ERR?", '-410,"Query INTERRUPTED"'), NO_ERROR]
    with caplog.at_level(logging.WARNING, logger="kmor.drivers.hp8647a"):
        with expected_protocol(HP8647A, script):
            pass
    assert "Query INTERRUPTED" in caplog.text


def test_read_only_and_settings_listing():
    with expected_protocol(HP8647A, CONNECT) as gen:
        assert list(HP8647A.settings())[:3] == ["freq_hz", "amplitude_dBm", "rf_on"]
        with pytest.raises(AttributeError):
            SR830.x_V.__set__(gen, 1.0)


def test_close_closes_the_resource_once():
    with expected_protocol(HP8647A, CONNECT) as gen:
        gen.close()
        gen.close()
        assert gen.fake.closed


class _LineServer:
    """A one-client TCP instrument: answers each received line from a dict (loopback only)."""

    def __init__(self, replies):
        self.replies, self.received = replies, []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            buffer = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self.received.append(line)
                    reply = self.replies.get(line.decode())
                    if reply is not None:
                        conn.sendall(reply.encode() + b"\n")

    def close(self):
        self.sock.close()
        self.thread.join(timeout=5)


def test_opens_by_resource_name_through_pyvisa_py_socket():
    server = _LineServer({"*IDN?": HP_IDN, "SYST:ERR?": '+0,"No error"',
                          "FREQ:CW?": "+4.61719720000000E+08"})
    try:
        gen = HP8647A(f"TCPIP::127.0.0.1::{server.port}::SOCKET", "@py", timeout_ms=2000)
        assert gen.freq_hz == 461_719_720.0
        gen.close()
    finally:
        server.close()
    assert server.received == [b"*IDN?", b"SYST:ERR?", b"FREQ:CW?"]


def test_unopenable_resource_raises_instrument_error_naming_it():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    name = f"TCPIP::127.0.0.1::{port}::SOCKET"
    with pytest.raises(InstrumentError) as err:
        HP8647A(name, "@py", timeout_ms=500)
    assert f"127.0.0.1::{port}::SOCKET" in str(err.value) and "*IDN?" in str(err.value)
