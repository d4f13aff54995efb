"""Batch files: a TOML list of steps, validated whole (schema and lab limits) before any
hardware is touched, and expanded into jobs (one scan each for measurement steps).

    [batch]
    name = "paper"

    [[steps]]
    kind = "bscan_series"
    light_powers_uW = [2.0, 4.0, 6.0]
    field_range_uG = 100.0

Step kinds: laser, lock, lock_point_search, zeroing, bscan, bscan_series (one B scan per light
power), rfscan, rf_grid (one rf scan per light power x rf power). Every error names the file and
the dotted key (e.g. `steps[3].field_range_uG`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kmor.config.loader import ConfigError, build, parse_toml_bytes, read_toml
from kmor.config.schema import param
from kmor.sequences import bscan, laser, lock, lockpoint, rfscan, zeroing
from kmor.sequences.bscan import BScanParams
from kmor.sequences.laser import LaserSetupParams
from kmor.sequences.lock import LockParams
from kmor.sequences.lockpoint import LockPointParams
from kmor.sequences.rfscan import RfScanParams
from kmor.sequences.zeroing import ZeroingParams


@dataclass(frozen=True, kw_only=True)
class BatchSection:
    """The batch as a whole."""

    name: str = param("batch", doc="run name: the run folder is data_dir/YYYYMMDD-HHMMSS-name")
    description: str = param("", doc="free text, stored with the queue")


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


STEP_KINDS: dict[str, type] = {
    "laser": LaserSetupParams, "lock": LockParams, "lock_point_search": LockPointParams,
    "zeroing": ZeroingParams, "bscan": BScanParams, "bscan_series": BScanSeriesParams,
    "rfscan": RfScanParams, "rf_grid": RfGridParams,
}
JOB_KINDS = ("laser", "lock", "lock_point_search", "zeroing", "bscan", "rfscan")


@dataclass(frozen=True)
class Job:
    """One unit of the durable queue: a sequence with its parameters (one scan at most)."""

    id: str
    step: int
    key: str
    kind: str
    label: str
    params: Any
    estimate_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "key": self.key, "kind": self.kind,
                "label": self.label, "params": dataclasses.asdict(self.params),
                "estimate_s": self.estimate_s}


@dataclass(frozen=True)
class Batch:
    """A validated batch: its steps, its jobs, the file and text it came from."""

    file: str
    text: str
    section: BatchSection
    steps: list[tuple[str, Any]]
    jobs: list[Job]
    warnings: list[str]

    @property
    def estimate_s(self) -> float:
        """Total estimated lab time (s)."""
        return sum(j.estimate_s for j in self.jobs)

    def summary(self) -> str:
        """Human description: steps, jobs, estimated duration, warnings."""
        lines = [f"{self.file}: valid batch '{self.section.name}', {len(self.steps)} steps, "
                 f"{len(self.jobs)} jobs, {sum(j.kind in ('bscan', 'rfscan', 'zeroing', 'lock_point_search') for j in self.jobs)} scans"]
        for i, (kind, _) in enumerate(self.steps):
            jobs = [j for j in self.jobs if j.step == i]
            lines.append(f"  steps[{i}] {kind}: {len(jobs)} job(s), about {format_duration(sum(j.estimate_s for j in jobs))}")
        lines.append(f"estimated duration (lab time): {format_duration(self.estimate_s)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def format_duration(seconds: float) -> str:
    """'1 h 02 min', '3 min 20 s', '12 s'."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def load_batch(path: str | Path, config: Any) -> Batch:
    """Read and validate a batch file against the schema and the lab config's limits."""
    data, text = read_toml(path)
    return parse_batch(data, text, str(path), config)


def parse_batch_text(text: str, file: str, config: Any) -> Batch:
    """`load_batch` from the text (e.g. the copy stored in a run's queue, for --resume)."""
    data, text = parse_toml_bytes(text.encode("utf-8"), file)
    return parse_batch(data, text, file, config)


MAX_INT = 2**63 - 1


def _refuse_huge_ints(value: Any, file: str, key: str) -> None:
    """TOML integers are unbounded in Python's parser; anything past 64 bits is refused here
    (float() of it would raise OverflowError, not a ConfigError)."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise ConfigError(file, key, f"integer with {len(str(abs(value)))} digits is out of range (at most 2**63 - 1)")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _refuse_huge_ints(v, file, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _refuse_huge_ints(v, file, f"{key}[{i}]")


def parse_batch(data: Mapping[str, Any], text: str, file: str, config: Any) -> Batch:
    _refuse_huge_ints(data, file, "")
    unknown = sorted(set(data) - {"batch", "steps"})
    if unknown:
        raise ConfigError(file, unknown[0], "unknown key; a batch file has a [batch] table and [[steps]]")
    section = build(BatchSection, data.get("batch", {}), file=file, key="batch")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ConfigError(file, "steps", "missing; give at least one [[steps]] table")
    steps = []
    for i, raw in enumerate(raw_steps):
        key = f"steps[{i}]"
        if not isinstance(raw, Mapping):
            raise ConfigError(file, key, "expected a table ([[steps]])")
        kind = raw.get("kind")
        if kind not in STEP_KINDS:
            raise ConfigError(file, f"{key}.kind", f"must be one of {', '.join(repr(k) for k in STEP_KINDS)}; got {kind!r}")
        table = {k: v for k, v in raw.items() if k != "kind"}
        params = build(STEP_KINDS[kind], table, file=file, key=key)
        check_limits(kind, params, config, file=file, key=key)
        steps.append((kind, params))
    jobs = expand(steps, config)
    return Batch(file=file, text=text, section=section, steps=steps, jobs=jobs, warnings=_warnings(steps))


# --------------------------------------------------------------------------------------------
def check_limits(kind: str, p: Any, config: Any, *, file: str, key: str) -> None:
    """Refuse anything beyond the lab's limits or wiring, naming file and dotted key."""
    limits = config.limits

    def fail(field: str, message: str) -> None:
        raise ConfigError(file, f"{key}.{field}", message)

    def field_ok(field: str, value_uG: float, axis: str) -> None:
        if abs(value_uG) > limits.max_field_uG:
            fail(field, f"{abs(value_uG):g} uG exceeds the lab limit limits.max_field_uG = {limits.max_field_uG:g} uG")
        coil = getattr(config.coils, axis)
        if coil.drive == "daq_ao":
            drive, limit, units, name = abs(value_uG / coil.calibration_uG_per_V), limits.max_coil_voltage_V, "V", "limits.max_coil_voltage_V"
        else:
            drive, limit, units, name = abs(value_uG / coil.calibration_uG_per_mA), limits.max_coil_current_mA, "mA", "limits.max_coil_current_mA"
        if drive > limit:
            fail(field, f"{abs(value_uG):g} uG on coil {axis} needs {drive:.4g} {units}, beyond {name} = {limit:g} {units}")

    def light_ok(field: str, powers: list[float]) -> None:
        for power in powers:
            if power > limits.max_light_power_uW:
                fail(field, f"{power:g} uW exceeds the lab limit limits.max_light_power_uW = {limits.max_light_power_uW:g} uW")
            if power > 0 and not config.daq.attenuator_ao:
                fail(field, "this lab has no attenuator (daq.attenuator_ao is empty), so the light power cannot be "
                            "set; use 0 (leave it) and set the power by hand")

    def rf_ok(field: str, levels: list[float]) -> None:
        for level in levels:
            if level > limits.max_rf_amplitude_dBm:
                fail(field, f"{level:g} dBm exceeds the lab limit limits.max_rf_amplitude_dBm = {limits.max_rf_amplitude_dBm:g} dBm")

    if kind in ("bscan", "bscan_series"):
        field_ok("field_range_uG", p.field_range_uG, "bz")
        if p.hardware_timed:
            if config.coils.bz.drive != "daq_ao":
                fail("hardware_timed", "needs the Bz coil on a DAQ output (coils.bz.drive = 'daq_ao')")
            rate = p.step_uG * p.sweep_rate_hz / p.samples_per_point
            if rate > limits.max_ramp_uG_per_s:
                fail("sweep_rate_hz", f"steps of {p.step_uG:g} uG every {p.samples_per_point} samples at "
                                      f"{p.sweep_rate_hz:g} Hz move the field at {rate:g} uG/s, beyond "
                                      f"limits.max_ramp_uG_per_s = {limits.max_ramp_uG_per_s:g}")
        light_ok("light_powers_uW" if kind == "bscan_series" else "light_power_uW",
                 p.light_powers_uW if kind == "bscan_series" else [p.light_power_uW])
    elif kind in ("rfscan", "rf_grid"):
        field_ok("bz_uG", p.bz_uG, "bz")
        light_ok("light_powers_uW" if kind == "rf_grid" else "light_power_uW",
                 p.light_powers_uW if kind == "rf_grid" else [p.light_power_uW])
        rf_ok("rf_powers_dBm" if kind == "rf_grid" else "rf_power_dBm",
              p.rf_powers_dBm if kind == "rf_grid" else [p.rf_power_dBm])
    elif kind == "lock_point_search":
        field_ok("field_uG", p.field_uG, "bz")
        light_ok("light_power_uW", [p.light_power_uW])
    elif kind == "zeroing":
        field_ok("bz_range_uG", p.bz_range_uG, "bz")
        for axis in p.axes:
            field_ok("span_uG", p.span_uG * 1.5 + 10.0, axis)
        light_ok("light_power_uW", [p.light_power_uW])
    elif kind == "lock":
        if p.setpoint_from == "value" and abs(p.setpoint_V) > 10.0:
            fail("setpoint_V", "must lie within the DAQ input range +-10 V")


def expand(steps: list[tuple[str, Any]], config: Any) -> list[Job]:
    """Steps -> jobs, each with its lab-time estimate."""
    ramp = config.limits.max_ramp_uG_per_s
    jobs: list[Job] = []
    for i, (kind, p) in enumerate(steps):
        key = f"steps[{i}]"

        def add(job_kind: str, label: str, params: Any, estimate: float, k: int = 0) -> None:
            jobs.append(Job(id=f"s{i:02d}-{k:03d}-{job_kind}", step=i, key=key, kind=job_kind,
                            label=label, params=params, estimate_s=estimate))

        if kind == "laser":
            add("laser", f"laser on {p.line}", p, laser.estimate_s(p))
        elif kind == "lock":
            add("lock", "laser lock", p, lock.estimate_s(p))
        elif kind == "lock_point_search":
            add("lock_point_search", "lock-point search", p, lockpoint.estimate_s(p))
        elif kind == "zeroing":
            add("zeroing", "transverse-field zeroing", p, zeroing.estimate_s(p, ramp))
        elif kind == "bscan":
            add("bscan", f"bscan {p.light_power_uW:g} uW", p, bscan.estimate_s(p, ramp))
        elif kind == "bscan_series":
            base = _base(BScanParams, p)
            for k, power in enumerate(p.light_powers_uW):
                q = dataclasses.replace(base, light_power_uW=power)
                add("bscan", f"bscan {power:g} uW", q, bscan.estimate_s(q, ramp), k)
        elif kind == "rfscan":
            add("rfscan", f"rf {p.light_power_uW:g} uW {p.rf_power_dBm:g} dBm", p, rfscan.estimate_s(p, ramp))
        elif kind == "rf_grid":
            base = _base(RfScanParams, p)
            k = 0
            for power in p.light_powers_uW:
                for level in p.rf_powers_dBm:
                    q = dataclasses.replace(base, light_power_uW=power, rf_power_dBm=level)
                    add("rfscan", f"rf {power:g} uW {level:g} dBm", q, rfscan.estimate_s(q, ramp), k)
                    k += 1
    return jobs


def _base(cls: type, p: Any) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in dataclasses.asdict(p).items() if k in names})


def params_from_dict(kind: str, data: Mapping[str, Any]) -> Any:
    """A job's parameters back from their JSON form (queue file)."""
    cls = {"laser": LaserSetupParams, "lock": LockParams, "lock_point_search": LockPointParams,
           "zeroing": ZeroingParams, "bscan": BScanParams, "rfscan": RfScanParams}[kind]
    return cls(**data)


def _warnings(steps: list[tuple[str, Any]]) -> list[str]:
    warnings = []
    locked = False
    laser = False
    for i, (kind, p) in enumerate(steps):
        if kind == "laser":
            laser = True
        if kind == "lock":
            locked = True
        if kind == "lock_point_search":
            locked = False
        if kind in ("bscan", "bscan_series", "rfscan", "rf_grid", "zeroing") and not locked:
            warnings.append(f"steps[{i}] ({kind}) runs with the laser unlocked (no lock step before it)")
        if kind in ("lock", "lock_point_search") and not laser:
            warnings.append(f"steps[{i}] ({kind}) comes before any laser step: the laser must already be on")
            laser = True
    return warnings


def step_reference_markdown() -> str:
    """Every step kind and its keys (default, units, allowed values, meaning) as Markdown tables,
    from the schema itself (docs/sequences.md embeds this text; a test keeps them equal)."""
    from kmor.config.schema import param_info

    def show(value: Any) -> str:
        text = repr(value).replace("'", '"')
        return {"True": "true", "False": "false"}.get(text, text)

    out = []
    for kind, cls in STEP_KINDS.items():
        out += [f"### `{kind}`", "", (cls.__doc__ or "").strip().splitlines()[0], "",
                "| key | default | units | allowed | meaning |", "|---|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            info = param_info(f)
            if f.default is not dataclasses.MISSING:
                default = show(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = show(f.default_factory())
            else:
                default = "required"
            if info.choices:
                allowed = ", ".join(show(c) for c in info.choices)
            elif info.min is not None and info.max is not None:
                allowed = f"{info.min:g} .. {info.max:g}"
            else:
                allowed = ""
            out.append(f"| `{f.name}` | {default} | {info.units} | {allowed} | {info.doc} |")
        out.append("")
    return "\n".join(out)
