"""Batch files from the window's settings: a run started from a panel is a batch file run by
`kmor.sequences.runner.run_batch`, exactly as `kmor run FILE` would run it (same run folder,
queue.json, run.log and scan files). The text of the batch is kept in the run's queue.json.

`preparation_steps` decides what comes before the measurement, from what the session knows
(laser set up, lock point found, last lock record) and what the user asked for.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

PREPARE_LOCK = "lock"
"""Lock the laser first: set the laser up if this session has not, find the lock point if none is
known, then lock at it (at the set level recorded when it was first locked)."""
PREPARE_SEARCH = "search"
"""Find the lock point again, then lock there."""
PREPARE_NONE = "none"
"""Nothing: the laser is used as it is (e.g. locked by hand)."""
PREPARE_MODES = {PREPARE_LOCK: "lock the laser first (find the lock point if unknown)",
                 PREPARE_SEARCH: "find the lock point again, then lock",
                 PREPARE_NONE: "leave the laser as it is (no lock)"}


def toml_value(value: Any) -> str:
    """One TOML value (numbers, booleans, strings and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to a batch file")


def as_table(params: Any) -> dict[str, Any]:
    """A parameter dataclass (or mapping) as the keys of a [[steps]] table."""
    if dataclasses.is_dataclass(params):
        return dataclasses.asdict(params)
    return dict(params)


def batch_text(name: str, description: str, steps: Sequence[tuple[str, Any]]) -> str:
    """The batch file: a [batch] table and one [[steps]] table per (kind, params)."""
    lines = ["# written by the kmor window; run it again with `kmor run` on this file", "",
             "[batch]", f"name = {toml_value(name)}", f"description = {toml_value(description)}"]
    for kind, params in steps:
        lines += ["", "[[steps]]", f"kind = {toml_value(kind)}"]
        lines += [f"{key} = {toml_value(value)}" for key, value in as_table(params).items()]
    return "\n".join(lines) + "\n"


def preparation_steps(mode: str, context: Mapping[str, Any], *, laser: Any, search: Any,
                      lock: Any) -> list[tuple[str, Any]]:
    """Steps before a measurement (laser, lock-point search, lock) as (kind, params).

    `context` is what the last runs left in the engine context ("laser", "lock_point", "lock").
    `laser`, `search`, `lock` are the validated LaserSetupParams, LockPointParams and LockParams
    of the Laser lock panel. When a lock record exists and the panel asks for the level "here",
    the recorded level is held again (the laser has drifted since, so "here" would lock
    elsewhere); a set level typed in the panel is always used as given.
    """
    if mode == PREPARE_NONE:
        return []
    steps: list[tuple[str, Any]] = []
    if "laser" not in context:
        steps.append(("laser", laser))
    known = context.get("lock") or context.get("lock_point")
    if mode == PREPARE_SEARCH or known is None:
        steps.append(("lock_point_search", search))
        steps.append(("lock", dataclasses.replace(lock, piezo_pct=-1.0)))
        return steps
    piezo = float(known["piezo_pct"])
    record = context.get("lock")
    if lock.setpoint_from == "here" and record is not None:
        lock = dataclasses.replace(lock, setpoint_from="value", setpoint_V=float(record["setpoint_V"]))
    steps.append(("lock", dataclasses.replace(lock, piezo_pct=min(max(piezo, 0.0), 100.0))))
    return steps
