"""Step kind "rf_grid": one rf scan per (light power, rf power), for the hyperfine extrapolations."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kmor.config.schema import param
from kmor.sequences.rfscan import RfScanParams
from kmor.sequences.steps import rfscan
from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, narrow, register


@dataclass(frozen=True, kw_only=True)
class RfGridParams(RfScanParams):
    """One rf scan per (light power, rf power): the grid for the hyperfine line's extrapolations."""

    light_powers_uW: list[float] = param(units="uW", min=0.0, max=1e6, doc="light powers (outer loop)")
    rf_powers_dBm: list[float] = param(units="dBm", min=-136.0, max=10.0, doc="rf powers (inner loop)")

    def problems(self) -> list[tuple[str, str]]:
        if not self.light_powers_uW:
            return [("light_powers_uW", "give at least one light power")]
        if any(p <= 0 for p in self.light_powers_uW):
            return [("light_powers_uW", "every light power must be > 0 uW")]
        if not self.rf_powers_dBm:
            return [("rf_powers_dBm", "give at least one rf power")]
        if self.light_power_uW:
            return [("light_power_uW", "not used in a grid; give the powers in light_powers_uW")]
        return super().problems()


def expand(p: RfGridParams) -> list[tuple[str, str, Any]]:
    base = narrow(RfScanParams, p)
    jobs = []
    for power in p.light_powers_uW:
        for level in p.rf_powers_dBm:
            q = dataclasses.replace(base, light_power_uW=power, rf_power_dBm=level)
            jobs.append(("rfscan", rfscan.label(q), q))
    return jobs


def check_limits(p: RfGridParams, check: LimitCheck) -> None:
    check.field("bz_uG", p.bz_uG, "bz")
    check.light("light_powers_uW", p.light_powers_uW)
    check.rf("rf_powers_dBm", p.rf_powers_dBm)


register(StepKind(name="rf_grid", params=RfGridParams, expand=expand, check_limits=check_limits,
                  needs_lock=True))
