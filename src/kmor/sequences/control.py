"""Pause, resume and abort requests, from any thread, to the acquisition thread.

Requests only set flags; the engine acts on them at the next point boundary (`Engine.checkpoint`).
A pause is a state, never an error: the run sits in "paused" with the laser lock still servoing
until resumed or aborted.
"""

from __future__ import annotations

import threading

from kmor.sequences.states import RunState, check_transition

IDLE, RUNNING, PAUSED, FINISHED = RunState.IDLE, RunState.RUNNING, RunState.PAUSED, RunState.FINISHED


class RunControl:
    """Thread-safe run state plus the pending pause/abort requests."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._state: RunState = IDLE
        self._pause_requested = False
        self._abort_reason: str | None = None

    @property
    def state(self) -> RunState:
        """"idle", "running", "paused" or "finished"."""
        with self._cond:
            return self._state

    @property
    def pause_requested(self) -> bool:
        with self._cond:
            return self._pause_requested

    @property
    def abort_reason(self) -> str | None:
        """Why an abort was requested, or None."""
        with self._cond:
            return self._abort_reason

    def pause(self) -> None:
        """Ask the run to pause at the next point boundary."""
        with self._cond:
            self._pause_requested = True
            self._cond.notify_all()

    def resume(self) -> None:
        """Cancel a pause request or leave the paused state."""
        with self._cond:
            self._pause_requested = False
            self._cond.notify_all()

    def abort(self, reason: str = "abort requested") -> None:
        """Ask the run to stop at the next point boundary (the first reason is kept)."""
        with self._cond:
            if self._abort_reason is None:
                self._abort_reason = reason
            self._cond.notify_all()

    def wait_for_change(self, timeout_s: float) -> None:
        """Block up to `timeout_s` wall seconds or until resume/abort is requested."""
        if timeout_s <= 0:
            return
        with self._cond:
            if self._pause_requested and self._abort_reason is None:
                self._cond.wait(timeout_s)

    def enter(self, state: RunState) -> None:
        """Change the state (the engine's acquisition thread only); RUN_TRANSITIONS says which
        changes are allowed."""
        with self._cond:
            check_transition(self._state, state)
            self._state = state
            self._cond.notify_all()

    def start(self) -> None:
        """A new run: forget earlier requests, state "running"."""
        with self._cond:
            self._pause_requested = False
            self._abort_reason = None
        self.enter(RUNNING)
