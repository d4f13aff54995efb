"""The lab behind the window: one station, at most one run at a time, its events as Qt signals.

Every acquisition started from the window is a batch run by the session's lab session
(`kmor.sequences.session.Lab.run_batch`, the code behind `kmor run`) in a worker thread (the
engine's acquisition thread): the same run folder, queue.json, run.log and scan files as
`kmor run`. The lab session keeps what one run established for the next: the lock, the zeroed
transverse fields, the light level and the context (lock point, lock record, zeroing result). The window holds on to nothing but the engine
handle (to pause, resume and abort) and the events, which arrive through an asynchronous bus
subscriber (`EventBridge`) and are handed to the GUI thread in batches (`events` signal).

Besides batches the session can hold the laser lock between runs (`start_lock_hold`): the engine
runs `kmor.sequences.lock.hold_lock` (acquire the lock, then sit in a pause), where it keeps servoing (and re-locks if the lock
is lost) until stopped. Instruments are only touched by one thread at a time: the run thread holds
`_instruments` for the whole run, and the idle status polls (`poll`) run on one worker thread
only while nothing else holds it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kmor.config.files import LoadedConfig
from kmor.config.loader import ConfigError
from kmor.gui.bridge import EventBridge, LogBridge, attach_log_handler, detach_log_handler
from kmor.lab import open_lab
from kmor.sequences.engine import Engine
from kmor.sequences.laser import LaserSetupParams
from kmor.sequences.lock import LockParams, hold_lock
from kmor.sequences.states import RunState

log = logging.getLogger("kmor.gui")

DRAIN_INTERVAL_MS = 100
"""Events reach the panels at most 10 times a second, in batches: every wake-up of the GUI thread
costs the acquisition thread a turn at the GIL, so the window wakes per batch, not per point."""


class SessionState(StrEnum):
    """What the window shows: a batch starting, running, paused or stopping, the lock hold
    locking or locked, or idle (`Session.state` decides from the engine's RunState)."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    LOCKING = "locking"
    LOCKED = "locked"


class RunKind(StrEnum):
    """What the window runs: a batch file or the lock hold."""

    BATCH = "batch"
    LOCK_HOLD = "lock"


IDLE, STARTING, RUNNING, PAUSED, STOPPING, LOCKING, LOCKED = tuple(SessionState)
BATCH, LOCK_HOLD = RunKind.BATCH, RunKind.LOCK_HOLD
SEQUENCES_FOLDER = "gui-sequences"
"""Subfolder of the data folder where batch files composed by the window are written."""


@dataclass(frozen=True)
class RunReport:
    """How a run of the session ended. what: "batch" or "lock"; status: "complete", "aborted"
    or "failed" ("released" for a lock hold, which only ends by being stopped); run_dir: the run folder (batches); scans: complete scan files (names)."""

    what: str
    status: str
    message: str = ""
    run_dir: Path | None = None
    scans: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServoReadout:
    """The running lock servo as last stepped: station time (s), error and control (V)."""

    time_s: float
    error_V: float
    control_V: float
    setpoint_V: float
    lost: bool


class Session(QObject):
    """Runs batches and the lock hold on one station; emits events in the GUI thread."""

    events = Signal(list)
    """list[Event], oldest first, in the GUI thread."""
    run_started = Signal(str)
    """"batch" or "lock"."""
    run_ended = Signal(object)
    """RunReport, after the run's thread let go of the instruments."""
    _done = Signal(object)
    _polled = Signal(object, object)

    def __init__(self, loaded: LoadedConfig, station: Any, *, data_dir: str | Path | None = None,
                 own_station: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loaded = loaded
        self.config = loaded.config
        self.station = station
        self.own_station = own_station
        self.data_dir = Path(data_dir if data_dir is not None else self.config.lab.data_dir)
        self.lab = open_lab(loaded, station, data_dir=self.data_dir)
        """The lab session every run of the window goes through (station not owned by it)."""
        self.last_run_dir: Path | None = None
        self.bridge = EventBridge()
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(DRAIN_INTERVAL_MS)
        self._drain_timer.timeout.connect(self._drain)
        self.bridge.ready.connect(self._schedule_drain)
        self.log_bridge = LogBridge()
        """record(level, logger name, message, unix time) for every kmor log record (GUI thread)."""
        self._log_handler = attach_log_handler(self.log_bridge)
        self._done.connect(self._on_done)
        self._polled.connect(self._on_polled)
        self._instruments = threading.Lock()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self._what: str | None = None
        self._pending_pause = False
        self._pending_abort: str | None = None
        self._release_lock = False
        self._next: Callable[[], None] | None = None
        self._poll_busy = False
        self._closed = False
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kmor-gui-poll")

    # ------------------------------------------------------------------ state
    @property
    def context(self) -> dict[str, Any]:
        """What the runs so far established (laser, lock_point, lock, zeroing): engine context."""
        return self.lab.context

    @property
    def what(self) -> str | None:
        """"batch", "lock" or None (nothing running)."""
        return self._what

    @property
    def busy(self) -> bool:
        """A batch (data-taking run) is in progress (or about to start)."""
        return self._what == BATCH or self._next is not None

    @property
    def holding_lock(self) -> bool:
        """The run in progress (or whose last events are being delivered) is the lock hold."""
        return self._what == LOCK_HOLD

    @property
    def running(self) -> bool:
        """Any run (batch or lock hold) holds the instruments."""
        return self._what is not None

    @property
    def state(self) -> SessionState:
        """idle, starting, running, paused, stopping (batch) or locking, locked (lock hold)."""
        if self._what is None:
            return STARTING if self._next is not None else IDLE
        engine = self._engine
        if engine is None:
            return STARTING if self._what == BATCH else LOCKING
        if engine.control.abort_reason is not None:
            return STOPPING
        if self._what == LOCK_HOLD:
            return LOCKED if engine.state == RunState.PAUSED else LOCKING
        return PAUSED if engine.state == RunState.PAUSED else RUNNING

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def sim_speed(self) -> float | None:
        """Simulated lab: x real time (None = full speed); real lab: 1."""
        return getattr(self.station.clock, "speed", 1.0)

    def now_s(self) -> float:
        """Station clock (s)."""
        return float(self.station.clock.now_s())

    def servo_readout(self) -> ServoReadout | None:
        """The lock servo's last step, or None when no lock is running (reads Python state only;
        no instrument is touched from the GUI thread)."""
        engine = self._engine
        servo = engine.servo if engine is not None else None
        if servo is None:
            return None
        return ServoReadout(time_s=float(servo.last_step_s), error_V=float(servo.last_error_V),
                            control_V=float(servo.control_V), setpoint_V=float(servo.setpoint_V),
                            lost=bool(servo.lost))

    # ------------------------------------------------------------------ starting runs
    def write_batch(self, text: str, name: str) -> Path:
        """Save a batch composed by the window under data_dir/gui-sequences/ (kept: it is the file
        `kmor run` would take to repeat the run)."""
        folder = self.data_dir / SEQUENCES_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        path = folder / f"{stamp}-{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def start_batch(self, path: str | Path | None = None, *, resume_dir: str | Path | None = None) -> None:
        """Run a batch file (or resume the run in `resume_dir`) in the acquisition thread; a
        lock hold in progress is stopped first. Raises RuntimeError if a batch is running."""
        if self.busy:
            raise RuntimeError("a run is already in progress")
        what = f"resume {resume_dir}" if resume_dir is not None else f"batch {path}"
        self._after_hold(lambda: self._start(BATCH, self._run_batch, (path, resume_dir)), what)

    def start_lock_hold(self, lock: LockParams, laser: LaserSetupParams | None = None) -> None:
        """Lock the laser (setting it up first if `laser` is given) and keep it locked until
        `stop_lock_hold` or a batch starts."""
        if self.running or self._next is not None:
            raise RuntimeError("a run is already in progress")
        self._start(LOCK_HOLD, self._run_hold, (lock, laser))

    def stop_lock_hold(self) -> None:
        """End the lock hold and release the lock (a batch started instead keeps it)."""
        if self._what == LOCK_HOLD:
            self._release_lock = True
            self.abort("Lock off")

    def _after_hold(self, start: Callable[[], None], what: str) -> None:
        if self._what == LOCK_HOLD:
            log.info("releasing the laser lock hold before the %s", what)
            self._next = start
            self.abort("a run starts")
        else:
            start()

    def _start(self, what: str, target: Callable[..., None], args: tuple[Any, ...]) -> None:
        with self._guard:
            self._what = what
            self._engine = None
            self._pending_pause = False
            self._pending_abort = None
            self._release_lock = False
        self._thread = threading.Thread(target=target, args=args, name=f"kmor-gui-{what}", daemon=True)
        self._thread.start()
        self.run_started.emit(what)

    # ------------------------------------------------------------------ control (GUI thread)
    def pause(self) -> None:
        """Pause the batch at the next point boundary."""
        with self._guard:
            if self._what != BATCH:
                return
            if self._engine is None:
                self._pending_pause = True
            else:
                self._engine.pause()
        log.info("pause requested from the window")

    def resume(self) -> None:
        with self._guard:
            self._pending_pause = False
            if self._what == BATCH and self._engine is not None:
                self._engine.resume()
        log.info("resume requested from the window")

    def abort(self, reason: str = "aborted from the window") -> None:
        """Stop the run at the next point boundary (data saved, apparatus made safe)."""
        with self._guard:
            if self._what is None:
                return
            if self._engine is None:
                self._pending_abort = reason
            else:
                self._engine.abort(reason)
        log.info("%s", reason)

    def _engine_ready(self, engine: Engine) -> None:
        """Run thread: the engine exists; apply requests made before it did."""
        with self._guard:
            self._engine = engine
            if self._pending_pause:
                engine.pause()
            if self._pending_abort is not None:
                engine.abort(self._pending_abort)

    # ------------------------------------------------------------------ run threads
    def _run_batch(self, path: str | Path | None, resume_dir: str | Path | None) -> None:
        report = RunReport(BATCH, "failed", "did not start")
        with self._instruments:
            try:
                result = self.lab.run_batch(path, resume_dir=resume_dir, progress=self.bridge,
                                            engine_ready=self._engine_ready)
                report = RunReport(BATCH, result.status, result.message, result.run_dir, list(result.scans))
            except ConfigError as exc:
                report = RunReport(BATCH, "failed", str(exc), self._run_dir())
            except Exception as exc:  # noqa: BLE001 - reported in the window, never lost
                log.exception("the run failed")
                report = RunReport(BATCH, "failed", f"{type(exc).__name__}: {exc}", self._run_dir())
        self._done.emit(report)

    def _run_hold(self, lock: LockParams, laser: LaserSetupParams | None) -> None:
        report = RunReport(LOCK_HOLD, "failed", "did not start")
        with self._instruments:
            try:
                outcome = self.lab.run(lambda e: hold_lock(e, lock, laser), message="laser lock held by the window",
                                       progress=self.bridge, engine_ready=self._engine_ready)
                status = "released" if outcome.status == "aborted" else outcome.status   # the normal end
                report = RunReport(LOCK_HOLD, status, outcome.message)
            except Exception as exc:  # noqa: BLE001
                log.error("laser lock: %s", exc)
                report = RunReport(LOCK_HOLD, "failed", f"{type(exc).__name__}: {exc}")
            finally:
                if self._release_lock:
                    self.lab.release_lock()
        self._done.emit(report)

    def _run_dir(self) -> Path | None:
        engine = self._engine
        run_dir = getattr(getattr(engine, "recorder", None), "run_dir", None)
        return Path(run_dir) if run_dir is not None else None

    # ------------------------------------------------------------------ GUI thread slots
    def _schedule_drain(self) -> None:
        if not self._drain_timer.isActive():
            self._drain_timer.start()

    def _drain(self) -> None:
        events = self.bridge.take()
        if events:
            self.events.emit(events)

    def _on_done(self, report: RunReport) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(5.0)
        self._drain()  # everything published before the run ended goes out first
        with self._guard:
            self._thread = None
            self._engine = None
            self._what = None
        if report.run_dir is not None:
            self.last_run_dir = report.run_dir
        log.info("%s ended: %s%s", report.what, report.status, f" ({report.message})" if report.message else "")
        self.run_ended.emit(report)
        start, self._next = self._next, None
        if start is not None and not self._closed:
            start()

    # ------------------------------------------------------------------ idle instrument access
    def poll(self, fn: Callable[[Any], Any], callback: Callable[[Any], None]) -> bool:
        """Run `fn(station)` on the poll thread if no run holds the instruments, then
        `callback(result)` in the GUI thread (an exception is passed as the result). Returns False
        (and does nothing) while a run is in progress or a poll is pending."""
        if self.running or self._poll_busy or self._closed or self._next is not None:
            return False
        self._poll_busy = True

        def job() -> Any:
            if not self._instruments.acquire(blocking=False):
                return _SKIPPED
            try:
                return fn(self.station)
            except Exception as exc:  # noqa: BLE001 - shown in the window
                return exc
            finally:
                self._instruments.release()

        future = self._executor.submit(job)
        future.add_done_callback(lambda f: self._polled.emit(callback, f.result()))
        return True

    def _on_polled(self, callback: Callable[[Any], None], result: Any) -> None:
        self._poll_busy = False
        if result is not _SKIPPED and not self._closed:
            callback(result)

    # ------------------------------------------------------------------ end
    def shutdown(self, timeout_s: float = 60.0) -> None:
        """Abort any run, wait for it (the apparatus is made safe by the engine), stop polling,
        close the station if this session opened it."""
        if self._closed:
            return
        self._closed = True
        self._next = None
        self.abort("the window is closing")
        thread = self._thread
        if thread is not None:
            deadline = time.monotonic() + timeout_s
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.error("the run did not stop within %.0f s", timeout_s)
        self._executor.shutdown(wait=True)
        self.lab.close()   # the apparatus safe: rf off, coils ramped to zero
        if self.own_station:
            self.station.close()
        detach_log_handler(self._log_handler)


class _Skipped:
    pass


_SKIPPED = _Skipped()
