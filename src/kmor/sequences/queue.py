"""The durable batch queue of a run folder: `queue.json` (what to do) + `queue.journal` (what
happened), so `--resume DIR` needs nothing else.

`queue.json` is written once, atomically, when the run starts: the batch and lab config text and
every job (id, step, kind, label, parameters, estimate). `queue.journal` gets one JSON line per
event (session started, job started, scan opened, job done with its result and the context later
jobs need, job stopped, run finished), appended and fsynced before the call returns. Appending
costs the same for the 1st and the 1000th job (rewriting a whole state file each time would grow
with the batch); a line torn by a crash is ignored when the journal is replayed.

Resume rules (labscript BLACS keeps its queue the same way): done jobs are skipped; a job found
running/aborted/failed is checked against its files: if the scan it opened is complete on disk
(killed after closing the file but before the journal line), the job counts as done and its
result is read back from the scan's `result_json`; otherwise the job runs again in a new scan
file and the partial file is listed as superseded. So the complete scans of a resumed batch are
the same set as those of an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from kmor.storage import read_scan, save_json_atomic
from kmor.storage.errors import StorageError
from kmor.storage.queue_journal import (
    ABORTED,
    DONE,
    FAILED,
    FORMAT,
    JOURNAL_FILE,
    PAUSED,
    QUEUE_FILE,
    RUNNING,
    VERSION,
    apply_record,
    initial_state,
    load_static,
    read_journal,
)


class QueueState:
    """The queue of one run folder: `data` is queue.json plus the replayed journal (job status,
    scans, results, context, sessions). Every mutation is on disk before it returns."""

    def __init__(self, run_dir: Path, data: dict[str, Any]) -> None:
        self.run_dir = Path(run_dir)
        self.data = data
        self._by_id = {job["id"]: job for job in data["jobs"]}
        self._torn_tail = False   # the journal ends inside a line (killed while appending)

    @property
    def path(self) -> Path:
        return self.run_dir / QUEUE_FILE

    @property
    def journal_path(self) -> Path:
        return self.run_dir / JOURNAL_FILE

    @classmethod
    def create(cls, run_dir: Path, *, batch_file: str, batch_text: str, config_source: str,
               config_text: str, name: str, jobs: list[dict[str, Any]]) -> QueueState:
        static = {"format": FORMAT, "version": VERSION, "name": name, "batch_file": batch_file,
                  "batch_text": batch_text, "config_source": config_source,
                  "config_text": config_text, "created_unix_s": time.time(), "jobs": jobs}
        save_json_atomic(Path(run_dir) / QUEUE_FILE, static)
        return cls(run_dir, initial_state(static))

    @staticmethod
    def require(run_dir: str | Path) -> None:
        """StorageError naming the folder unless it holds a queue (checked before locking it)."""
        if not (Path(run_dir) / QUEUE_FILE).is_file():
            raise StorageError(Path(run_dir) / QUEUE_FILE, "no such state file: not a kmor run folder")

    @classmethod
    def load(cls, run_dir: str | Path) -> QueueState:
        run_dir = Path(run_dir)
        try:
            state = cls(run_dir, initial_state(load_static(run_dir)))
            records, state._torn_tail = read_journal(run_dir / JOURNAL_FILE)
            for record in records:
                state._apply(record)
        except (KeyError, TypeError, AttributeError) as e:
            raise StorageError(run_dir / QUEUE_FILE, f"damaged queue: {type(e).__name__} {e}") from e
        return state

    # ------------------------------------------------------------------ journal
    def _log(self, record: dict[str, Any]) -> None:
        record = {"t": time.time(), **record}
        line = json.dumps(record, default=float, allow_nan=True) + "\n"
        if self._torn_tail:   # finish the torn line so this record starts a line of its own
            line = "\n" + line
            self._torn_tail = False
        try:
            with open(self.journal_path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise StorageError(self.journal_path, f"could not record the queue state: {e}") from e
        self._apply(record)

    def _apply(self, record: dict[str, Any]) -> None:
        apply_record(self.data, self._by_id, record)

    # ------------------------------------------------------------------ jobs
    @property
    def jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self.data["jobs"]
        return jobs

    @property
    def context(self) -> dict[str, Any]:
        context: dict[str, Any] = self.data["context"]
        return context

    def pending_jobs(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs if j["status"] != DONE]

    def start_session(self, resumed: bool) -> None:
        self._log({"event": "session", "resumed": resumed})

    def job_started(self, job: dict[str, Any]) -> None:
        self._log({"event": "job_started", "job": job["id"]})

    def scan_opened(self, job: dict[str, Any], path: str) -> None:
        self._log({"event": "scan_opened", "job": job["id"], "scan": Path(path).name})

    def job_done(self, job: dict[str, Any], result: Any, context: dict[str, Any]) -> None:
        self._log({"event": "job_done", "job": job["id"], "result": result, "context": context})

    def job_stopped(self, job: dict[str, Any], status: str, message: str, context: dict[str, Any]) -> None:
        """The job ended without completing: status "aborted", "paused" (a persistent fault) or
        "failed"; each runs again on resume."""
        self._log({"event": "job_stopped", "job": job["id"],
                   "status": status if status in (ABORTED, PAUSED) else FAILED, "message": message,
                   "context": context})

    def finish(self, status: str, message: str = "") -> None:
        self._log({"event": "finished", "status": status, "message": message})

    # ------------------------------------------------------------------ resume
    def reconcile(self) -> list[str]:
        """Make the queue agree with the files after a crash (see the module doc); returns notes."""
        notes = []
        for job in self.jobs:
            if job["status"] not in (RUNNING, FAILED, ABORTED, PAUSED):
                continue
            last = job["scans"][-1] if job["scans"] else None
            scan = _read(self.run_dir / last) if last else None
            if scan is not None and scan.status == "complete" and "result_json" in scan.arrays:
                context = dict(self.context)
                result = json.loads(str(scan.arrays["result_json"][()]))
                _recover_context(context, job["kind"], result)
                self._log({"event": "job_done", "job": job["id"], "result": result, "context": context})
                notes.append(f"{job['id']}: its scan {last} completed before the interruption; kept")
                continue
            previous = job["status"]
            self._log({"event": "job_reset", "job": job["id"], "superseded": list(job["scans"])})
            notes.append(f"{job['id']}: {'interrupted' if previous == RUNNING else previous}; will run again"
                         + (f" (partial scan {last} superseded)" if last else ""))
        return notes

    def complete_scans(self) -> list[str]:
        """Scan files of done jobs, in job order."""
        return [j["scans"][-1] for j in self.jobs if j["status"] == DONE and j["scans"]]


def _read(path: Path) -> Any:
    try:
        return read_scan(path)
    except StorageError:
        return None


def _recover_context(context: dict[str, Any], kind: str, result: Any) -> None:
    """The context entry that a recovered job would have set (its kind's `context_key`)."""
    from kmor.sequences import steps

    key = steps.get(kind).context_key
    if key is not None:
        context[key] = result
