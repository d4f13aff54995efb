"""Read-only replay of a run folder's batch queue: `queue.json` (what to do) + `queue.journal`
(what happened), into one record per job (status, attempts, scans, result, message).

The engine's QueueState (kmor.sequences.queue) appends to the journal and replays it with
`apply_record`; the analysis replays it with `load_queue` to learn which scan completed each job.
Both use this one replay, so what the run did and what the analysis counts cannot disagree.

Journal records (one JSON object a line, field "event"): session, job_started, scan_opened,
job_done, job_stopped, job_reset (lists the job's scans superseded by its re-run), finished. A line
torn by a crash is skipped (only the last line can be torn; later lines start afresh).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kmor.storage.errors import StorageError
from kmor.storage.state import load_json

log = logging.getLogger("kmor.storage.queue_journal")
QUEUE_FILE = "queue.json"
JOURNAL_FILE = "queue.journal"
FORMAT = "kmor-queue"
VERSION = 1
# Job and run status strings as the journal writes them (kmor.sequences.queue names them too).


class JobStatus(StrEnum):
    """A queue job's status (the strings stored in queue.journal)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"
    PAUSED = "paused"


PENDING, RUNNING, DONE, FAILED, ABORTED, PAUSED = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.DONE,
                                                   JobStatus.FAILED, JobStatus.ABORTED, JobStatus.PAUSED)


def initial_state(static: dict[str, Any]) -> dict[str, Any]:
    """The queue before any journal record: queue.json plus every job pending, without scans."""
    data = dict(static)
    data["jobs"] = [dict(job, status=PENDING, attempts=0, scans=[], result=None, message="")
                    for job in static["jobs"]]
    data.update(status=PENDING, message="", sessions=[], context={}, superseded_scans=[])
    return data


def apply_record(data: dict[str, Any], by_id: dict[str, dict[str, Any]], r: dict[str, Any]) -> None:
    """Apply one journal record to `data` (as built by `initial_state`; `by_id` maps job ids to
    the job dicts of data["jobs"])."""
    kind = r.get("event")
    job = by_id.get(r.get("job", ""))
    if kind == "session":
        data["sessions"].append({"started_unix_s": r["t"], "resumed": r["resumed"]})
        data["status"] = RUNNING
    elif kind == "job_started" and job is not None:
        job["status"], job["message"] = RUNNING, ""
        job["attempts"] += 1
    elif kind == "scan_opened" and job is not None:
        job["scans"].append(r["scan"])
    elif kind == "job_done" and job is not None:
        job["status"], job["result"] = DONE, r.get("result")
        if "context" in r:
            data["context"] = r["context"]
    elif kind == "job_stopped" and job is not None:
        job["status"], job["message"] = r["status"], r.get("message", "")
        if "context" in r:
            data["context"] = r["context"]
    elif kind == "job_reset" and job is not None:
        job["status"] = PENDING
        for name in r.get("superseded", []):
            if name not in data["superseded_scans"]:
                data["superseded_scans"].append(name)
    elif kind == "finished":
        data["status"], data["message"] = r["status"], r.get("message", "")
        if data["sessions"]:
            data["sessions"][-1].update(ended_unix_s=r["t"], status=r["status"])


def read_journal(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The journal's records, and whether it ends inside a line (killed while appending). A line
    that is not JSON, not UTF-8 or not a record is skipped with a warning: only a run killed while
    appending leaves a partial line, and later lines start afresh."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], False
    except OSError as e:
        raise StorageError(path, f"could not read the queue journal: {e}") from e
    records = []
    for n, line in enumerate(raw.splitlines()):
        try:
            record = json.loads(line.decode("utf-8"))
        except ValueError:   # not JSON, or not UTF-8
            log.warning("%s: ignoring line %d, torn by an interruption: %.60r", path, n + 1, line)
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            log.warning("%s: ignoring line %d, not a journal record: %.60r", path, n + 1, line)
    return records, bool(raw) and not raw.endswith(b"\n")


def load_static(run_dir: Path) -> dict[str, Any]:
    """queue.json of `run_dir`, checked; StorageError naming the file if it is not a kmor queue."""
    static = load_json(run_dir / QUEUE_FILE)
    if not isinstance(static, dict) or static.get("format") != FORMAT:
        raise StorageError(run_dir / QUEUE_FILE, "not a kmor batch queue")
    if static.get("version", 0) > VERSION:
        raise StorageError(run_dir / QUEUE_FILE, f"queue format {static.get('version')} is newer than this kmor")
    return static


def load_queue(run_dir: str | Path) -> tuple[dict[str, Any], bool]:
    """The replayed queue of `run_dir` (queue.json + every journal record) and whether the
    journal ends in a torn line. StorageError if queue.json is missing or not a kmor queue."""
    run_dir = Path(run_dir)
    data = initial_state(load_static(run_dir))
    by_id = {job["id"]: job for job in data["jobs"]}
    records, torn = read_journal(run_dir / JOURNAL_FILE)
    for record in records:
        apply_record(data, by_id, record)
    return data, torn


@dataclass(frozen=True)
class ScanRole:
    """What a scan file of a queued run stands for: "completed" (the scan that completed job
    `job`), "superseded" (a partial scan whose job ran again) or "aborted" (a scan of a job that
    did not complete and was not run again); `reason` says why in words."""

    role: str
    job: str
    reason: str


def scan_roles(run_dir: str | Path) -> dict[str, ScanRole]:
    """Role of every scan file (by file name) that the journal of `run_dir` lists.

    Per job, only the last scan of a done job completed it; earlier scans of the same job are
    superseded (the job ran again), and the scans of a job that is not done are aborted.
    """
    data, _ = load_queue(run_dir)
    superseded = set(data["superseded_scans"])
    roles: dict[str, ScanRole] = {}
    for job in data["jobs"]:
        scans = list(job["scans"])
        label = f"job {job['id']} ({job.get('label') or job.get('kind', '')})"
        for k, name in enumerate(scans):
            last = k == len(scans) - 1
            if job["status"] == DONE and last:
                roles[name] = ScanRole("completed", job["id"], f"completed {label}")
            elif name in superseded or not last:
                roles[name] = ScanRole("superseded", job["id"],
                                       f"superseded: {label} was interrupted in this scan and ran again")
            else:
                why = "the run stopped in it" if job["status"] == RUNNING else job["status"]
                why += f": {job['message']}" if job.get("message") else ""
                roles[name] = ScanRole("aborted", job["id"], f"aborted: {label} did not complete ({why})")
    return roles
