"""Step kind "rfscan": one stepped rf scan over the 0-0 line (kmor.sequences.rfscan)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmor.sequences import rfscan
from kmor.sequences.rfscan import RfScanParams, run_rfscan
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, register

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


def run(engine: Engine, p: RfScanParams, label: str) -> Any:
    return run_rfscan(engine, p, label=label)


def estimate_s(p: RfScanParams, config: Any) -> float:
    return rfscan.estimate_s(p, config.limits.max_ramp_uG_per_s)


def check_limits(p: RfScanParams, check: LimitCheck) -> None:
    check.field("bz_uG", p.bz_uG, "bz")
    check.light("light_power_uW", [p.light_power_uW])
    check.rf("rf_power_dBm", [p.rf_power_dBm])


def label(p: RfScanParams) -> str:
    return f"rf {p.light_power_uW:g} uW {p.rf_power_dBm:g} dBm"


register(StepKind(name="rfscan", params=RfScanParams, run=run, estimate_s=estimate_s, label=label,
                  check_limits=check_limits, makes_scan=True, needs_lock=True))
