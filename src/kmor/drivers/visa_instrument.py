"""Common base of the message-based (GPIB / RS-232 / socket) instrument drivers.

A driver subclasses `VisaInstrument`, names its model and the `*IDN?` pattern it expects, sets its
terminations, declares its settings with `Setting` (see settings.py) and says how the instrument
reports errors (`pending_errors`). The base does the rest the same way for every instrument:

- opens the resource from a name plus a pyvisa library ("@py", "x.yaml@sim", a VisaLibraryBase
  instance) or takes an already-open resource;
- refuses the wrong instrument on connect, naming resource, expected model and the answer;
- logs every exchange at DEBUG on "kmor.drivers.<name>";
- retries a failed exchange a bounded number of times (`max_attempts`, waiting `backoff_s`
  between attempts on the lab's clock, each retry logged at WARNING): after a timeout it clears
  the device, after an empty or undecodable reply it asks again, after a dropped connection it
  closes and re-opens the resource (when it opened it) -- then raises `InstrumentTimeout`,
  `InstrumentReplyError` or `InstrumentError` naming instrument, command and reply;
- after each setting, reads the instrument's error status and raises `InstrumentStatusError`
  naming the command and what the instrument said;
- `snapshot()` queries every declared setting for the data files.

No locks: one engine thread talks to the instruments.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pyvisa
from pyvisa.constants import StatusCode
from pyvisa.errors import VisaIOError

from kmor.drivers.errors import (InstrumentConnectionError, InstrumentError, InstrumentReplyError,
                                 InstrumentStatusError, InstrumentTimeout, WrongInstrument)
from kmor.drivers.settings import Setting, parse_int

VisaLibrary = str | pyvisa.highlevel.VisaLibraryBase


class VisaInstrument:
    """Base of every message-based driver. Subclasses set the class attributes below."""

    model: ClassVar[str] = "instrument"        # human name used in messages, e.g. "SR830 lock-in"
    name: ClassVar[str] = "visa"               # logger suffix: kmor.drivers.<name>
    idn_pattern: ClassVar[str] = ""            # regex searched (ignoring case) in *IDN?
    read_termination: ClassVar[str] = "\n"
    write_termination: ClassVar[str] = "\n"
    timeout_ms: ClassVar[int] = 3000
    joined_replies_on_one_line: ClassVar[bool] = False   # SR620: "A?;B?" -> "a;b" on one line
    max_attempts: ClassVar[int] = 3                      # tries of one exchange before giving up
    backoff_s: ClassVar[tuple[float, ...]] = (0.1, 0.5)  # wait before the 2nd, 3rd, ... try

    def __init__(self, resource: str | Any, visa_library: VisaLibrary = "@py", *,
                 timeout_ms: int | None = None, read_termination: str | None = None,
                 write_termination: str | None = None, check_idn: bool = True,
                 open_kwargs: Mapping[str, Any] | None = None) -> None:
        """Connect to `resource` (a VISA resource name opened with `visa_library`, or an open
        pyvisa message-based resource), set terminations and timeout, and check the identity.
        `open_kwargs` go to `open_resource` (e.g. {"baud_rate": 19200} for a serial port)."""
        self.log = logging.getLogger(f"kmor.drivers.{self.name}")
        self._owns_resource = isinstance(resource, str)
        self._open_args = (resource, visa_library, dict(open_kwargs or {}))
        self._resource: Any = self._open(*self._open_args) if self._owns_resource else resource
        self.resource_name: str = str(getattr(self._resource, "resource_name", resource))
        self._io_settings = {
            "read_termination": self.read_termination if read_termination is None else read_termination,
            "write_termination": self.write_termination if write_termination is None else write_termination,
            "timeout": self.timeout_ms if timeout_ms is None else timeout_ms}
        self._apply_io_settings()
        self._sleep = _backoff_sleep(self._resource)
        self.retries = 0
        """Exchanges retried since connecting (each one is logged)."""
        self._closed = False
        try:
            self._connect(check_idn)
        except BaseException:
            if self._owns_resource:
                self.close()
            raise

    # ------------------------------------------------------------------ connection
    def _open(self, resource_name: str, visa_library: VisaLibrary,
              open_kwargs: dict[str, Any]) -> Any:
        try:
            manager = pyvisa.ResourceManager(visa_library)
            return manager.open_resource(resource_name, **open_kwargs)
        except (VisaIOError, OSError, ValueError, LookupError) as exc:
            raise InstrumentError(
                f"{self.model}: cannot open {resource_name!r} with VISA library {visa_library!r}: "
                f"{exc}", instrument=f"{self.model} ({resource_name})") from exc

    def _apply_io_settings(self) -> None:
        for attr, value in self._io_settings.items():
            setattr(self._resource, attr, value)

    def _reconnect(self) -> None:
        """Close and re-open the resource after a dropped connection (only one we opened)."""
        try:
            self._resource.close()
        except (VisaIOError, OSError, AttributeError) as exc:
            self.log.debug("%s: closing the dropped connection: %s", self.label, exc)
        self._resource = self._open(*self._open_args)
        self._apply_io_settings()
        self.log.warning("%s: connection re-opened", self.label)

    def _connect(self, check_idn: bool) -> None:
        self._prepare()
        if check_idn:
            self._verify_identity()
        stale = self.pending_errors()
        if stale:
            self.log.warning("%s: errors pending before we started (now cleared): %s",
                             self.label, "; ".join(stale))

    def _prepare(self) -> None:
        """Anything the instrument needs before it will answer (SR830: OUTX). Default: nothing."""

    def _verify_identity(self) -> str:
        reply = self.query("*IDN?")
        if not re.search(self.idn_pattern, reply, re.IGNORECASE):
            raise WrongInstrument(
                f"{self.resource_name}: expected a {self.model} (*IDN? matching "
                f"{self.idn_pattern!r}) but it answered {reply!r}",
                instrument=self.label, command="*IDN?", reply=reply)
        self.log.info("%s: connected to %s", self.resource_name, reply)
        return reply

    @property
    def label(self) -> str:
        """"<model> (<resource>)", used in every message."""
        return f"{self.model} ({self.resource_name})"

    @property
    def identity(self) -> str:
        """The *IDN? reply, stripped of surrounding whitespace."""
        return self.query("*IDN?")

    def close(self) -> None:
        """Close the VISA resource (never the shared resource manager). Safe to call twice."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        try:
            self._resource.close()
        except (VisaIOError, OSError, AttributeError) as exc:
            self.log.warning("%s: error while closing: %s", self.label, exc)

    def __enter__(self) -> VisaInstrument:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ exchanges
    def write(self, command: str) -> None:
        """Send one command that has no reply (no error-status check: see `send_setting`)."""
        self._exchange(command, 0)

    def query(self, command: str, *, timeout_ms: int | None = None) -> str:
        """Send `command` and return its one reply (stripped). A failed exchange is tried up to
        `max_attempts` (3) times in all (see `_exchange`)."""
        return self._exchange(command, 1, timeout_ms)[0]

    def query_joined(self, *queries: str, timeout_ms: int | None = None) -> list[str]:
        """Send several queries on one line (`;`-joined) and return one reply per query, whether
        the instrument answers on one `;`-separated line (SR620) or a line per query (SR830)."""
        command = ";".join(queries)
        if not self.joined_replies_on_one_line:
            return self._exchange(command, len(queries), timeout_ms)
        reply = self._exchange(command, 1, timeout_ms)[0]
        parts = [part.strip() for part in reply.split(";")]
        if len(parts) != len(queries):
            raise self.reply_error(command, reply, f"expected {len(queries)} ';'-separated answers")
        return parts

    def send_setting(self, command: str) -> None:
        """Send a setting command, then check the instrument's error status."""
        self.write(command)
        self.check_status(command)

    def check_status(self, command: str) -> None:
        """Raise `InstrumentStatusError` if the instrument reports errors since the last check."""
        errors = self.pending_errors()
        if errors:
            raise InstrumentStatusError(
                f"{self.label}: after {command!r} the instrument reported: {'; '.join(errors)}",
                instrument=self.label, command=command, reply="; ".join(errors))

    def pending_errors(self) -> list[str]:
        """Read (and so clear) the instrument's error status; one text per error. Default: none."""
        return []

    def _exchange(self, command: str, n_replies: int, timeout_ms: int | None = None) -> list[str]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._timeout(timeout_ms):
                    self._write_raw(command)
                    return [self._read_one(command) for _ in range(n_replies)]
            except (VisaIOError, OSError, InstrumentReplyError) as exc:
                error = self._classify(command, exc, attempt)
                if error is None and attempt == self.max_attempts:
                    error = self._failure(command, exc, attempt)
                if error is not None:
                    raise error from exc
                self._recover(command, exc, attempt)
        raise AssertionError("unreachable")

    def _classify(self, command: str, exc: BaseException, attempt: int) -> InstrumentError | None:
        """The error to raise now (None: worth another try). A VISA error other than a timeout or
        a lost connection (e.g. a bad resource attribute) is not retried."""
        if isinstance(exc, VisaIOError) and exc.error_code not in _RETRIED_VISA_CODES:
            return InstrumentError(f"{self.label}: VISA error on {command!r}: {exc}",
                                   instrument=self.label, command=command)
        if _is_dropped(exc) and not self._owns_resource:
            return InstrumentConnectionError(f"{self.label}: connection error on {command!r}: {exc}",
                                   instrument=self.label, command=command)
        return None

    def _failure(self, command: str, exc: BaseException, attempts: int) -> InstrumentError:
        """The error after the last attempt, naming instrument, command and (last) reply."""
        if isinstance(exc, InstrumentReplyError):
            exc.args = (f"{exc.args[0]} (tried {attempts} times)",)
            return exc
        if _is_dropped(exc):
            return InstrumentConnectionError(f"{self.label}: connection lost on {command!r} and not restored "
                                   f"({attempts} tries): {exc}", instrument=self.label, command=command)
        return InstrumentTimeout(f"{self.label}: no reply to {command!r} within "
                                 f"{self._resource.timeout} ms (tried {attempts} times)",
                                 instrument=self.label, command=command)

    def _recover(self, command: str, exc: BaseException, attempt: int) -> None:
        """Log the retry, wait the back-off, and undo what the failure left behind."""
        self.retries += 1
        what = ("connection lost" if _is_dropped(exc) else
                "bad reply" if isinstance(exc, InstrumentReplyError) else "timeout")
        wait_s = self.backoff_s[min(attempt - 1, len(self.backoff_s) - 1)] if self.backoff_s else 0.0
        self.log.warning("%s: %s on %r (%s); retry %d of %d in %g s", self.label, what, command,
                         exc, attempt, self.max_attempts - 1, wait_s)
        if wait_s > 0:
            self._sleep(wait_s)
        # A raw socket has no device clear (pyvisa-py's clear spins forever on a socket the peer
        # closed, which reads as a timeout): re-open it instead, which also resynchronises replies.
        if _is_dropped(exc) or (self._is_socket() and self._owns_resource):
            try:
                self._reconnect()
            except InstrumentError as reopen_error:
                self.log.warning("%s: re-opening failed: %s", self.label, reopen_error)
        elif not self._is_socket():
            self._clear_after_timeout()

    def _is_socket(self) -> bool:
        return self.resource_name.upper().endswith("::SOCKET")

    def _write_raw(self, command: str) -> None:
        self.log.debug("%s <- %r", self.resource_name, command)
        self._resource.write(command)

    def _read_one(self, command: str) -> str:
        try:
            text: str = self._resource.read()
        except UnicodeDecodeError as exc:
            raise self.reply_error(command, repr(exc.object), "is not ASCII text") from exc
        self.log.debug("%s -> %r", self.resource_name, text)
        reply = text.strip()
        if not reply:
            raise self.reply_error(command, text, "is empty")
        self._check_reply(command, reply)
        return reply

    def _check_reply(self, command: str, reply: str) -> None:
        """Hook for instruments that answer errors in place of the reply (TLB-6300)."""

    def _clear_after_timeout(self) -> None:
        try:
            self._resource.clear()
        except (VisaIOError, NotImplementedError, AttributeError, OSError) as exc:
            self.log.debug("%s: device clear not possible: %s", self.label, exc)

    @contextlib.contextmanager
    def _timeout(self, timeout_ms: int | None) -> Iterator[None]:
        if timeout_ms is None:
            yield
            return
        previous = self._resource.timeout
        self._resource.timeout = timeout_ms
        try:
            yield
        finally:
            self._resource.timeout = previous

    def reply_error(self, command: str, reply: str, why: str) -> InstrumentReplyError:
        """An `InstrumentReplyError` naming this instrument, the command and the reply."""
        return InstrumentReplyError(f"{self.label}: reply {reply!r} to {command!r} {why}",
                                    instrument=self.label, command=command, reply=reply)

    # ------------------------------------------------------------------ settings
    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """Every declared `Setting` of this driver, in definition order (base classes first)."""
        found: dict[str, Setting] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Setting):
                    found[attr] = value
        return found

    def snapshot(self) -> dict[str, Any]:
        """Model, resource, identity and every readable setting, queried now (for data files)."""
        snap: dict[str, Any] = {"model": self.model, "resource": self.resource_name,
                                "identity": self.identity}
        for attr, setting in self.settings().items():
            if setting.snapshot:
                snap[attr] = setting.read(self)
        return snap


_RETRIED_VISA_CODES = {StatusCode.error_timeout, StatusCode.error_connection_lost,
                       StatusCode.error_io}


def _is_dropped(exc: BaseException) -> bool:
    """A connection that went away (socket closed, VI_ERROR_CONN_LOST)."""
    if isinstance(exc, VisaIOError):
        return exc.error_code in (StatusCode.error_connection_lost, StatusCode.error_io)
    return isinstance(exc, OSError)


def _backoff_sleep(resource: Any) -> Any:
    """Waits between retries run on the lab's clock: the simulated one when the resource comes
    from the simulated VISA library (so a full-speed run never waits for real), else real time."""
    clock = getattr(getattr(resource, "visalib", None), "clock", None)
    sleep = getattr(clock, "sleep", None)
    return sleep if callable(sleep) else time.sleep


def parse_scpi_error(instrument: VisaInstrument, command: str, reply: str) -> tuple[int, str]:
    """Split a SCPI error-queue entry such as `-222,"Data out of range"` into (code, text)."""
    match = re.fullmatch(r'\s*([+-]?\d+)\s*,\s*"?(.*?)"?\s*', reply)
    if not match:
        raise instrument.reply_error(command, reply, 'is not a SCPI error entry (code,"text")')
    return int(match.group(1)), match.group(2)


class ScpiErrorQueue:
    """Mixin: the instrument keeps a SCPI error queue read with SYST:ERR? (0,"No error" = empty)."""

    max_errors_read: ClassVar[int] = 20

    def pending_errors(self: Any) -> list[str]:
        errors: list[str] = []
        for _ in range(self.max_errors_read):
            reply = self.query("SYST:ERR?")
            code, text = parse_scpi_error(self, "SYST:ERR?", reply)
            if code == 0:
                break
            errors.append(f"{code},\"{text}\"")
        return errors


class SrsStatusBytes:
    """Mixin: SRS instruments report command errors in the IEEE-488.2 event status byte (*ESR?;
    bit 2 query error, bit 4 execution error = parameter out of range, bit 5 command error =
    unknown command) and hardware faults in ERRS?. Reading clears both."""

    ESR_BITS: ClassVar[dict[int, str]] = {2: "query error (output queue overflow)",
                                          4: "execution error (parameter out of range or "
                                             "command not completed)",
                                          5: "command error (syntax or unknown command)"}
    ERRS_BITS: ClassVar[dict[int, str]] = {}

    def read_status_bytes(self: Any) -> tuple[int, int]:
        """(*ESR?, ERRS?) as integers, asked on one line."""
        command = "*ESR?;ERRS?"
        esr_text, errs_text = self.query_joined("*ESR?", "ERRS?")
        try:
            return parse_int(esr_text), parse_int(errs_text)
        except ValueError as exc:
            raise self.reply_error(command, f"{esr_text};{errs_text}",
                                   "is not two status bytes") from exc

    def describe_status(self: Any, esr: int, errs: int) -> list[str]:
        errors = [f"*ESR bit {bit}: {text}" for bit, text in self.ESR_BITS.items()
                  if esr >> bit & 1]
        errors += [f"ERRS bit {bit}: {text}" for bit, text in self.ERRS_BITS.items()
                   if errs >> bit & 1]
        return errors

    def pending_errors(self: Any) -> list[str]:
        esr, errs = self.read_status_bytes()
        errors: list[str] = self.describe_status(esr, errs)
        return errors
