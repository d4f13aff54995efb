"""Step kind "bscan_series": one B scan per light power (the power series for the Zeeman width)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kmor.config.schema import param
from kmor.sequences.bscan import BScanParams
from kmor.sequences.steps import bscan
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, narrow, register


@dataclass(frozen=True, kw_only=True)
class BScanSeriesParams(BScanParams):
    """One triangular B scan per light power (the power series for the Zeeman width)."""

    light_powers_uW: list[float] = param(units="uW", min=0.0, max=1e6, doc="light powers, one scan each, in order")

    def problems(self) -> list[tuple[str, str]]:
        if not self.light_powers_uW:
            return [("light_powers_uW", "give at least one light power")]
        if any(p <= 0 for p in self.light_powers_uW):
            return [("light_powers_uW", "every light power must be > 0 uW")]
        if self.light_power_uW:
            return [("light_power_uW", "not used in a series; give the powers in light_powers_uW")]
        return super().problems()


def expand(p: BScanSeriesParams) -> list[tuple[str, str, Any]]:
    base = narrow(BScanParams, p)
    jobs = []
    for power in p.light_powers_uW:
        q = dataclasses.replace(base, light_power_uW=power)
        jobs.append(("bscan", bscan.label(q), q))
    return jobs


def check_limits(p: BScanSeriesParams, check: LimitCheck) -> None:
    bscan.check_sweep(p, check)
    check.light("light_powers_uW", p.light_powers_uW)


register(StepKind(name="bscan_series", params=BScanSeriesParams, expand=expand,
                  check_limits=check_limits, needs_lock=True))
