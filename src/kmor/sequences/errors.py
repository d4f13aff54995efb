"""Exceptions of the sequence engine.

`Aborted` is how an abort request ends a sequence (a normal outcome, not a failure). `SequenceError`
is a sequence that cannot go on (lock cannot be re-acquired, too many retakes of one point).
`SuspendRequested` unwinds a point whose conditions failed (e.g. the laser lock was lost during a
wait); it derives from BaseException so that `except Exception` in sequence code cannot swallow it.
"""

from __future__ import annotations


class SequenceError(Exception):
    """A sequence cannot continue; the message says why and what was tried."""


class LockFailed(SequenceError):
    """The laser lock could not be acquired or re-acquired."""


class Aborted(Exception):
    """The run was aborted on request (Ctrl-C, SIGTERM, the GUI's Abort) at a point boundary."""


class SuspendRequested(BaseException):
    """Internal: a suspender tripped while a point was being measured; the point is re-taken."""

    def __init__(self, suspender: object, reason: str) -> None:
        super().__init__(reason)
        self.suspender = suspender
        self.reason = reason


class LockinOverload(SequenceError):
    """A lock-in's input or output overloaded and ranging up did not help (e.g. already at its
    coarsest sensitivity). Its own type so that a real arithmetic OverflowError is never taken
    for an overload and re-taken."""
