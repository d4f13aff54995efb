"""Step kind "bscan": one triangular Bz scan at one light power (kmor.sequences.bscan)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmor.sequences import bscan
from kmor.sequences.bscan import BScanParams, run_bscan
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, register
from kmor.sequences.wiring import signal_ai_problems

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine


def run(engine: Engine, p: BScanParams, label: str) -> Any:
    return run_bscan(engine, p, label=label)


def estimate_s(p: BScanParams, config: Any) -> float:
    return bscan.estimate_s(p, config.limits.max_ramp_uG_per_s)


def check_sweep(p: BScanParams, check: LimitCheck) -> None:
    """The field range on Bz and, for a hardware-timed sweep, the DAQ wiring and the ramp rate
    (shared with "bscan_series")."""
    check.field("field_range_uG", p.field_range_uG, "bz")
    if p.hardware_timed:
        for field, message in signal_ai_problems(p.signal_ai, check.config.daq):
            check.fail(field, message)
        if check.config.coils.bz.drive != "daq_ao":
            check.fail("hardware_timed", "needs the Bz coil on a DAQ output (coils.bz.drive = 'daq_ao')")
        rate = p.step_uG * p.sweep_rate_hz / p.samples_per_point
        limit = check.limits.max_ramp_uG_per_s
        if rate > limit:
            check.fail("sweep_rate_hz", f"steps of {p.step_uG:g} uG every {p.samples_per_point} samples at "
                                        f"{p.sweep_rate_hz:g} Hz move the field at {rate:g} uG/s, beyond "
                                        f"limits.max_ramp_uG_per_s = {limit:g}")


def check_limits(p: BScanParams, check: LimitCheck) -> None:
    check_sweep(p, check)
    check.light("light_power_uW", [p.light_power_uW])


def label(p: BScanParams) -> str:
    return f"bscan {p.light_power_uW:g} uW"


register(StepKind(name="bscan", params=BScanParams, run=run, estimate_s=estimate_s, label=label,
                  check_limits=check_limits, makes_scan=True, needs_lock=True))
