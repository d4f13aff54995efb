"""What comes before a measurement: the acquisition decisions behind the window's "lock the
laser first" choice and its lock hold, from what the lab session knows (its context: laser set
up, lock point found, last lock record) and what the user asked for. The window only asks and
shows; these functions decide."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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


def lock_hold_steps(context: Mapping[str, Any], *, laser: Any, lock: Any) -> tuple[Any, Any | None]:
    """(LockParams, LaserSetupParams or None) for a lock hold: at the known lock point (and
    recorded level) if there is one, else where the laser is; the laser is set up first only if
    this session has not done it."""
    if context.get("lock") or context.get("lock_point"):
        steps = preparation_steps(PREPARE_LOCK, context, laser=laser, search=None, lock=lock)
        lock = next(p for kind, p in steps if kind == "lock")
    return lock, (laser if "laser" not in context else None)
