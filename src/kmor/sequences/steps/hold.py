"""Step kind "hold": wait a while with the laser lock held (e.g. to let the cell or the lock
settle between two scans). The servo keeps running and a lost lock is re-acquired; pause and
abort act every `check_every_s`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kmor.config.schema import param
from kmor.sequences.steps.registry import StepKind, register

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


@dataclass(frozen=True, kw_only=True)
class HoldParams:
    """Wait with the laser lock held."""

    duration_s: float = param(units="s", min=0.0, max=86400.0, doc="how long to wait")
    check_every_s: float = param(1.0, units="s", min=0.01, max=3600.0,
                                 doc="pause, abort and the lock are checked this often")


def run(engine: Engine, p: HoldParams, label: str) -> dict[str, Any]:
    """Wait `duration_s` of lab time in slices of `check_every_s`, honouring pause/abort and
    re-locking if the lock was lost; returns the time waited (s) and whether it stayed locked."""
    start_s = engine.now_s()
    end_s = start_s + p.duration_s
    while (left_s := end_s - engine.now_s()) > 1e-6:
        engine.checkpoint()
        engine.recover_if_tripped()
        engine.wait(min(p.check_every_s, left_s))
    servo = engine.servo
    return {"held_s": engine.now_s() - start_s, "locked": servo is not None and not servo.lost}


def estimate_s(p: HoldParams, config: Any) -> float:
    return p.duration_s


register(StepKind(name="hold", params=HoldParams, run=run, estimate_s=estimate_s,
                  label=lambda p: f"hold lock {p.duration_s:g} s", needs_lock=True))
