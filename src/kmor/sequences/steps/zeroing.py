"""Step kind "zeroing": null the transverse fields Bx, By (kmor.sequences.zeroing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmor.sequences import zeroing
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, register
from kmor.sequences.zeroing import ZeroingParams, zero_transverse_fields

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


def run(engine: Engine, p: ZeroingParams, label: str) -> Any:
    return zero_transverse_fields(engine, p, label=label)


def estimate_s(p: ZeroingParams, config: Any) -> float:
    return zeroing.estimate_s(p, config.limits.max_ramp_uG_per_s)


def longest_s(p: ZeroingParams, config: Any) -> float:
    """A zeroing that does not converge runs all its passes."""
    return zeroing.estimate_s(p, config.limits.max_ramp_uG_per_s, passes=p.max_passes)


def check_limits(p: ZeroingParams, check: LimitCheck) -> None:
    check.field("bz_range_uG", p.bz_range_uG, "bz")
    for axis in p.axes:
        check.field("span_uG", p.span_uG * 1.5 + 10.0, axis)
    check.light("light_power_uW", [p.light_power_uW])


register(StepKind(name="zeroing", params=ZeroingParams, run=run, estimate_s=estimate_s, longest_s=longest_s,
                  label=lambda p: "transverse-field zeroing", check_limits=check_limits, makes_scan=True,
                  context_key="zeroing", needs_lock=True))
