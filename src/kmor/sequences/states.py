"""The states and outcomes of runs, scans and jobs, and the allowed state changes, in one place.

Each is a StrEnum whose values are the strings kmor has always written (queue.journal, scan
files, events), so files stay the same and comparisons with plain strings keep working.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    """The engine's state (`Engine.state`)."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.IDLE: frozenset({RunState.RUNNING, RunState.PAUSED}),   # a sequence called outside run()
    RunState.RUNNING: frozenset({RunState.PAUSED, RunState.FINISHED}),
    RunState.PAUSED: frozenset({RunState.RUNNING, RunState.FINISHED}),
    RunState.FINISHED: frozenset({RunState.RUNNING}),
}
"""Allowed changes of the engine state (a finished engine may run again)."""


class RunStatus(StrEnum):
    """How a run, a batch or a scan ended (RunOutcome, BatchResult, the scan file's status)."""

    COMPLETE = "complete"
    ABORTED = "aborted"
    PAUSED = "paused"     # batches only: a persistent fault, resumable
    FAILED = "failed"


def check_transition(old: RunState, new: RunState) -> None:
    """Raise RuntimeError for a state change RUN_TRANSITIONS does not allow."""
    if new not in RUN_TRANSITIONS[old]:
        raise RuntimeError(f"run state cannot go from {old} to {new}")
