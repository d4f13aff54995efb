"""Fault injection for the simulated lab: what an overnight run meets in a real lab.

Two kinds of fault:

- I/O faults on one instrument (`IOFault`): a timeout, a garbled or empty reply, or a dropped
  connection. An `IOFault` is the `Fault` hook of `SimVisaLibrary.set_fault` and of the TCP
  server (`SimServer.set_fault`): it sees every message written and every reply read. It is
  active from lab time `at_s` on, for `count` replies (`count=1`: once) or, with `count=0`, for
  every reply until lab time `at_s + for_s` ("for a while").
- Lab faults (`schedule_lab_faults`), at a lab time on the lab's clock: a laser mode hop (the lock
  is lost), the counter's 10 MHz reference cable pulled (and put back), a large signal into the
  polarimeter lock-in (input overload). Each is set up from `[sim.faults]` of the lab config or
  directly from a test.

- The disk fault (`FaultyRecorder`): a recorder whose disk "fills up" after a number of points;
  kmor.lab wraps the session's recorder in it when `[sim.faults.disk]` is enabled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvisa.constants import StatusCode
from pyvisa.errors import VisaIOError

from kmor.storage.errors import StorageError

if TYPE_CHECKING:
    from kmor.sim.lab import SimLab

log = logging.getLogger("kmor.sim.faults")

IO_KINDS = ("timeout", "garbled", "empty", "disconnect")
GARBLED_BYTES = b"\xff#\x00garbled"


@dataclass
class IOFault:
    """One I/O fault on one resource (a `Fault` hook; see the module doc).

    kind: "timeout" (the reply is lost: the read times out), "garbled" (non-ASCII bytes in place
    of the reply), "empty" (only the terminator comes back), "disconnect" (the connection drops:
    VI_ERROR_CONN_LOST on the next write). `clock` (anything with now_s()) is needed only when
    `at_s` or `for_s` is used. `hits` counts the replies (or writes, for "disconnect") affected."""

    kind: str
    count: int = 1
    at_s: float = 0.0
    for_s: float = 0.0
    clock: Any = None
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in IO_KINDS:
            raise ValueError(f"unknown I/O fault {self.kind!r}; one of {', '.join(IO_KINDS)}")
        if self.count < 0 or (self.count == 0 and not self.for_s > 0):
            raise ValueError("an I/O fault needs count >= 1, or count = 0 and for_s > 0")

    def active(self) -> bool:
        """Whether the next exchange is hit (does not count it)."""
        now = self.clock.now_s() if self.clock is not None else 0.0
        if now < self.at_s:
            return False
        if self.count:
            return self.hits < self.count
        return now < self.at_s + self.for_s

    def _hit(self) -> bool:
        with self._lock:
            if not self.active():
                return False
            self.hits += 1
            return True

    def __call__(self, direction: str, data: bytes) -> bytes | None:
        if self.kind == "disconnect":
            if direction == "write" and self._hit():
                log.warning("fault: connection dropped before %r", data[:40])
                raise VisaIOError(StatusCode.error_connection_lost)
            return data
        if direction != "read" or not self._hit():
            return data
        log.warning("fault: %s reply in place of %r", self.kind, data[:40])
        if self.kind == "timeout":
            return None
        terminator = data[-1:]
        return GARBLED_BYTES + terminator if self.kind == "garbled" else terminator


@dataclass(frozen=True)
class LabFaultTimes:
    """When the lab faults happen (lab time, s); None = never."""

    mode_hop_at_s: float | None = None
    mode_hop_MHz: float = 300.0
    reference_off_at_s: float | None = None
    reference_off_for_s: float = 60.0
    overload_at_s: float | None = None
    overload_for_s: float = 5.0
    overload_V: float = 2.0


def schedule_lab_faults(lab: SimLab, times: LabFaultTimes) -> None:
    """Arm the lab faults of `times` on the lab's clock (they fire when lab time passes them)."""
    clock = lab.clock
    if times.mode_hop_at_s is not None:
        jump = times.mode_hop_MHz
        clock.call_at(times.mode_hop_at_s, lambda: _mode_hop(lab, jump))
    if times.reference_off_at_s is not None:
        t0 = times.reference_off_at_s
        clock.call_at(t0, lambda: _set_reference(lab, False))
        clock.call_at(t0 + times.reference_off_for_s, lambda: _set_reference(lab, True))
    if times.overload_at_s is not None:
        t0, volts = times.overload_at_s, times.overload_V
        clock.call_at(t0, lambda: _set_overload(lab, volts))
        clock.call_at(t0 + times.overload_for_s, lambda: _set_overload(lab, 0.0))


def _mode_hop(lab: SimLab, jump_MHz: float) -> None:
    log.warning("fault: laser mode hop of %+g MHz at t = %.3f s", jump_MHz, lab.clock.now_s())
    lab.physics.mode_hop(jump_MHz)


def _set_reference(lab: SimLab, connected: bool) -> None:
    log.warning("fault: counter 10 MHz reference %s at t = %.3f s",
                "reconnected" if connected else "removed", lab.clock.now_s())
    lab.reference_connected = connected


def _set_overload(lab: SimLab, volts: float) -> None:
    log.warning("fault: %g V extra into the polarimeter lock-in at t = %.3f s", volts, lab.clock.now_s())
    lab.polarimeter_extra_V = volts


class FaultyRecorder:
    """Fault injection: a recorder whose disk "fills up" after `after_points` points in the run.

    The next append raises the StorageError the writer raises on ENOSPC, before anything is
    written, so the file holds exactly the points acknowledged before it; every later append (and
    every new scan) fails the same way, as on a full disk."""

    def __init__(self, inner: Any, after_points: int) -> None:
        self.inner = inner
        self.after_points = after_points
        self.written = 0

    def open_scan(self, **kwargs: Any) -> Any:
        if self.written >= self.after_points:
            raise StorageError(Path("<new scan>"), "could not create the scan file: [Errno 28] No space left on device")
        return _FaultyScan(self, self.inner.open_scan(**kwargs))


class _FaultyScan:
    def __init__(self, owner: FaultyRecorder, inner: Any) -> None:
        self._owner = owner
        self._inner = inner
        self.path = inner.path

    def append(self, row: Mapping[str, Any]) -> int:
        owner = self._owner
        if owner.written >= owner.after_points:
            raise StorageError(Path(self.path), f"could not write point {owner.written + 1}: [Errno 28] No space "
                                                f"left on device; the points acknowledged so far are on disk")
        n = self._inner.append(row)
        owner.written += 1
        return n

    def add_suspension(self, start_s: float, end_s: float, reason: str) -> None:
        self._inner.add_suspension(start_s, end_s, reason)

    def write_array(self, name: str, data: Any, units: str,
                    attrs: Mapping[str, Any] | None = None) -> None:
        self._inner.write_array(name, data, units, attrs)

    def close(self, status: str = "complete", message: str = "") -> None:
        self._inner.close(status, message)
