"""The registry of batch step kinds: one `StepKind` entry per kind, in one place.

Everything that depends on a step's kind -- the parameter class a [[steps]] table is built into,
the lab-limit check, the expansion into queue jobs, the lab-time estimate, the sequence that runs
a job, whether the job records a scan, what it leaves in the engine context and how it bears on
the laser lock -- is a field of its entry. batch.py, runner.py, queue.py and the GUI look kinds up
here and never dispatch on a kind's name.

Adding a kind: one file in kmor/sequences/steps/ that builds a `StepKind` and calls `register`
(see hold.py); the package imports every module in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kmor.sequences.steps.limits import LimitCheck

RunFn = Callable[[Any, Any, str], Any]
"""run(engine, params, label) -> the job's result (JSON-able; stored in the queue)."""
EstimateFn = Callable[[Any, Any], float]
"""estimate_s(params, lab config) -> lab time in s."""
LimitFn = Callable[[Any, LimitCheck], None]
"""check_limits(params, check): call check.field / check.light / check.rf / check.fail."""
ExpandFn = Callable[[Any], list[tuple[str, str, Any]]]
"""expand(params) -> [(job kind, label, job params)], in order."""


def _no_limits(params: Any, check: LimitCheck) -> None:
    """A kind that sets nothing the lab limits cover."""


@dataclass(frozen=True)
class StepKind:
    """One batch step kind.

    A kind with `run` is also a job kind (it runs as one queue job, labelled by `label`, lasting
    `estimate_s`, or at most `longest_s` when its length depends on the data, e.g. a zeroing that
    needs all its passes); a kind with `expand` (a series, a grid) becomes several jobs of other kinds.
    `context_key`: the engine-context entry the job sets (recovered from its scan's result when a
    killed run is resumed). `locks`: True if the step leaves the laser locked, False if it leaves
    it unlocked, None if it does not change the lock. `needs_lock` / `needs_laser`: the batch
    warns if no earlier step locked the laser / switched it on."""

    name: str
    params: type
    run: RunFn | None = None
    estimate_s: EstimateFn | None = None
    longest_s: EstimateFn | None = None
    label: Callable[[Any], str] | None = None
    expand: ExpandFn | None = None
    check_limits: LimitFn = _no_limits
    makes_scan: bool = False
    context_key: str | None = None
    locks: bool | None = None
    needs_lock: bool = False
    needs_laser: bool = False
    turns_laser_on: bool = False

    def __post_init__(self) -> None:
        if (self.run is None) == (self.expand is None):
            raise ValueError(f"step kind {self.name!r}: give either run (a job) or expand (a series)")
        if self.run is not None and (self.estimate_s is None or self.label is None):
            raise ValueError(f"step kind {self.name!r}: a job kind needs estimate_s and label")

    @property
    def is_job(self) -> bool:
        """True if the kind runs as one queue job (it has a sequence)."""
        return self.run is not None

    def jobs(self, params: Any) -> list[tuple[str, str, Any]]:
        """The (job kind, label, params) this step expands into."""
        if self.expand is not None:
            return self.expand(params)
        assert self.label is not None
        return [(self.name, self.label(params), params)]


_KINDS: dict[str, StepKind] = {}


def register(kind: StepKind) -> StepKind:
    """Add a kind to the registry (once per name)."""
    if kind.name in _KINDS:
        raise ValueError(f"step kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> StepKind:
    """The entry of a registered kind (KeyError if unknown)."""
    return _KINDS[name]


def all_kinds() -> dict[str, StepKind]:
    """Every registered kind, by name, in registration order."""
    return dict(_KINDS)


def narrow(cls: type, params: Any) -> Any:
    """`params` (e.g. a series' parameters) as an instance of `cls`, keeping the fields `cls` has."""
    import dataclasses
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in dataclasses.asdict(params).items() if k in names})
