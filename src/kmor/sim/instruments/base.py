"""What every byte-level instrument emulator shares: the message interface, terminations, the
output-buffer policy the transports apply, and small parsing helpers.

An emulator receives one message at a time (`handle(line)`, the bytes the host sent without their
terminator) and returns the reply bytes without terminator, or None when the instrument says nothing.
It never raises on bad input: it sets the error flags the real instrument would set. Transports
(the pyvisa backend, the TCP server) own the buffering, terminators and timeouts, and take
`emulator.lock` around each call so one command runs at a time per instrument.

Terminations are named from the HOST's side, exactly like pyvisa's resource attributes:
`read_termination` ends every reply the host reads, `write_termination` is what the host appends to
each command. `input_terminators` are the bytes the instrument itself accepts as the end of a
received message (several instruments take CR or LF).
"""

from __future__ import annotations

import math
import re
import threading
from typing import Literal, Protocol, runtime_checkable

#: How a transport treats the instrument's output buffer (see docs/decisions/0020).
#: "queue": replies wait in order until read (SRS units).
#: "interrupt": IEEE 488.2 / SCPI: a new message discards unread output and the instrument logs
#:     "Query INTERRUPTED" (`query_interrupted()`).
#: "replace": one response slot, overwritten by each command, and every read returns the most
#:     recent response again (the New Focus TLB-6300's GPIB).
OutputPolicy = Literal["queue", "interrupt", "replace"]


@runtime_checkable
class Emulator(Protocol):
    """The interface the pyvisa backend and the TCP server rely on."""

    read_termination: str
    write_termination: str
    input_terminators: bytes
    lock: threading.RLock

    @property
    def output_policy(self) -> OutputPolicy:
        """What a new message does to an unread reply (read only: each emulator class fixes it)."""

    def handle(self, line: bytes) -> bytes | None: ...

    def query_interrupted(self) -> None: ...

    def device_clear(self) -> None: ...


class BinaryReply(bytes):
    """A reply that goes out exactly as it is, without the reply terminator: binary block transfers
    (the SR830's TRCB?/TRCL?), which GPIB ends with EOI alone."""


def framed_reply(reply: bytes, read_termination: str) -> bytes:
    """The bytes a transport sends for a reply: the reply and its terminator (none for binary)."""
    if isinstance(reply, BinaryReply):
        return bytes(reply)
    return reply + read_termination.encode("ascii")


class EmulatorBase:
    """Common plumbing: decode, dispatch to `handle_text`, encode; subclasses implement the rest."""

    read_termination: str = "\n"
    write_termination: str = "\n"
    input_terminators: bytes = b"\n"
    output_policy: OutputPolicy = "queue"

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def handle(self, line: bytes) -> bytes | None:
        """Execute one received message; the reply without terminator, or None for no reply."""
        text = line.decode("ascii", errors="replace").strip("\r\n")
        reply = self.handle_text(text)
        return None if reply is None else reply.encode("ascii", errors="replace")

    def handle_text(self, text: str) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def query_interrupted(self) -> None:
        """A new message arrived while a reply was still unread (only for policy "interrupt")."""

    def device_clear(self) -> None:
        """GPIB selected device clear (viClear): abandon partial input and pending output."""


_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def split_number(text: str) -> tuple[float, str] | None:
    """Split '461.7197 MHZ' into (461.7197, 'MHZ'); None when it does not start with a number."""
    m = _NUMBER.match(text)
    if not m:
        return None
    return float(m.group(1)), m.group(2)


def parse_float(text: str) -> float | None:
    """A plain, finite decimal number (no suffix), or None."""
    parts = split_number(text)
    if parts is None or parts[1] or not math.isfinite(parts[0]):
        return None
    return parts[0]


def parse_int(text: str) -> int | None:
    """An integer parameter. SRS units take '3', '3.0' and '3E0' alike; anything else is None."""
    value = parse_float(text)
    if value is None or value != int(value):
        return None
    return int(value)


def split_units(text: str) -> list[str]:
    """Split one line into its `;`-separated program message units, dropping empty ones."""
    return [unit.strip() for unit in text.split(";") if unit.strip()]
