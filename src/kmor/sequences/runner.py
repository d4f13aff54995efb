"""Run a batch file unattended: the functions behind `kmor run`, `kmor run --resume` and
`kmor check`.

    plan = check_batch("config/sequences/paper.toml", load_config())   # no hardware touched
    print(plan.summary())
    result = run_batch("config/sequences/paper.toml", load_config(), progress=print_event)
    result = run_batch(None, load_config(), resume_dir=result.run_dir)  # after an interruption

A run folder holds the scans (00001-bscan.h5, ...), queue.json (the durable queue) and run.log.
The first Ctrl-C or SIGTERM stops after the current point with everything saved (a second one
stops at once); every exit leaves the apparatus safe (rf off, coils ramped to zero).

A persistent fault -- an instrument that still fails after the driver's retries and the engine's
re-takes, a lock that cannot be re-acquired, a lock-in that stays overloaded, a full disk -- does
not crash the batch: it ends with status "paused", a message naming the instrument, the command
and the reply, the apparatus safe and the queue saved, ready for `kmor run --resume RUN_DIR`
(or `run_batch(None, ..., resume_dir=RUN_DIR)` from the GUI). Only a bug (any other exception)
ends it as "failed" and raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kmor.config.files import LoadedConfig
from kmor.config.loader import ConfigError
from kmor.drivers.errors import InstrumentError
from kmor.sequences import events as ev
from kmor.sequences import steps
from kmor.sequences.batch import Batch, load_batch, params_from_dict, parse_batch_text
from kmor.sequences.engine import Engine
from kmor.sequences.errors import LockinOverload, SequenceError
from kmor.sequences.events import Event
from kmor.sequences.laser import LaserSetupParams, setup_laser
from kmor.sequences.live_status import LiveStatus
from kmor.sequences.lock import restore_lock
from kmor.sequences.notify import notify_run_end
from kmor.sequences.queue import QueueState
from kmor.sequences.resume_config import resume_command
from kmor.sequences.session import LOG_FILE, Lab, attach_log, detach_log
from kmor.storage import new_run_dir
from kmor.storage.errors import StorageError
from kmor.storage.queue_journal import DONE
from kmor.storage.run_lock import hold_run_folder
from kmor.storage.runs import remove_if_unused

log = logging.getLogger("kmor.sequences.runner")
PERSISTENT_FAULTS = (InstrumentError, SequenceError, LockinOverload, StorageError)
"""Exceptions that pause a batch (resumable) instead of failing it."""
__all__ = ["LOG_FILE", "BatchResult", "check_batch", "fault_message", "run_batch"]


@dataclass(frozen=True)
class BatchResult:
    """How a batch run ended: status "complete" | "aborted" | "paused" (a persistent fault; the
    message names instrument, command and reply) | "failed", the run folder, the complete scans
    (file names, in job order), and a message."""

    status: str
    run_dir: Path
    scans: list[str]
    message: str = ""
    resume_command: str = ""


def check_batch(path: str | Path, loaded_config: LoadedConfig) -> Batch:
    """Validate a batch file whole against the schema and the lab's limits without touching any
    hardware; `Batch.estimate_s` is its duration (lab time) and `Batch.summary()` a description.
    Raises ConfigError naming the file and the dotted key."""
    return load_batch(path, loaded_config.config)


def run_batch(path: str | Path | None, loaded_config: LoadedConfig, *,
              resume_dir: str | Path | None = None,
              progress: Callable[[Event], None] | None = None,
              station: Any = None, data_dir: str | Path | None = None,
              subscribers: list[Callable[[Event], None]] | None = None,
              engine_ready: Callable[[Engine], None] | None = None,
              lab: Lab | None = None) -> BatchResult:
    """Run a batch file (or continue the one in `resume_dir`) to the end.

    The batch is validated before anything is touched. `progress(event)` gets every event on its
    own thread (slow consumers lose point events, never lifecycle ones). `station`: an already
    built station (default: build one from the config and close it at the end). `data_dir`
    overrides lab.data_dir. `subscribers` are called synchronously in the acquisition thread (test
    hooks). `engine_ready(engine)` is called once the engine exists (e.g. a GUI keeps it to
    pause/resume/abort). `lab`: run in this lab session (kmor.sequences.session.Lab: its station,
    and the lock and fields it holds; `station` is then ignored); by default a session is opened
    on `station` (or on a station built from the config, closed at the end). Returns a BatchResult (status "paused" after a persistent fault, see the
    module doc); a failure (a bug) raises after the queue and the scan files are saved and the
    apparatus is safe, with `exc.run_dir` set and a note saying how to resume."""
    with contextlib.ExitStack() as held:   # the run folder's lock, for the whole run
        return _run_batch(path, loaded_config, held, resume_dir, progress, station, data_dir,
                          subscribers, engine_ready, lab)


def _run_batch(path: str | Path | None, loaded_config: LoadedConfig, held: contextlib.ExitStack,
               resume_dir: str | Path | None, progress: Callable[[Event], None] | None, station: Any,
               data_dir: str | Path | None, subscribers: list[Callable[[Event], None]] | None,
               engine_ready: Callable[[Engine], None] | None, lab: Lab | None) -> BatchResult:
    config = loaded_config.config
    if resume_dir is not None:
        QueueState.require(resume_dir)
        held.enter_context(hold_run_folder(resume_dir))   # before the queue is read or reconciled
        queue = QueueState.load(resume_dir)
        batch = parse_batch_text(queue.data["batch_text"], queue.data["batch_file"], config)
        _check_same_jobs(batch, queue)
        notes = queue.reconcile()
        run_dir = queue.run_dir
    else:
        if path is None:
            raise ValueError("give a batch file or resume_dir")
        batch = load_batch(path, config)
        if data_dir is None:
            data_dir = lab.data_dir if lab is not None else config.lab.data_dir
        run_dir = new_run_dir(data_dir, batch.section.name)
        held.enter_context(hold_run_folder(run_dir))
        held.callback(remove_if_unused, run_dir)   # never leave an empty run folder behind
        queue = QueueState.create(run_dir, batch_file=batch.file, batch_text=batch.text,
                                  config_source=loaded_config.source, config_text=loaded_config.text,
                                  name=batch.section.name, jobs=[j.as_dict() for j in batch.jobs])
        notes = []
    attached = attach_log(run_dir)
    try:
        for note in notes:
            log.info("resume: %s", note)
        if resume_dir is not None and queue.data.get("config_text") != loaded_config.text:
            log.warning("resume: the lab config differs from the one the batch started with (%s)",
                        queue.data.get("config_source"))
        if not queue.pending_jobs():
            log.info("run %s: every job is done; nothing to resume", run_dir)
            return BatchResult(status="complete", run_dir=run_dir, scans=queue.complete_scans(),
                               message="nothing left to do")
        own_lab = lab is None
        if lab is None:
            from kmor.lab import open_lab   # the one place sequences reach up: building a station
            lab = open_lab(loaded_config, station, data_dir=data_dir)
        try:
            return _run(queue, batch, lab, loaded_config, run_dir, progress, subscribers, engine_ready,
                        resumed=resume_dir is not None)
        finally:
            if own_lab:
                lab.close()
    finally:
        detach_log(attached)


def _run(queue: QueueState, batch: Batch, lab: Lab, loaded: LoadedConfig, run_dir: Path,
         progress: Callable[[Event], None] | None,
         subscribers: list[Callable[[Event], None]] | None,
         engine_ready: Callable[[Engine], None] | None, *, resumed: bool) -> BatchResult:
    current: dict[str, Any] = {"job": None}

    def on_scan_started(event: Event) -> None:
        if event.kind == ev.SCAN_STARTED and current["job"] is not None:
            queue.scan_opened(current["job"], event.scan)

    engine = lab.new_engine(run_dir, progress=progress, subscribers=[*(subscribers or []), on_scan_started],
                            context=queue.context)
    live = LiveStatus.attach(engine, run_dir, name=batch.section.name)   # kmor watch's files
    engine.remaining_s = lambda: _remaining_s(queue, current, engine)
    if engine_ready is not None:
        engine_ready(engine)
    queue.start_session(resumed)
    log.info("run %s: %d jobs, %d to do", run_dir, len(queue.jobs), len(queue.pending_jobs()))
    status, message = "failed", ""
    kept = False   # the engine kept the lock and fields (ended normally), else it made them safe
    resume = resume_command(run_dir, loaded, queue.data.get("config_text"))
    try:
        with engine.signals_stop_at_point_boundary():
            outcome = engine.run(lambda e: _plan(e, lab, queue, current, resumed),
                                 message=f"batch {batch.section.name}", keep_state=True)
        status, message, kept = outcome.status, outcome.message, True
    except PERSISTENT_FAULTS as exc:
        status, message = "paused", fault_message(exc)
        log.error("batch paused: %s; the apparatus is safe; continue with: %s", message, resume)
    except BaseException as exc:
        status, message = ("aborted" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "failed"), \
            f"{type(exc).__name__}: {exc}"
        exc.add_note(f"run folder: {run_dir} (continue with: {resume})")
        exc.run_dir = run_dir  # type: ignore[attr-defined]
        raise
    finally:
        try:
            if current["job"] is not None and current["job"]["status"] != DONE:
                queue.job_stopped(current["job"], status, message, engine.context)
            queue.finish(status, message)
        except StorageError as exc:   # a full disk may refuse the journal too: the files say enough
            log.error("could not record the end of the run in the queue: %s", exc)
        log.info("run ended: %s %s", status, message)
        live.finish(status, message, resume)
        notify_run_end(loaded.config.notify, status, message, run_dir, resume)
        lab.finish(engine, kept=kept)
    return BatchResult(status=status, run_dir=run_dir, scans=queue.complete_scans(), message=message,
                       resume_command=resume)


def fault_message(exc: BaseException) -> str:
    """One line for a persistent fault: the error, plus instrument / command / reply when the
    error carries them and does not already say them."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, StorageError):
        return f"disk error: {text}"
    if isinstance(exc, LockinOverload):
        return f"lock-in overload: {text}"
    cause = exc if isinstance(exc, InstrumentError) else exc.__cause__ or exc.__context__
    if isinstance(cause, InstrumentError):
        extra = [f"{k} {v!r}" for k, v in (("instrument", cause.instrument), ("command", cause.command),
                                            ("reply", cause.reply)) if v and str(v) not in text]
        if extra:
            text += f" [{', '.join(extra)}]"
    return text


def _plan(engine: Engine, lab: Lab, queue: QueueState, current: dict[str, Any], resumed: bool) -> None:
    station = engine.station
    prepare = getattr(station, "prepare", None)
    if callable(prepare):
        prepare()
    if resumed:
        _restore(engine)
    else:
        lab.restore(engine)
    jobs = queue.jobs
    for n, job in enumerate(jobs):
        if job["status"] == DONE:
            continue
        engine.checkpoint()
        current["job"] = job
        current["after_s"] = sum(j["estimate_s"] for j in jobs[n + 1:] if j["status"] != DONE)
        engine.progress = {"step": job["step"], "n_steps": max(j["step"] for j in jobs) + 1,
                           "label": job["label"], "job": n, "n_jobs": len(jobs)}
        queue.job_started(job)
        _begin_job(engine, n, sum(j["estimate_s"] for j in jobs[:n]))
        engine.publish(ev.STEP_STARTED, message=job["label"], info={"job": job["id"]})
        params = params_from_dict(job["kind"], job["params"])
        log.info("job %s (%s): %s", job["id"], job["key"], job["label"])
        result = _run_job(engine, job["kind"], params, job["label"])
        queue.job_done(job, result, engine.context)
        if steps.get(job["kind"]).context_key is not None:
            log.info("job %s result: %s", job["id"], _brief(result))
        engine.publish(ev.STEP_FINISHED, message=job["label"], status="complete", info={"job": job["id"]})
        current["job"] = None


def _begin_job(engine: Engine, number: int, planned_start_s: float) -> None:
    """Job `number` (its 0-based place in the queue, the same after a resume), planned to begin
    `planned_start_s` (s) into the run (the recorded estimates of the jobs before it), begins: the
    station hears it (the simulated lab re-seeds from it and reads its drifts from the planned
    start) and the lock servo's step schedule restarts from now, so the job's measurement does not
    depend on whether the batch was resumed before it (decision 0104)."""
    engine.station.begin_job(number, planned_start_s)
    if engine.servo is not None:
        engine.servo.restart_schedule(engine.now_s())


def _run_job(engine: Engine, kind: str, params: Any, label: str) -> Any:
    run = steps.get(kind).run
    if run is None:
        raise ValueError(f"step kind {kind!r} is not a job kind")
    return run(engine, params, label)


def _restore(engine: Engine) -> None:
    """After --resume: bring the apparatus back to where the batch left it (laser, fields, lock)."""
    ctx = engine.context
    st = engine.station
    if "laser" in ctx:
        setup_laser(engine, LaserSetupParams(**ctx["laser"]["params"]))
    if "zeroing" in ctx:
        st.coils.set_fields_uG(ctx["zeroing"]["fields_uG"])
    if "lock" in ctx:
        restore_lock(engine, ctx["lock"])
    elif "lock_point" in ctx:
        st.laser.piezo_pct = ctx["lock_point"]["piezo_pct"]


def _brief(result: Any) -> str:
    if not isinstance(result, dict):
        return str(result)
    keep = {k: v for k, v in result.items() if k != "params"}
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in keep.items())


def _remaining_s(queue: QueueState, current: dict[str, Any], engine: Engine) -> float:
    """Estimated lab time left (s): the jobs after the current one, plus the current one's
    estimate scaled by the fraction of its scan still to do (cheap: called at every point)."""
    job = current["job"]
    if job is None:
        return float(sum(j["estimate_s"] for j in queue.jobs if j["status"] != DONE))
    scan = engine.current_scan
    fraction = scan.n_points / scan.total if scan is not None and scan.total else 0.0
    return float(current["after_s"] + job["estimate_s"] * (1.0 - min(fraction, 1.0)))


def _check_same_jobs(batch: Batch, queue: QueueState) -> None:
    stored = [(j["id"], j["kind"], j["params"]) for j in queue.jobs]
    now = [(j.id, j.kind, dataclasses.asdict(j.params)) for j in batch.jobs]
    if stored != now:
        raise ConfigError(str(queue.path), "jobs", "the stored batch no longer expands to the stored jobs "
                          "(kmor version change?); cannot resume safely")
