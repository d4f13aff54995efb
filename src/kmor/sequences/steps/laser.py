"""Step kind "laser": emission on, current, line, piezo start (kmor.sequences.laser)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmor.sequences import laser
from kmor.sequences.laser import LaserSetupParams, setup_laser
from kmor.sequences.steps.registry import StepKind, register

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


def run(engine: Engine, p: LaserSetupParams, label: str) -> Any:
    return setup_laser(engine, p)


def estimate_s(p: LaserSetupParams, config: Any) -> float:
    return laser.estimate_s(p)


register(StepKind(name="laser", params=LaserSetupParams, run=run, estimate_s=estimate_s,
                  label=lambda p: f"laser on {p.line}", context_key="laser", turns_laser_on=True))
