"""What a running batch publishes for `kmor watch`: `status.json` and `live-scan.json` in the
run folder, rewritten atomically (temp file + os.replace) at a bounded rate.

A watcher cannot read the scan file being written (the writer holds it open and HDF5's file lock
refuses other readers; docs/decisions/0160), so the run tells it what it needs:

- `status.json` (small): state (running / paused with the reason and the resume command / complete
  / aborted / failed), step i of n, the point in the scan, the remaining lab time (the estimate
  `kmor run` prints), the laser lock (locked, last error and control, a strip chart), lock-in
  overloads, the counter's reference, the suspensions so far, the closed scans;
- `live-scan.json`: the current scan's plotted columns, point by point.

`LiveStatus` is an asynchronous event-bus subscriber (its own thread, a bounded queue that drops
point events rather than slow acquisition) that only updates memory; a writer thread writes the
files at most every `interval_s` wall seconds (at once after a lifecycle event). A failing write
(disk full, permissions) is logged once and never reaches the run.

    live = LiveStatus.attach(engine, run_dir, name="paper")   # after the engine exists
    ...
    live.finish("paused", message)                             # how the batch ended
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from kmor.sequences import events as ev
from kmor.sequences.events import Event, Subscription
from kmor.sequences.progress import RemainingClock
from kmor.storage import save_json_atomic
from kmor.storage.errors import StorageError

log = logging.getLogger("kmor.sequences.live_status")

STATUS_FILE = "status.json"
LIVE_SCAN_FILE = "live-scan.json"
FORMAT = "kmor-live-status"
VERSION = 1
PLOTTED_COLUMNS = {
    "bscan": ("field_uG", "field_set_uG", "x_V", "sweep", "locked"),
    "rfscan": ("freq_set_hz", "freq_counter_hz", "transmission_V", "repeat", "locked"),
}
"""Columns of the current scan kept for the live plot, by scan kind (others: every number)."""
MAX_LIVE_POINTS = 20_000
STRIP_SAMPLES = 600
MAX_SUSPENSIONS = 200
OVERLOAD_SUSPENDER = "lock-in overload"
REFERENCE_SUSPENDER = "counter reference"
RUNNING, PAUSED = "running", "paused"


def _number(value: Any) -> float | None:
    """A finite float, or None (JSON null: browsers cannot parse NaN)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    return _number(value)


class LiveStatus:
    """Keeps the run's live state in memory from events; a thread writes it to the run folder."""

    def __init__(self, run_dir: str | Path, *, name: str = "", engine: Any = None,
                 interval_s: float = 0.5) -> None:
        self.run_dir = Path(run_dir)
        self.engine = engine
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._clock = RemainingClock()
        self._dirty_status = True
        self._dirty_scan = False
        self._urgent = True
        self._stopping = False
        self.write_failures = 0
        self.writes = 0
        self.subscription: Subscription | None = None
        now = time.time()
        self.status: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "name": name, "run_dir": self.run_dir.name,
            "pid": os.getpid(), "host": socket.gethostname(), "started_unix_s": now,
            "updated_unix_s": now, "state": RUNNING, "reason": "", "resume_command": "",
            "step": None, "n_steps": None, "label": "", "job": None, "n_jobs": None,
            "scan": "", "scan_kind": "", "point": None, "points_total": None, "progress": None,
            "remaining_lab_s": None, "remaining_wall_s": None, "remaining_text": "",
            "lock": {"engaged": False, "locked": None, "error_V": None, "control_V": None,
                     "time_s": [], "strip_error_V": [], "strip_control_V": []},
            "overloads": {"count": 0, "last": ""},
            "reference": {"state": "unknown", "since_s": None, "counter_hz": None},
            "suspensions": [], "scans_closed": [], "events": 0,
        }
        self._carry_over(self.run_dir / STATUS_FILE)
        self._strip: deque[tuple[float, float | None, float | None]] = deque(maxlen=STRIP_SAMPLES)
        self._scan: dict[str, Any] = {"scan": "", "kind": "", "columns": {}, "n_points": 0, "total": 0}
        self._thread = threading.Thread(target=self._writer_loop, name="kmor-live-status", daemon=True)
        self._thread.start()

    def _carry_over(self, path: Path) -> None:
        """On --resume: keep the closed scans and suspensions of the earlier sessions."""
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(previous, dict):
            for key in ("scans_closed", "suspensions"):
                if isinstance(previous.get(key), list):
                    self.status[key] = previous[key][-MAX_SUSPENSIONS:] if key == "suspensions" else previous[key]
            if isinstance(previous.get("overloads"), dict):
                self.status["overloads"] = previous["overloads"]

    @classmethod
    def attach(cls, engine: Any, run_dir: str | Path, *, name: str = "",
               interval_s: float = 0.5) -> LiveStatus:
        """Subscribe to `engine.bus` (asynchronously) and start writing the run folder's files."""
        live = cls(run_dir, name=name, engine=engine, interval_s=interval_s)
        live.subscription = engine.bus.subscribe(live, name="live-status", min_interval_s=0.05,
                                                 max_queued=10_000)
        return live

    # ------------------------------------------------------------------ events (bus thread)
    def __call__(self, event: Event) -> None:
        with self._lock:
            self._apply(event)
            self._dirty_status = True
            if event.kind != ev.POINT:
                self._urgent = True
                self._wake.notify()

    def _apply(self, e: Event) -> None:
        s = self.status
        s["events"] += 1
        if e.step is not None:
            s["step"], s["n_steps"], s["label"] = e.step, e.n_steps, e.label
        self._clock.observe(e)   # the text is made when written
        if e.remaining_s is not None:
            s["remaining_lab_s"] = _number(e.remaining_s)
        progress = getattr(self.engine, "progress", None) or {}
        if progress.get("job") is not None:
            s["job"], s["n_jobs"] = progress["job"], progress.get("n_jobs")
        handler = getattr(self, "_on_" + e.kind, None)
        if handler is not None:
            handler(e)
        self._sample_lock(e)

    def _on_scan_started(self, e: Event) -> None:
        kind = Path(e.scan).stem.split("-", 1)[-1] if e.scan else ""
        self.status.update(scan=Path(e.scan).name, scan_kind=kind, point=0, points_total=e.total,
                           progress=0.0)
        self._scan = {"scan": Path(e.scan).name, "kind": kind, "columns": {}, "n_points": 0,
                      "total": e.total or 0, "label": e.label, "status": RUNNING}
        self._dirty_scan = True

    def _on_point(self, e: Event) -> None:
        s = self.status
        if e.index is not None:
            s["point"] = e.index + 1
            if e.total:
                s["progress"] = min(1.0, (e.index + 1) / e.total)
        row = e.row or {}
        scan = self._scan
        if scan["n_points"] >= MAX_LIVE_POINTS:
            return
        wanted = PLOTTED_COLUMNS.get(scan["kind"])
        names = [c for c in wanted if c in row] if wanted else \
            [c for c, v in row.items() if isinstance(v, (int, float, str))]
        columns = scan["columns"]
        for name in names:
            if name not in columns:   # a column first seen now: earlier points had none
                columns[name] = [None] * scan["n_points"]
            columns[name].append(_cell(row[name]))
        scan["n_points"] += 1
        for values in columns.values():   # a column missing from this row
            if len(values) < scan["n_points"]:
                values.append(None)
        if "freq_counter_hz" in row and _number(row["freq_counter_hz"]) is not None:
            self.status["reference"]["counter_hz"] = _number(row["freq_counter_hz"])
            if self.status["reference"]["state"] == "unknown":
                self.status["reference"]["state"] = "ok"
        self._dirty_scan = True

    def _on_scan_finished(self, e: Event) -> None:
        name = Path(e.scan).name
        closed = self.status["scans_closed"]
        closed.append({"scan": name, "status": e.status, "points": e.index, "label": e.label,
                       "message": e.message})
        if self._scan["scan"] == name:
            self._scan["status"] = e.status
            self._dirty_scan = True

    def _on_suspended(self, e: Event) -> None:
        suspender = str(e.info.get("suspender", ""))
        entry = {"time_s": _number(e.time_s), "wall_unix_s": e.wall_time_unix_s, "reason": e.message,
                 "suspender": suspender, "scan": Path(e.scan).name if e.scan else self.status["scan"],
                 "duration_s": None}
        susp = self.status["suspensions"]
        susp.append(entry)
        del susp[:-MAX_SUSPENSIONS]
        if suspender == OVERLOAD_SUSPENDER:
            self.status["overloads"]["count"] += 1
            self.status["overloads"]["last"] = e.message
        if suspender == REFERENCE_SUSPENDER:
            self.status["reference"].update(state="missing", since_s=_number(e.time_s))

    def _on_resumed(self, e: Event) -> None:
        susp = self.status["suspensions"]
        if susp and susp[-1]["duration_s"] is None:
            susp[-1]["duration_s"] = _number(e.info.get("suspended_s"))
        if e.info.get("suspender") == REFERENCE_SUSPENDER:
            self.status["reference"].update(state="ok", since_s=_number(e.time_s))

    def _on_paused(self, e: Event) -> None:
        self.status.update(state=PAUSED, reason="paused by the operator (the lock keeps running)",
                           resume_command="resume from the kmor window")

    def _on_unpaused(self, e: Event) -> None:
        self.status.update(state=RUNNING, reason="", resume_command="")

    def _on_error(self, e: Event) -> None:
        self.status["reason"] = e.message

    def _sample_lock(self, e: Event) -> None:
        """The lock strip chart: the servo's own last step (attributes only, no instrument I/O),
        at most one sample per event delivery."""
        servo = getattr(self.engine, "servo", None)
        lock = self.status["lock"]
        lock["engaged"] = servo is not None
        if servo is None:
            row = e.row or {}
            if "locked" in row:
                lock["locked"] = bool(row["locked"])
            return
        error = _number(getattr(servo, "last_error_V", None))
        control = _number(getattr(servo, "control_V", None))
        lock.update(locked=not bool(getattr(servo, "lost", False)), error_V=error, control_V=control)
        t = _number(e.time_s)
        if t is not None and (not self._strip or t > self._strip[-1][0]):
            self._strip.append((t, error, control))

    # ------------------------------------------------------------------ end of the run
    def finish(self, status: str, message: str = "", resume_command: str = "") -> None:
        """Record how the batch ended ("complete", "aborted", "paused", "failed") and the exact
        command that continues it, write the files now, and stop the writer thread. Never raises."""
        if status == "complete":
            resume_command = ""
        elif not resume_command:
            resume_command = f"kmor run --resume {self.run_dir}"
        try:
            if self.subscription is not None:
                self.subscription.cancel()
            with self._lock:
                self.status.update(state=status, reason=message, resume_command=resume_command,
                                   ended_unix_s=time.time())
                if status == "complete":
                    self.status.update(remaining_lab_s=0.0, remaining_wall_s=0.0, remaining_text="")
                self._dirty_status = self._urgent = True
                self._stopping = True
                self._wake.notify()
            self._thread.join(10.0)
        except Exception:   # the run's own ending matters more than its live page
            log.exception("could not record the end of the run in %s", STATUS_FILE)

    # ------------------------------------------------------------------ writer thread
    def _writer_loop(self) -> None:
        """Write what changed every `interval_s` (at once after a lifecycle event); polls, so a
        point event costs the bus thread no more than a dict update."""
        last = 0.0
        while True:
            with self._lock:
                if not (self._urgent or self._stopping):
                    self._wake.wait(self.interval_s)
                due = self._urgent or self._stopping or time.monotonic() - last >= self.interval_s
                if not due:
                    continue
                status, scan = self._snapshot()
                stopping = self._stopping
            if status is not None or scan is not None:
                self._write(status, scan)
                last = time.monotonic()
            if stopping:
                return

    def _snapshot(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Copies of what changed (taken under the lock, written outside it)."""
        status = scan = None
        if self._dirty_status:
            self.status["updated_unix_s"] = time.time()
            remaining = self.status["remaining_lab_s"]
            if remaining is not None and self.status["state"] not in ("complete",):
                self.status["remaining_wall_s"] = _number(self._clock.wall_s(remaining))
                self.status["remaining_text"] = self._clock.text(remaining)
            lock = self.status["lock"]
            lock["time_s"] = [t for t, _, _ in self._strip]
            lock["strip_error_V"] = [x for _, x, _ in self._strip]
            lock["strip_control_V"] = [c for _, _, c in self._strip]
            status = _copy(self.status)
        if self._dirty_scan:
            scan = {**self._scan, "columns": {k: list(v) for k, v in self._scan["columns"].items()},
                    "updated_unix_s": time.time()}
        self._dirty_status = self._dirty_scan = self._urgent = False
        return status, scan

    def _write(self, status: dict[str, Any] | None, scan: dict[str, Any] | None) -> None:
        try:
            if scan is not None:   # the points first: a status never names points not yet there
                save_json_atomic(self.run_dir / LIVE_SCAN_FILE, scan, durable=False, indent=None)
            if status is not None:
                save_json_atomic(self.run_dir / STATUS_FILE, status, durable=False, indent=None)
            self.writes += 1
        except (StorageError, OSError, ValueError, TypeError) as exc:
            self.write_failures += 1
            if self.write_failures == 1:
                log.warning("live status for kmor watch not written (the run goes on): %s", exc)


def _copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy(v) for v in obj]
    return obj
