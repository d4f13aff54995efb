"""The sequence engine: runs a sequence against a station in one acquisition thread.

A sequence is a function `plan(engine)` that talks to `engine.station` (through the protocols in
protocols.py), lets time pass with `engine.wait(dt_s)` (the laser-lock servo keeps running at its
period on the station clock) and records scans point by point:

    with engine.scan("bscan", columns, parameters, expected_points=n) as scan:
        for field_uG in fields:
            scan.point(lambda: measure(field_uG))

`scan.point(measure)` is the point boundary: pause and abort requests take effect there; a point
whose conditions failed (laser lock lost, counter reference missing, instrument timeout) is thrown
away, the engine suspends (re-locks, waits for the reference), records the suspended interval in
the scan file and measures the point again. Only then is the point written (recorder) and
published (event bus). `run(plan)` ends every way out (return, abort, exception, Ctrl-C, SIGTERM)
in `station.make_safe()`. The same code runs on the simulated and the real clock.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kmor.drivers.errors import InstrumentError
from kmor.sequences import events as ev
from kmor.sequences.control import FINISHED, PAUSED, RUNNING, RunControl
from kmor.sequences.errors import Aborted, LockinOverload, SequenceError, SuspendRequested
from kmor.sequences.events import Event, EventBus
from kmor.sequences.protocols import Station
from kmor.sequences.recorder import MemoryRecorder, Recorder, ScanRecord
from kmor.sequences.states import RunState, RunStatus

log = logging.getLogger("kmor.sequences.engine")

MAX_RETAKES_PER_POINT = 10
IDLE_PERIOD_S = 0.1


class Servo(Protocol):
    """What the engine needs of a running laser lock (see lock.LockServo)."""

    period_s: float
    next_step_s: float
    last_step_s: float
    setpoint_V: float
    control_V: float
    last_error_V: float

    def step(self, now_s: float) -> None: ...

    def restart_schedule(self, now_s: float) -> None: ...

    @property
    def lost(self) -> bool: ...

    def lost_reason(self) -> str: ...

    def take_stats(self) -> tuple[float, float]: ...


class Suspender(Protocol):
    """A condition under which a scan must wait, and how to get back (Bluesky's suspenders).

    `check(engine)` returns a reason to suspend now (called at every servo step inside a point and
    at every point boundary; keep it cheap) or None. `handles(exc)` returns a reason if the
    exception raised while measuring a point means "suspend and measure again" (e.g.
    ReferenceClockMissing), else None. `recover(engine, reason)` blocks (using engine.wait) until
    the point can be measured again, or raises SequenceError to give up.
    """

    name: str

    def check(self, engine: Engine) -> str | None: ...

    def handles(self, exc: BaseException) -> str | None: ...

    def recover(self, engine: Engine, reason: str) -> None: ...


class Terminated(SystemExit):
    """A second SIGTERM: stop now (the first one asks for a stop at the next point boundary)."""


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: status "complete" or "aborted" (failures raise), the abort reason, and
    the plan's return value."""

    status: str
    message: str = ""
    result: Any = None


class Engine:
    """Runs sequences on a station; pause/resume/abort from any thread; events to subscribers."""

    def __init__(self, station: Station, *, recorder: Recorder | None = None,
                 bus: EventBus | None = None, suspenders: list[Suspender] | None = None,
                 kmor_version: str = "") -> None:
        self.station = station
        self.clock = station.clock
        self.recorder: Recorder = recorder if recorder is not None else MemoryRecorder()
        self.bus = bus if bus is not None else EventBus()
        self.control = RunControl()
        self.kmor_version = kmor_version
        self.context: dict[str, Any] = {}
        """Results later steps use (lock setpoint, lock point, zeroed fields); JSON-able."""
        if suspenders is None:
            from kmor.sequences.suspenders import default_suspenders
            suspenders = default_suspenders()
        self.suspenders: list[Suspender] = list(suspenders)
        self.servo: Servo | None = None
        self.progress: dict[str, Any] = {"step": None, "n_steps": None, "label": ""}
        self.remaining_s: Callable[[], float | None] = lambda: None
        self._scan: ScanHandle | None = None
        self._in_point = False
        self._thread: threading.Thread | None = None
        self._making_safe = False
        self.outcome: RunOutcome | None = None
        self.error: BaseException | None = None
        """The exception that ended a run started with `start()`, if any."""

    # ------------------------------------------------------------------ control (any thread)
    def pause(self) -> None:
        """Pause at the next point boundary (the lock keeps servoing while paused)."""
        self.control.pause()

    def resume(self) -> None:
        """Leave the paused state (or cancel a pending pause)."""
        self.control.resume()

    def abort(self, reason: str = "abort requested") -> None:
        """Stop at the next point boundary; the scan in progress is closed as "aborted"."""
        self.control.abort(reason)

    @property
    def state(self) -> RunState:
        """"idle", "running", "paused" or "finished"."""
        return self.control.state

    @property
    def current_scan(self) -> ScanHandle | None:
        """The scan open now, if any."""
        return self._scan

    # ------------------------------------------------------------------ running
    def run(self, plan: Callable[[Engine], Any], *, message: str = "",
            keep_state: bool = False) -> RunOutcome:
        """Run `plan(self)` in this thread. Returns RunOutcome("complete"|"aborted"); other
        exceptions propagate after the ERROR event. Every exit makes the station safe, except a
        complete or aborted run with `keep_state` (a lab session between runs): then the rf goes
        off and Bz to zero, and the lock servo, Bx, By and the light stay as the plan left them."""
        self._thread = threading.current_thread()
        self.control.start()
        self.outcome = None
        status, text = RunStatus.FAILED, ""
        ended_normally = False   # returned or aborted on request: not a failure or an interrupt
        try:
            self.publish(ev.RUN_STARTED, message=message)
            result = plan(self)
            status, ended_normally = RunStatus.COMPLETE, True
            self.outcome = RunOutcome(status, "", result)
            return self.outcome
        except Aborted as exc:
            status, text, ended_normally = RunStatus.ABORTED, str(exc), True
            self.outcome = RunOutcome(status, text)
            return self.outcome
        except (KeyboardInterrupt, SystemExit) as exc:
            status, text = RunStatus.ABORTED, f"interrupted ({type(exc).__name__})"
            raise
        except BaseException as exc:
            status, text = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
            self._publish_quietly(ev.ERROR, message=text)
            raise
        finally:
            if keep_state and ended_normally:
                self._between_runs()
            else:
                self.servo = None
                self._make_safe()
            self.control.enter(FINISHED)
            self._publish_quietly(ev.FINISHED, status=status, message=text)

    def start(self, plan: Callable[[Engine], Any], *, message: str = "") -> threading.Thread:
        """Run `plan` in a new acquisition thread (for a GUI); `outcome` holds the result,
        `error` any exception it raised."""
        self.error = None

        def target() -> None:
            try:
                self.run(plan, message=message)
            except BaseException as exc:  # recorded; the ERROR event already went out
                self.error = exc

        thread = threading.Thread(target=target, name="kmor-acquisition", daemon=True)
        thread.start()
        return thread

    def _make_safe(self) -> None:
        self._making_safe = True
        try:
            self.station.make_safe()
        except BaseException:  # make_safe must never mask the original outcome
            log.exception("station.make_safe() failed")
        finally:
            self._making_safe = False

    def _between_runs(self) -> None:
        """End of a run in a lab session: rf off and Bz back to zero; lock, Bx, By, light kept."""
        try:
            self.station.rf.rf_on = False
            self.station.coils.set_field_uG("bz", 0.0)
        except Exception:  # noqa: BLE001 - a failure here must not hide the outcome: make it safe
            log.exception("rf off / Bz to zero after the run failed; making the apparatus safe")
            self.servo = None
            self._make_safe()

    @contextlib.contextmanager
    def signals_stop_at_point_boundary(self) -> Iterator[None]:
        """While active (main thread only): the first SIGINT/SIGTERM requests an abort at the next
        point boundary; a second one stops at once (KeyboardInterrupt / Terminated)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        received: list[int] = []

        def handler(signum: int, frame: Any) -> None:
            received.append(signum)
            name = signal.Signals(signum).name
            if self._making_safe:   # never interrupt the coil ramp-down
                log.warning("%s received: already stopping, ramping the coils down", name)
                return
            if len(received) == 1:
                log.warning("%s received: stopping after the current point (again to stop now)", name)
                self.abort(f"{name} received")
                return
            if signum == signal.SIGTERM:
                raise Terminated(128 + signum)
            raise KeyboardInterrupt

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h)

    # ------------------------------------------------------------------ time and the lock
    def now_s(self) -> float:
        """Station clock (s)."""
        return self.clock.now_s()

    def wait(self, dt_s: float) -> None:
        """Let `dt_s` seconds of station time pass, stepping the lock servo at its period.

        Inside a point, a suspender that trips during the wait (e.g. the lock is lost) ends the
        point at once (the engine then suspends and re-takes it)."""
        if not dt_s > 0:
            return
        end_s = self.clock.now_s() + dt_s
        while True:
            servo = self.servo
            now = self.clock.now_s()
            remaining = end_s - now
            if remaining <= 1e-9:
                return
            if servo is None:
                self.clock.sleep(remaining)
                return
            until_step = servo.next_step_s - now
            if until_step <= 1e-9:
                servo.step(now)
                if self._in_point:
                    self._raise_if_tripped()
                continue
            self.clock.sleep(min(until_step, remaining))

    def engage(self, servo: Servo) -> None:
        """Make `servo` the running lock (stepped in every wait)."""
        self.servo = servo

    def release(self) -> Servo | None:
        """Stop servoing (the control output keeps its last value); returns the servo."""
        servo, self.servo = self.servo, None
        return servo

    def idle(self) -> None:
        """One idle step for loops that wait on something (pause, suspensions): one servo period
        (or 0.1 s) of station time, and at least as long in wall time while a pause is pending,
        so a pause at full simulated speed runs the lab at real-time pace instead of spinning."""
        period = self.servo.period_s if self.servo is not None else IDLE_PERIOD_S
        wall0 = time.monotonic()
        self.wait(period)
        self.control.wait_for_change(period - (time.monotonic() - wall0))

    # ------------------------------------------------------------------ point boundaries
    def check_abort(self) -> None:
        """Raise Aborted if an abort was requested."""
        reason = self.control.abort_reason
        if reason is not None:
            raise Aborted(reason)

    def checkpoint(self) -> None:
        """A point boundary: honour abort and pause requests (pausing until resumed)."""
        self.check_abort()
        if not self.control.pause_requested:
            return
        start_s = self.now_s()
        self.control.enter(PAUSED)
        self.publish(ev.PAUSED, message="paused")
        while self.control.pause_requested and self.control.abort_reason is None:
            self.idle()
            reason = self.tripped()
            if reason is not None:  # e.g. the lock was lost while paused: recover now
                suspender, text = reason
                suspender.recover(self, text)
        self.control.enter(RUNNING)
        end_s = self.now_s()
        if self._scan is not None:
            self._scan.record.add_suspension(start_s, end_s, "paused by the operator")
        self.publish(ev.UNPAUSED, message="resumed after pause", info={"paused_s": end_s - start_s})
        self.check_abort()

    def measure(self, measure: Callable[[], Any], *, what: str = "point") -> Any:
        """`measure()` at a point boundary, re-taken (at most 10 times) after a suspension: if a
        suspender tripped before or during it, or it raised an error a suspender handles, the
        result is discarded, the engine suspends and recovers, and `measure` runs again."""
        last_reason = ""
        for _ in range(MAX_RETAKES_PER_POINT + 1):
            self.checkpoint()
            tripped = self.tripped()
            if tripped is not None:
                self.suspend(*tripped)
                last_reason = tripped[1]
                continue
            try:
                self._in_point = True
                result = measure()
                self._raise_if_tripped()
            except SuspendRequested as exc:
                self._in_point = False
                self.suspend(exc.suspender, exc.reason)  # type: ignore[arg-type]
                last_reason = exc.reason
                continue
            except (InstrumentError, LockinOverload) as exc:
                self._in_point = False
                handler = self._handler_for(exc)
                if handler is None:
                    raise
                self.suspend(*handler)
                last_reason = handler[1]
                continue
            finally:
                self._in_point = False
            return result
        raise SequenceError(f"{what} could not be measured after {MAX_RETAKES_PER_POINT} re-takes; "
                            f"last reason: {last_reason}")

    def recover_if_tripped(self) -> None:
        """Outside a scan (e.g. a wait with the lock held): if a suspender's condition holds
        (the lock was lost), suspend and recover now."""
        tripped = self.tripped()
        if tripped is not None:
            self.suspend(*tripped)

    def tripped(self) -> tuple[Suspender, str] | None:
        """The first suspender whose condition holds now, with its reason, or None."""
        for suspender in self.suspenders:
            reason = suspender.check(self)
            if reason is not None:
                return suspender, reason
        return None

    def _raise_if_tripped(self) -> None:
        tripped = self.tripped()
        if tripped is not None:
            raise SuspendRequested(*tripped)

    def _handler_for(self, exc: BaseException) -> tuple[Suspender, str] | None:
        for suspender in self.suspenders:
            reason = suspender.handles(exc)
            if reason is not None:
                return suspender, reason
        return None

    def suspend(self, suspender: Suspender, reason: str) -> None:
        """Suspend the current scan: publish, recover, record the interval, publish."""
        start_s = self.now_s()
        since = getattr(suspender, "since_s", None)
        trouble_s = since(self) if since is not None else None
        if trouble_s is not None:
            start_s = min(start_s, trouble_s)
        log.warning("suspended: %s", reason)
        self.publish(ev.SUSPENDED, message=reason, info={"suspender": suspender.name})
        suspender.recover(self, reason)
        end_s = self.now_s()
        if self._scan is not None:
            self._scan.record.add_suspension(start_s, end_s, reason)
        log.warning("resumed after %.3g s: %s", end_s - start_s, reason)
        self.publish(ev.RESUMED, message=reason,
                     info={"suspender": suspender.name, "suspended_s": end_s - start_s})

    # ------------------------------------------------------------------ scans
    @contextlib.contextmanager
    def scan(self, kind: str, columns: Mapping[str, Any], parameters: Mapping[str, Any], *,
             expected_points: int = 0, label: str = "",
             extra_attrs: Mapping[str, Any] | None = None) -> Iterator[ScanHandle]:
        """Open a recorded scan (snapshot of every instrument setting taken now); on leaving,
        close it as "complete", "aborted" (abort, Ctrl-C, SIGTERM) or "failed"."""
        if self._scan is not None:
            raise SequenceError(f"scan {kind!r} started inside scan {self._scan.kind!r}")
        params = dict(parameters)
        params.setdefault("context", dict(self.context))
        record = self.recorder.open_scan(kind=kind, columns=columns, parameters=params,
                                         snapshot=self.station.snapshot(),
                                         expected_points=expected_points,
                                         extra_attrs=extra_attrs)
        handle = ScanHandle(self, record, kind, expected_points, label or kind)
        self._scan = handle
        self.publish(ev.SCAN_STARTED, scan=record.path, label=handle.label, total=expected_points)
        status, message = "failed", ""
        try:
            yield handle
            status = "complete"
        except (Aborted, KeyboardInterrupt, SystemExit) as exc:
            status, message = "aborted", str(exc) or type(exc).__name__
            raise
        except BaseException as exc:
            status, message = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._scan = None
            try:
                _close_record(record, status, message)
            finally:
                self._publish_quietly(ev.SCAN_FINISHED, scan=record.path, label=handle.label,
                                      status=status, message=message, index=handle.n_points,
                                      total=expected_points)

    # ------------------------------------------------------------------ events
    def publish(self, kind: str, **fields: Any) -> None:
        """Publish an event stamped with the station time and the batch position."""
        p = self.progress
        fields.setdefault("step", p["step"])
        fields.setdefault("n_steps", p["n_steps"])
        fields.setdefault("label", p["label"])
        if "remaining_s" not in fields:
            fields["remaining_s"] = self.remaining_s()
        self.bus.publish(Event(kind=kind, time_s=self.clock.now_s(), **fields))

    def _publish_quietly(self, kind: str, **fields: Any) -> None:
        try:
            self.publish(kind, **fields)
        except Exception:
            log.exception("publishing %s failed", kind)


class ScanHandle:
    """An open scan: `point(measure)` measures, suspends/re-takes as needed, records, publishes."""

    def __init__(self, engine: Engine, record: ScanRecord, kind: str, total: int, label: str) -> None:
        self.engine = engine
        self.record = record
        self.kind = kind
        self.total = total
        self.label = label
        self.n_points = 0
        self.path = record.path

    def point(self, measure: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
        """Measure one point with `measure()` (returns the row) and record it.

        Before measuring: pause/abort requests are honoured and a condition that tripped since
        the last point (lock lost) is recovered first. If a suspender trips during the
        measurement or `measure` raises an error a suspender handles, the row is discarded, the
        scan suspends, and the point is measured again (at most 10 times)."""
        row: Mapping[str, Any] = self._measure(measure)
        self._acknowledge(row)
        return row

    def block(self, measure: Callable[[], Sequence[Mapping[str, Any]]]) -> Sequence[Mapping[str, Any]]:
        """Like `point`, for a block of rows measured together (a hardware-timed sweep): the
        whole block is re-taken after a suspension, then every row is recorded."""
        rows: Sequence[Mapping[str, Any]] = self._measure(measure)
        for row in rows:
            self._acknowledge(row)
        return rows

    def _measure(self, measure: Callable[[], Any]) -> Any:
        return self.engine.measure(measure, what=f"{self.label}: point {self.n_points + 1}")

    def _acknowledge(self, row: Mapping[str, Any]) -> None:
        self.record.append(row)
        index = self.n_points
        self.n_points += 1
        self.engine.publish(ev.POINT, scan=self.path, label=self.label, index=index,
                            total=self.total, row=row)

    def write_array(self, name: str, data: Any, units: str,
                    attrs: Mapping[str, Any] | None = None) -> None:
        """Store a whole array in the scan (e.g. the average over rf repeats)."""
        self.record.write_array(name, data, units, attrs)


def _close_record(record: ScanRecord, status: str, message: str) -> None:
    """Close a scan; when it is closed because of an error, a failure to close is logged and the
    original error (the one that says what went wrong first) goes on."""
    try:
        record.close(status, message)
    except Exception as exc:  # re-raised unless another error is on its way
        if status == "complete":
            raise
        log.error("closing %s after %s: %s", record.path, status, exc)
