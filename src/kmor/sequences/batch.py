"""Batch files: a TOML list of steps, validated whole (schema and lab limits) before any
hardware is touched, and expanded into jobs (one scan each for measurement steps).

    [batch]
    name = "paper"

    [[steps]]
    kind = "bscan_series"
    light_powers_uW = [2.0, 4.0, 6.0]
    field_range_uG = 100.0

Step kinds (laser, lock, lock_point_search, zeroing, bscan, bscan_series, rfscan, rf_grid, hold,
...) are the entries of the registry in kmor.sequences.steps, one file per kind: this module
looks up a kind's parameter class, limit check, expansion and estimate there. Every error names
the file and the dotted key (e.g. `steps[3].field_range_uG`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kmor.config.loader import (
    ConfigError,
    build,
    parse_toml_bytes,
    printable_path,
    read_toml,
)
from kmor.config.schema import param
from kmor.sequences import steps as steps_registry
from kmor.sequences.steps import LimitCheck
from kmor.sequences.steps.bscan_series import BScanSeriesParams as BScanSeriesParams
from kmor.sequences.steps.rf_grid import RfGridParams as RfGridParams


@dataclass(frozen=True, kw_only=True)
class BatchSection:
    """The batch as a whole."""

    name: str = param("batch", doc="run name: the run folder is data_dir/YYYYMMDD-HHMMSS-name (1-100 "
                                   "characters with at least one letter or digit; letters, digits, '.', "
                                   "'_' and '-' are kept, anything else becomes '-')")
    description: str = param("", doc="free text, stored with the queue")

    def problems(self) -> list[tuple[str, str]]:
        if not any(c.isascii() and c.isalnum() for c in self.name) or len(self.name) > 100:
            return [("name", f"{self.name[:40]!r} cannot name a run folder: give 1-100 characters with at "
                             "least one letter or digit (A-Z, a-z, 0-9; '.', '_' and '-' are kept, anything "
                             "else becomes '-')")]
        return []


STEP_KINDS: dict[str, type] = {name: kind.params for name, kind in steps_registry.all_kinds().items()}
"""Parameter class of every step kind (from the registry, kmor.sequences.steps)."""
JOB_KINDS = tuple(name for name, kind in steps_registry.all_kinds().items() if kind.is_job)
"""Kinds that run as one queue job (the others expand into several jobs)."""


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
    longest_s: float
    """The longest the job can take (s; the estimate unless its kind says otherwise). Not stored in
    the queue: a resumed batch recomputes it from its steps."""

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
                 f"{len(self.jobs)} jobs, {sum(steps_registry.get(j.kind).makes_scan for j in self.jobs)} scans"]
        for i, (kind, _) in enumerate(self.steps):
            jobs = [j for j in self.jobs if j.step == i]
            lines.append(f"  steps[{i}] {kind}: {len(jobs)} job(s), about {_duration_range(jobs)}")
        lines.append(f"estimated duration (lab time): {_duration_range(self.jobs)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _duration_range(jobs: list[Job]) -> str:
    """'8 min 17 s', or '8 min 17 s (up to 16 min 34 s)' when some job may take longer than its
    estimate (a zeroing that needs all its passes)."""
    typical = sum(j.estimate_s for j in jobs)
    longest = sum(j.longest_s for j in jobs)
    text = format_duration(typical)
    return text if longest <= typical * 1.01 else f"{text} (up to {format_duration(longest)})"


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
    return parse_batch(data, text, printable_path(path), config)


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
        params: Any = build(STEP_KINDS[kind], table, file=file, key=key)
        check_limits(kind, params, config, file=file, key=key)
        steps.append((kind, params))
    jobs = expand(steps, config)
    _refuse_too_many_jobs(jobs, file)
    return Batch(file=file, text=text, section=section, steps=steps, jobs=jobs, warnings=_warnings(steps))


MAX_JOBS = 10_000
"""Most jobs one batch may expand to. Each job is a line of queue.json (about 0.7 kB, written at the
start) and at least one scan; the paper's batch has 22 jobs, and 10,000 scans are weeks of lab
time. Larger batches are split into several files (docs/decisions/0153)."""


def _refuse_too_many_jobs(jobs: list[Job], file: str) -> None:
    """ConfigError naming the limit and the largest step (before any queue file is written)."""
    if len(jobs) > MAX_JOBS:
        counts = Counter(job.step for job in jobs)
        biggest, count = counts.most_common(1)[0]
        raise ConfigError(file, "steps", f"the batch expands to {len(jobs)} jobs (steps[{biggest}] alone to "
                                         f"{count}); a batch may have at most {MAX_JOBS}: split it "
                                         f"into several batch files")


# --------------------------------------------------------------------------------------------
def check_limits(kind: str, p: Any, config: Any, *, file: str, key: str) -> None:
    """Refuse anything beyond the lab's limits or wiring, naming file and dotted key (the kind's
    own check, kmor.sequences.steps.<kind>.check_limits)."""
    steps_registry.get(kind).check_limits(p, LimitCheck(config, file=file, key=key))


def expand(steps: list[tuple[str, Any]], config: Any) -> list[Job]:
    """Steps -> jobs, each with its lab-time estimate (ids s<step>-<k>-<job kind>)."""
    jobs: list[Job] = []
    for i, (kind, p) in enumerate(steps):
        for k, (job_kind, label, params) in enumerate(steps_registry.get(kind).jobs(p)):
            kind_of_job = steps_registry.get(job_kind)
            assert kind_of_job.estimate_s is not None
            estimate = kind_of_job.estimate_s(params, config)
            longest = estimate if kind_of_job.longest_s is None else kind_of_job.longest_s(params, config)
            jobs.append(Job(id=f"s{i:02d}-{k:03d}-{job_kind}", step=i, key=f"steps[{i}]", kind=job_kind,
                            label=label, params=params, estimate_s=estimate, longest_s=longest))
    return jobs


def params_from_dict(kind: str, data: Mapping[str, Any]) -> Any:
    """A job's parameters back from their JSON form (queue file)."""
    if kind not in JOB_KINDS:
        raise KeyError(kind)
    return steps_registry.get(kind).params(**data)


def _warnings(steps: list[tuple[str, Any]]) -> list[str]:
    """What will run but probably not as meant: a scan before any laser step (the light is off:
    the scan records noise), a scan with the laser unlocked, a lock before the laser is on."""
    warnings = []
    locked = False
    laser = False
    for i, (kind, _) in enumerate(steps):
        entry = steps_registry.get(kind)
        if entry.turns_laser_on:
            laser = True
        if entry.locks is not None:
            locked = entry.locks
        if entry.needs_lock and not laser:
            warnings.append(f"steps[{i}] ({kind}) comes before any laser step: nothing switches the laser on, so "
                            "the light will be off (the simulated lab starts dark) and the scan will show no "
                            "signal, only noise; put a laser step first (kind = \"laser\")")
        elif entry.needs_lock and not locked:
            warnings.append(f"steps[{i}] ({kind}) runs with the laser unlocked (no lock step before it)")
        if entry.needs_laser and not laser:
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
