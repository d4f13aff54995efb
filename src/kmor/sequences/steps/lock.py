"""Step kind "lock": lock the laser at a set level and keep the servo running (kmor.sequences.lock)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmor.sequences import lock
from kmor.sequences.lock import LockParams, acquire_lock
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, register

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


def run(engine: Engine, p: LockParams, label: str) -> Any:
    return acquire_lock(engine, p)


def estimate_s(p: LockParams, config: Any) -> float:
    return lock.estimate_s(p)


def check_limits(p: LockParams, check: LimitCheck) -> None:
    if p.setpoint_from == "value" and abs(p.setpoint_V) > 10.0:
        check.fail("setpoint_V", "must lie within the DAQ input range +-10 V")


register(StepKind(name="lock", params=LockParams, run=run, estimate_s=estimate_s,
                  label=lambda p: "laser lock", check_limits=check_limits, context_key="lock",
                  locks=True, needs_laser=True))
