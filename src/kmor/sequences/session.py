"""A lab session: one station, its run folders, recorder, event bus and run.log, and the state
the runs establish, kept between runs.

    with kmor.connect() as lab:                       # no argument: the simulated lab
        lab.step("laser"); lab.step("lock_point_search"); lab.step("lock"); lab.step("zeroing")
        scan = lab.scan("bz_uG", np.linspace(-20, 20, 41), read=["x_V", "y_V"])
        lab.run(my_plan)                               # any function of the engine
        lab.run_batch("config/sequences/paper.toml")  # a batch file, as `kmor run` runs it

Between runs the session keeps the laser lock (the servo is stepped again by the next run's
first wait; a lock lost meanwhile is re-acquired by the suspender), the transverse fields
Bx, By and the light level; the rf goes off and Bz back to zero. A run that fails or is
interrupted (Ctrl-C, SIGTERM) makes the apparatus safe at once; so do `close()` (the end of the
`with` block, whatever the exception) and the interpreter's exit (atexit). After a safe state
the zeroed transverse fields are set again at the start of the next run.

`kmor run` (kmor.sequences.runner.run_batch) and the GUI (kmor.gui.session) run on this object,
so the wiring -- recorder, fault-injection wrapper, bus, engine -- lives only here.
"""

from __future__ import annotations

import atexit
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kmor.config.files import LoadedConfig
from kmor.config.loader import build
from kmor.sequences import steps
from kmor.sequences.engine import Engine, RunOutcome, Servo
from kmor.sequences.events import Event, EventBus
from kmor.sequences.protocols import Station
from kmor.sequences.recorder import HDF5Recorder, Recorder, ScanRecord
from kmor.sequences.steps import LimitCheck
from kmor.storage import new_run_dir, read_scan

if TYPE_CHECKING:
    from kmor.sequences.runner import BatchResult
    from kmor.storage.reader import Scan

log = logging.getLogger("kmor.sequences.session")
LOG_FILE = "run.log"
TRANSVERSE_AXES = ("bx", "by")

Callback = Callable[[Event], None]
RecorderWrapper = Callable[[Recorder], Recorder]


def _version() -> str:
    import kmor
    return kmor.__version__


class Lab:
    """A session on one station (see the module doc). A context manager: leaving it makes the
    apparatus safe and closes the station if the session opened it."""

    def __init__(self, loaded: LoadedConfig, station: Station, *, data_dir: str | Path | None = None,
                 own_station: bool = False, wrap_recorder: RecorderWrapper | None = None,
                 name: str = "session") -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.station = station
        self.own_station = own_station
        self.data_dir = Path(data_dir if data_dir is not None else self.config.lab.data_dir)
        self.name = name
        self.context: dict[str, Any] = {}
        """What the runs so far established (laser, lock_point, lock, zeroing): engine context."""
        self.wrap_recorder = wrap_recorder
        self._servo: Servo | None = None
        self._safe = True
        self._run_dir: Path | None = None
        self._log_handler: tuple[logging.Handler, int] | None = None
        self._subscribers: list[Callback] = []
        self._closed = False
        atexit.register(self.close)

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Make the apparatus safe (rf off, coils ramped to zero), close the station if this
        session opened it. Idempotent; also runs at interpreter exit."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            self.make_safe()
        finally:
            if self._log_handler is not None:
                detach_log(self._log_handler)
                self._log_handler = None
            if self.own_station:
                self.station.close()

    def make_safe(self) -> None:
        """rf off, coils ramped to zero, the lock released (the context is kept)."""
        self._servo = None
        self._safe = True
        self.station.make_safe()

    def release_lock(self) -> None:
        """Stop holding the lock between runs (the laser control output keeps its last value)."""
        self._servo = None

    @property
    def locked(self) -> bool:
        """True if a lock servo is kept for the next run."""
        return self._servo is not None

    def subscribe(self, callback: Callback) -> None:
        """Call `callback(event)` (on its own thread) for every event of every later run."""
        self._subscribers.append(callback)

    @property
    def run_dir(self) -> Path:
        """The session's own run folder (scans of `run`, `scan`, `step`), made on first use,
        with its run.log."""
        if self._run_dir is None:
            self._run_dir = new_run_dir(self.data_dir, self.name)
            self._log_handler = attach_log(self._run_dir)
        return self._run_dir

    # ------------------------------------------------------------------ wiring
    def recorder(self, run_dir: Path | None = None) -> Recorder:
        """HDF5 scan files in `run_dir` (default: the session folder, made when the first scan
        opens), through the fault-injection wrapper when the simulated lab has one."""
        inner: Recorder = (HDF5Recorder(run_dir, config_text=self.loaded.text, kmor_version=_version())
                           if run_dir is not None else _SessionFolderRecorder(self))
        return self.wrap_recorder(inner) if self.wrap_recorder is not None else inner

    def new_engine(self, run_dir: Path | None = None, *, progress: Callback | None = None,
                   subscribers: Sequence[Callback] = (), context: Mapping[str, Any] | None = None) -> Engine:
        """An engine for one run: its own bus (`subscribers` synchronous, `progress` and the
        session's subscribers asynchronous), the recorder, the session's context (updated with
        `context`) and the lock kept from the last run."""
        bus = EventBus()
        for callback in subscribers:
            bus.subscribe(callback, synchronous=True, name="hook")
        if progress is not None:
            bus.subscribe(progress, name="progress")
        for callback in self._subscribers:
            bus.subscribe(callback, name="session")
        engine = Engine(self.station, recorder=self.recorder(run_dir), bus=bus, kmor_version=_version())
        engine.context.update(self.context)
        engine.context.update(context or {})
        if self._servo is not None:
            engine.engage(self._servo)
        return engine

    def restore(self, engine: Engine) -> None:
        """At the start of a run: after a safe state, set the zeroed transverse fields again."""
        zeroed = engine.context.get("zeroing")
        if self._safe and zeroed:
            fields = {a: float(v) for a, v in zeroed["fields_uG"].items() if a in TRANSVERSE_AXES}
            log.info("setting the zeroed transverse fields again: %s", fields)
            engine.station.coils.set_fields_uG(fields)
        self._safe = False

    def finish(self, engine: Engine, *, kept: bool) -> None:
        """After a run: keep what it established; `kept` says the apparatus was not made safe."""
        self.context = {**self.context, **engine.context}
        self._servo = engine.servo if kept else None
        self._safe = self._safe or not kept
        engine.bus.close()

    # ------------------------------------------------------------------ running
    def run(self, plan: Callable[[Engine], Any], *, message: str = "",
            progress: Callback | None = None,
            engine_ready: Callable[[Engine], None] | None = None) -> RunOutcome:
        """Run `plan(engine)` (any function of the engine: a plain plan) in this thread, its
        scans in the session folder. Returns the RunOutcome; a failure raises (after making the
        apparatus safe). Ctrl-C stops at the next point boundary."""
        self._check_open()
        engine = self.new_engine(progress=progress)
        if engine_ready is not None:
            engine_ready(engine)
        kept = False

        def wrapped(e: Engine) -> Any:
            self.restore(e)
            return plan(e)

        try:
            with engine.signals_stop_at_point_boundary():
                outcome = engine.run(wrapped, message=message, keep_state=True)
            kept = outcome.status in ("complete", "aborted")
            return outcome
        finally:
            self.finish(engine, kept=kept)

    def step(self, kind: str, params: Any = None, /, **keys: Any) -> Any:
        """Run one batch step of `kind` (e.g. "lock", "zeroing", "bscan_series"), from a
        parameter object or from its keys as in a batch file (validated, lab limits checked).
        Returns the job's result (a list of results for a step that expands into several)."""
        entry = steps.get(kind)
        if params is None:
            params = build(entry.params, keys, file="lab.step", key=kind)
        elif keys:
            raise TypeError("give the parameters as an object or as keys, not both")
        entry.check_limits(params, LimitCheck(self.config, file="lab.step", key=kind))
        results = []
        for job_kind, label, job_params in entry.jobs(params):
            run = steps.get(job_kind).run
            assert run is not None
            outcome = self.run(functools.partial(_run_job, run, job_params, label), message=label)
            if outcome.status != "complete":
                raise RuntimeError(f"{label}: {outcome.status} ({outcome.message})")
            results.append(outcome.result)
        return results if entry.expand is not None else results[0]

    def scan(self, setting: str, values: Iterable[float], read: Sequence[str], *,
             settle_s: float = 0.0, label: str = "") -> Scan:
        """Sweep `setting` (one of SETTINGS, e.g. "bz_uG") through `values`, wait `settle_s`,
        read `read` (names in READINGS, e.g. ["x_V", "y_V"]) at every value. Every point is on
        disk (one HDF5 file in the session folder) before the next is taken; returns the scan as
        read back from that file (columns `setting`, the readings and `time_s`)."""
        if setting not in SETTINGS:
            raise ValueError(f"cannot sweep {setting!r}; settings: {', '.join(SETTINGS)}")
        unknown = [r for r in read if r not in READINGS]
        if unknown:
            raise ValueError(f"cannot read {unknown[0]!r}; readings: {', '.join(READINGS)}")
        points = [float(v) for v in values]
        self._check_settings(setting, points)
        apply, units = SETTINGS[setting]
        columns = {"index": ("", "i8"), setting: units, **{r: READINGS[r][1] for r in read}, "time_s": "s"}

        def plan(engine: Engine) -> str:
            st = engine.station
            with engine.scan("adhoc", columns, {"sequence": "adhoc", "setting": setting, "read": list(read),
                                                "values": points, "settle_s": settle_s},
                             expected_points=len(points), label=label or f"scan {setting}") as handle:
                for i, value in enumerate(points):
                    def measure(i: int = i, value: float = value) -> dict[str, Any]:
                        apply(st, value)
                        engine.wait(settle_s)
                        row: dict[str, Any] = {"index": i, setting: value}
                        row.update(read_all(st, read))
                        row["time_s"] = engine.now_s()
                        return row
                    handle.point(measure)
                return str(handle.path)

        outcome = self.run(plan, message=label or f"scan {setting}")
        if outcome.status != "complete":
            raise RuntimeError(f"scan {setting}: {outcome.status} ({outcome.message})")
        return read_scan(outcome.result)

    def run_batch(self, path: str | Path | None = None, *, resume_dir: str | Path | None = None,
                  progress: Callback | None = None, subscribers: list[Callback] | None = None,
                  engine_ready: Callable[[Engine], None] | None = None) -> BatchResult:
        """Run a batch file (or resume the run in `resume_dir`) as `kmor run` does, in a run
        folder of its own; see kmor.sequences.runner.run_batch."""
        from kmor.sequences.runner import run_batch
        self._check_open()
        return run_batch(path, self.loaded, resume_dir=resume_dir, progress=progress,
                         subscribers=subscribers, engine_ready=engine_ready, lab=self)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this lab session is closed")

    def _check_settings(self, setting: str, values: list[float]) -> None:
        check = LimitCheck(self.config, file="lab.scan", key=setting)
        if setting.endswith("_uG"):
            for v in values:
                check.field("values", v, setting[:2])
        elif setting == "light_power_uW":
            check.light("values", values)
        elif setting == "rf_power_dBm":
            check.rf("values", values)


# ---------------------------------------------------------------------- ad-hoc scan settings
def _set_field(axis: str) -> Callable[[Any, float], None]:
    return lambda st, v: st.coils.set_field_uG(axis, v)


def _set_attr(device: str, attr: str) -> Callable[[Any, float], None]:
    return lambda st, v: setattr(getattr(st, device), attr, v)


SETTINGS: dict[str, tuple[Callable[[Any, float], None], str]] = {
    "bx_uG": (_set_field("bx"), "uG"), "by_uG": (_set_field("by"), "uG"), "bz_uG": (_set_field("bz"), "uG"),
    "light_power_uW": (lambda st, v: st.set_light_power_uW(v), "uW"),
    "rf_freq_hz": (_set_attr("rf", "freq_hz"), "Hz"),
    "rf_power_dBm": (_set_attr("rf", "amplitude_dBm"), "dBm"),
    "piezo_pct": (_set_attr("laser", "piezo_pct"), "%"),
}
"""What `Lab.scan` can sweep: name -> (set(station, value), units)."""

_POLARIMETER = ("x_V", "y_V", "r_V", "theta_deg")


def _read_polarimeter(name: str) -> Callable[[Any], float]:
    other = "y_V" if name == "x_V" else "x_V"   # SNAP? takes at least two outputs
    return lambda st: float(st.lockin_polarimeter.snap(name, other)[name])


def _read_field(axis: str) -> Callable[[Any], float]:
    return lambda st: float(st.coils.field_uG(axis))


READINGS: dict[str, tuple[Callable[[Any], float], str]] = {
    **{n: (_read_polarimeter(n), "deg" if n == "theta_deg" else "V") for n in _POLARIMETER},
    "transmission_V": (lambda st: float(st.daq.read_ai_V(st.transmission_ai)), "V"),
    "lock_error_V": (lambda st: float(st.daq.read_ai_V(st.lock_error_ai)), "V"),
    "light_power_uW": (lambda st: float(st.light_power_uW()), "uW"),
    **{f"{a}_uG": (_read_field(a), "uG") for a in ("bx", "by", "bz")},
}
"""What `Lab.scan` can read: name -> (read(station), units). Polarimeter outputs requested
together are taken at one instant (SNAP?)."""


def read_all(station: Any, names: Sequence[str]) -> dict[str, float]:
    """The readings `names`; the polarimeter lock-in's outputs in one snapshot."""
    lockin = [n for n in names if n in _POLARIMETER]
    row: dict[str, float] = {}
    if len(lockin) >= 2:
        row.update({k: float(v) for k, v in station.lockin_polarimeter.snap(*lockin).items()})
    for name in names:
        if name not in row:
            row[name] = READINGS[name][0](station)
    return row


def _run_job(run: steps.registry.RunFn, params: Any, label: str, engine: Engine) -> Any:
    return run(engine, params, label)


class _SessionFolderRecorder:
    """Opens scans in the session's run folder, making the folder only when a scan opens."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    def open_scan(self, **kwargs: Any) -> ScanRecord:
        lab = self._lab
        return HDF5Recorder(lab.run_dir, config_text=lab.loaded.text, kmor_version=_version()).open_scan(**kwargs)


# ---------------------------------------------------------------------- run.log
def attach_log(run_dir: Path) -> tuple[logging.Handler, int]:
    """run.log beside the data: INFO and above from every kmor logger."""
    handler = logging.FileHandler(Path(run_dir) / LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("kmor")
    previous = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler, previous


def detach_log(attached: tuple[logging.Handler, int]) -> None:
    handler, previous_level = attached
    logger = logging.getLogger("kmor")
    logger.removeHandler(handler)
    logger.setLevel(previous_level)
    handler.close()

