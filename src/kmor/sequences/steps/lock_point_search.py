"""Step kind "lock_point_search": scan the piezo for the largest rotation (kmor.sequences.lockpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmor.sequences import lockpoint
from kmor.sequences.lockpoint import LockPointParams, search_lock_point
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, register

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


def run(engine: Engine, p: LockPointParams, label: str) -> Any:
    return search_lock_point(engine, p, label=label)


def estimate_s(p: LockPointParams, config: Any) -> float:
    return lockpoint.estimate_s(p)


def check_limits(p: LockPointParams, check: LimitCheck) -> None:
    check.field("field_uG", p.field_uG, "bz")
    check.light("light_power_uW", [p.light_power_uW])


register(StepKind(name="lock_point_search", params=LockPointParams, run=run, estimate_s=estimate_s,
                  label=lambda p: "lock-point search", check_limits=check_limits, makes_scan=True,
                  context_key="lock_point", locks=False, needs_laser=True))
