"""A scripted stand-in for a pyvisa message-based resource, for exchange tests of the drivers.

The fake is fed the exact conversation expected, as (command, reply) pairs taken from the
manual's syntax, and fails on the first command that is not the next one expected:

    idn = "Stanford_Research_Systems,SR830,s/n1,ver1.07"
    with expected_protocol(SR830, [("OUTX 1", None), ("*IDN?", idn),
                                   ("*ESR?;ERRS?", ["0", "0"]), ("HARM?", "2")]) as lockin:
        assert lockin.harmonic == 2

A reply is None (the command has no reply), a str (one reply), bytes (decoded as ASCII the way
pyvisa does, so non-ASCII bytes raise UnicodeDecodeError), a list of replies (an instrument that
answers a `;`-joined query with one line per answer), or `TIMEOUT` (the instrument stays silent:
the read raises pyvisa's VI_ERROR_TMO), or an exception instance (raised by the read, e.g. a
VisaIOError for a dropped connection). With `repeat_last_reply=True` a read with nothing new
returns the previous reply again, like the TLB-6300's GPIB.

Nothing here is used by the drivers themselves; it lives in the package so that the sequence
and station tests can script instruments too.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

from pyvisa.constants import StatusCode
from pyvisa.errors import VisaIOError

TIMEOUT = object()
"""Reply marker: the instrument never answers this command (read raises VI_ERROR_TMO)."""

Reply = str | bytes | list[str] | None | object


class UnexpectedExchange(AssertionError):
    """The driver sent a command the script did not expect, or read with nothing to read."""


class FakeResource:
    """Scripted message-based resource with the pyvisa attributes the drivers use."""

    def __init__(self, exchanges: Sequence[tuple[str, Reply]], *,
                 resource_name: str = "FAKE0::1::INSTR", repeat_last_reply: bool = False) -> None:
        self.resource_name = resource_name
        self.repeat_last_reply = repeat_last_reply
        self._script: deque[tuple[str, Reply]] = deque(exchanges)
        self._outbox: deque[Any] = deque()
        self._last_reply: str | None = None
        self.written: list[str] = []
        self.reads = 0
        self.read_timeouts_ms: list[int] = []
        self.clears = 0
        self.closed = False
        self.timeout = 2000
        self.read_termination = "\n"
        self.write_termination = "\n"
        self.slept_s: list[float] = []
        """Back-off waits the driver asked for between retries (s); nobody really waits."""
        self.visalib = SimpleNamespace(clock=SimpleNamespace(sleep=self.slept_s.append))

    # -- pyvisa API used by the drivers --------------------------------------------------
    def write(self, message: str) -> int:
        if self.closed:
            raise UnexpectedExchange(f"write {message!r} after close()")
        if not self._script:
            raise UnexpectedExchange(f"unexpected command {message!r}: the script is finished "
                                     f"(sent so far: {self.written})")
        expected, reply = self._script[0]
        if message != expected:
            raise UnexpectedExchange(f"unexpected command {message!r}, expected {expected!r} "
                                     f"(sent so far: {self.written})")
        self._script.popleft()
        self.written.append(message)
        if isinstance(reply, list):
            self._outbox.extend(reply)
        elif reply is not None:
            self._outbox.append(reply)
        return len(message)

    def read(self) -> str:
        self.reads += 1
        self.read_timeouts_ms.append(self.timeout)
        if not self._outbox:
            if self.repeat_last_reply and self._last_reply is not None:
                return self._last_reply
            raise VisaIOError(StatusCode.error_timeout)
        item = self._outbox.popleft()
        if item is TIMEOUT:
            raise VisaIOError(StatusCode.error_timeout)
        if isinstance(item, BaseException):
            raise item
        text = item.decode("ascii") if isinstance(item, bytes) else str(item)
        self._last_reply = text
        return text

    def clear(self) -> None:
        self.clears += 1
        self._outbox.clear()

    def close(self) -> None:
        self.closed = True

    # -- for the tests ---------------------------------------------------------------------
    @property
    def remaining(self) -> list[tuple[str, Reply]]:
        """Scripted exchanges that have not happened yet."""
        return list(self._script)

    def assert_done(self) -> None:
        """Fail if part of the script was never sent."""
        if self._script:
            raise UnexpectedExchange(f"expected commands never sent: "
                                     f"{[cmd for cmd, _ in self._script]}")


@contextlib.contextmanager
def expected_protocol(driver_cls: type, exchanges: Sequence[tuple[str, Reply]], *,
                      repeat_last_reply: bool = False, **driver_kwargs: Any) -> Iterator[Any]:
    """Build `driver_cls` on a `FakeResource` scripted with `exchanges` (connection included),
    yield the driver, and check on exit that every scripted exchange happened."""
    fake = FakeResource(exchanges, repeat_last_reply=repeat_last_reply)
    driver = driver_cls(fake, **driver_kwargs)
    driver.fake = fake
    yield driver
    fake.assert_done()
