"""Conditions that suspend a scan, and how the engine gets back from each.

- LockLost: the laser-lock error stayed outside its band longer than the servo's `lost_after_s`;
  recover by re-locking (lock.relock), then the interrupted point is measured again.
- ReferenceMissing: the SR620 reports no 10 MHz reference (ReferenceClockMissing); recover by
  polling the counter every `poll_s` until the reference is back (give up after `max_wait_s`).
- InstrumentTimeoutRetry: one instrument timeout, unreadable reply or dropped connection (after
  the driver's own retries) does not kill an overnight scan; wait `wait_s` and measure the point
  again (the engine gives up after 10 re-takes of one point, and the batch pauses).
- OverloadRetry: the lock-in overloaded even at its coarsest range (a spike, a bumped cable);
  the point is thrown away, and measured again after `wait_s`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kmor.drivers.errors import (InstrumentConnectionError, InstrumentReplyError, InstrumentTimeout,
                                 ReferenceClockMissing)
from kmor.sequences.errors import LockinOverload, SequenceError

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine, Suspender

log = logging.getLogger("kmor.sequences.suspenders")


class LockLost:
    """Suspends while the laser lock is lost; re-locks to recover."""

    name = "laser lock"

    def since_s(self, engine: Engine) -> float | None:
        """The suspension starts when the error left its band, not when the loss was declared,
        so the points in between lie inside the recorded interval (and are not used as good)."""
        servo = engine.servo
        return getattr(servo, "out_of_band_since_s", None) if servo is not None else None

    def check(self, engine: Engine) -> str | None:
        servo = engine.servo
        if servo is not None and servo.lost:
            return servo.lost_reason()
        return None

    def handles(self, exc: BaseException) -> str | None:
        return None

    def recover(self, engine: Engine, reason: str) -> None:
        from kmor.sequences.lock import relock
        relock(engine)


class ReferenceMissing:
    """Suspends while the counter has no 10 MHz reference; polls until it is back."""

    name = "counter reference"

    def __init__(self, poll_s: float = 5.0, max_wait_s: float = 4 * 3600.0) -> None:
        self.poll_s = poll_s
        self.max_wait_s = max_wait_s

    def check(self, engine: Engine) -> str | None:
        return None

    def handles(self, exc: BaseException) -> str | None:
        if isinstance(exc, ReferenceClockMissing):
            return f"counter reference missing: {exc}"
        return None

    def recover(self, engine: Engine, reason: str) -> None:
        start_s = engine.now_s()
        while True:
            engine.check_abort()
            deadline_in = self.max_wait_s - (engine.now_s() - start_s)
            if deadline_in <= 0:
                raise SequenceError(f"the counter's 10 MHz reference did not come back within "
                                    f"{self.max_wait_s:g} s; check the reference cable")
            engine.wait(min(self.poll_s, deadline_in))
            try:
                engine.station.counter.check_status("10 MHz reference check")
            except ReferenceClockMissing:
                continue
            return


class InstrumentTimeoutRetry:
    """A point whose instrument exchange timed out, came back unreadable or lost its connection
    is measured again after `wait_s`."""

    name = "instrument timeout"

    def __init__(self, wait_s: float = 1.0) -> None:
        self.wait_s = wait_s

    def check(self, engine: Engine) -> str | None:
        return None

    def handles(self, exc: BaseException) -> str | None:
        if isinstance(exc, InstrumentTimeout):
            return f"instrument timeout: {exc}"
        if isinstance(exc, InstrumentReplyError):
            return f"unreadable reply: {exc}"
        if isinstance(exc, InstrumentConnectionError):
            return f"connection lost: {exc}"
        return None

    def recover(self, engine: Engine, reason: str) -> None:
        engine.check_abort()
        engine.wait(self.wait_s)


class OverloadRetry:
    """A point during which the lock-in overloaded at its coarsest range is measured again."""

    name = "lock-in overload"

    def __init__(self, wait_s: float = 2.0) -> None:
        self.wait_s = wait_s

    def check(self, engine: Engine) -> str | None:
        return None

    def handles(self, exc: BaseException) -> str | None:
        if isinstance(exc, LockinOverload):
            return f"lock-in overload: {exc}"
        return None

    def recover(self, engine: Engine, reason: str) -> None:
        engine.check_abort()
        engine.wait(self.wait_s)


def default_suspenders() -> list[Suspender]:
    """Lock loss, missing counter reference, instrument I/O faults, lock-in overload."""
    return [LockLost(), ReferenceMissing(), InstrumentTimeoutRetry(), OverloadRetry()]
