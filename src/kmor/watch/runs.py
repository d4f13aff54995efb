"""What `kmor watch` reads from a data folder: the runs, their live status, their scans, their
analysis reports. Nothing here writes, and scan files are opened without HDF5's file lock
(`read_scan(locking=False)`), so a watcher can never make a writer's open fail
(docs/decisions/0160).

Run folder files read: status.json and live-scan.json (published by the run,
kmor.sequences.live_status), queue.json (written once) and queue.journal (appended), run.log,
the closed scan files, and a report folder (`<run>-report/` beside it, or `report/` inside it) made
by `kmor analyze`.
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from kmor.storage import list_scans, read_scan
from kmor.storage.errors import StorageError
from kmor.watch.paths import RUN_NAME

STATUS_FILE = "status.json"
LIVE_SCAN_FILE = "live-scan.json"
QUEUE_FILE = "queue.json"
JOURNAL_FILE = "queue.journal"
LOG_FILE = "run.log"
LIVE_STATES = ("running", "paused")
LOG_LINES = 40
SMALL_PLOT_POINTS = 400


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if it is missing, being replaced, or not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clean(value: Any) -> Any:
    """`value` with NaN and infinities as None and numpy values as plain ones (for browsers)."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, np.generic):
        return clean(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def is_run_folder(folder: Path) -> bool:
    return folder.is_dir() and ((folder / QUEUE_FILE).is_file() or any(folder.glob("*.h5")))


def list_runs(root: Path) -> list[dict[str, Any]]:
    """Every run folder directly in `root`, newest first, with its state."""
    runs = []
    try:
        children = list(root.iterdir())
    except OSError:
        return []
    for folder in children:
        if not RUN_NAME.match(folder.name) or folder.is_symlink() or not is_run_folder(folder):
            continue
        status = run_state(folder)
        runs.append({"id": folder.name, "name": status.get("name") or folder.name,
                     "state": status["state"], "reason": status.get("reason", ""),
                     "started_unix_s": status.get("started_unix_s"),
                     "n_scans": len(list_scans(folder)), "report": report_dir(folder) is not None})
    runs.sort(key=lambda r: r["id"], reverse=True)
    return runs


def run_state(folder: Path) -> dict[str, Any]:
    """status.json (with `state` "interrupted" if its process is gone), else what the journal
    says; always has `state`."""
    status = read_json(folder / STATUS_FILE)
    if isinstance(status, dict) and "state" in status:
        if status["state"] in LIVE_STATES and not _process_alive(status):
            status = {**status, "state": "interrupted",
                      "reason": "the kmor process that ran it is gone (killed or crashed)",
                      "resume_command": f"kmor run --resume {folder}"}
        return status
    queue = read_json(folder / QUEUE_FILE) or {}
    finished = _journal_end(folder / JOURNAL_FILE)
    state = finished.get("status", "unknown") if finished else "unknown"
    return {"state": state, "reason": finished.get("message", "") if finished else
            "no live status (recorded by an older kmor, or the run has just started)",
            "name": queue.get("name", ""), "started_unix_s": queue.get("created_unix_s")}


def _process_alive(status: dict[str, Any]) -> bool:
    """False only when the run's process is known to be gone (same host, no such pid)."""
    pid, host = status.get("pid"), status.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _journal_end(path: Path) -> dict[str, Any] | None:
    """The last "finished" record of queue.journal (torn lines ignored), if any."""
    last = None
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("event") == "finished":
                    last = record
                elif isinstance(record, dict) and record.get("event") == "session":
                    last = None
    except OSError:
        return None
    return last


def run_detail(folder: Path) -> dict[str, Any]:
    """Everything the page shows about one run except the scan data."""
    status = run_state(folder)
    queue = read_json(folder / QUEUE_FILE) or {}
    jobs = [{k: j.get(k) for k in ("id", "step", "kind", "label", "params", "estimate_s")}
            for j in queue.get("jobs", [])]
    job = status.get("job")
    current = jobs[job] if isinstance(job, int) and 0 <= job < len(jobs) else None
    detail: dict[str, Any] = clean({
        "id": folder.name, "status": status, "batch_file": queue.get("batch_file", ""),
        "config_source": queue.get("config_source", ""), "n_jobs": len(jobs), "current_job": current,
        "log_tail": tail(folder / LOG_FILE, LOG_LINES), "scans": scan_list(folder, status),
        "report": report_summary(folder),
    })
    return detail


def tail(path: Path, n: int) -> list[str]:
    """The last `n` lines of a text file (read from the end: run.log may be large)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return list(deque(lines, maxlen=n))


def scan_list(folder: Path, status: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's scan files; `closed` says whether the page may read one (a live run's current
    scan is not closed: its points come from live-scan.json)."""
    closed = {c["scan"]: c for c in status.get("scans_closed", []) if isinstance(c, dict)}
    live = status.get("state") in LIVE_STATES
    current = _number_of(str(status.get("scan") or "")) or 0   # scans before it are closed
    out = []
    for path in list_scans(folder):
        info = closed.get(path.name, {})
        number = _number_of(path.name)
        older = number is not None and current > 0 and number < current and path.name != status.get("scan")
        out.append({"file": path.name, "kind": path.stem.split("-", 1)[-1],
                    "closed": (not live) or path.name in closed or older,
                    "status": info.get("status"), "label": info.get("label", ""),
                    "points": info.get("points")})
    return out


def _number_of(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def report_dir(folder: Path) -> Path | None:
    """The `kmor analyze` output for this run, if any (`<run>-report` beside it, or `report/`)."""
    for candidate in (folder.parent / f"{folder.name}-report", folder / "report"):
        if (candidate / "summary.json").is_file():
            return candidate
    return None


def report_summary(folder: Path) -> dict[str, Any] | None:
    """The report's headline numbers, its figures (paths relative to the data folder) and its
    report.md text."""
    out = report_dir(folder)
    if out is None:
        return None
    doc = read_json(out / "summary.json")
    if not isinstance(doc, dict):
        return {"error": "summary.json is not readable"}
    rel = out.relative_to(folder.parent)
    figures = {k: f"{rel.as_posix()}/{v}" for k, v in (doc.get("figures") or {}).items()
               if isinstance(v, str)}
    try:
        text = (out / "report.md").read_text(encoding="utf-8")[:200_000]
    except OSError:
        text = ""
    return {"dir": rel.as_posix(), "created_utc": doc.get("created_utc"), "figures": figures,
            "numbers": _numbers(doc), "report_md": text}


def _numbers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's main results as rows {name, value, error, units}."""
    rows = []
    for line, z in (doc.get("zeeman") or {}).items():
        if isinstance(z, dict):
            rows.append(_row(f"Zeeman ({line}): DeltaB0", z.get("delta_b0_uG"), "uG"))
            rows.append(_row(f"Zeeman ({line}): gamma/2pi", z.get("gamma_hz"), "Hz"))
    hf = doc.get("hyperfine") or {}
    if isinstance(hf, dict):
        rows.append(_row("0-0 line FWHM", hf.get("fwhm_hz"), "Hz"))
        rows.append(_row("0-0 line shift", hf.get("shift_hz"), "Hz"))
    for b in doc.get("bscans") or []:
        if isinstance(b, dict):
            rows.append(_row(f"{Path(str(b.get('file', ''))).name} width "
                             f"({b.get('light_power_uW') or 0:.3g} uW)", b.get("width_uG"), "uG"))
    for r in doc.get("rfscans") or []:
        if isinstance(r, dict):
            rows.append(_row(f"{Path(str(r.get('file', ''))).name} FWHM", r.get("fwhm_hz"), "Hz"))
    return rows


def _row(name: str, value: Any, units: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"name": name, "value": value.get("value"), "error": value.get("error"),
                "units": value.get("units", units)}
    return {"name": name, "value": value, "error": None, "units": units}


def scan_data(path: Path, max_points: int = SMALL_PLOT_POINTS) -> dict[str, Any]:
    """A closed scan's plotted columns, thinned to at most `max_points` points."""
    scan = read_scan(path, locking=False)
    kind = scan.kind
    names = _plot_columns(kind, list(scan.columns))
    n = scan.n_points
    step = max(1, math.ceil(n / max_points))
    columns = {}
    for name in names:
        col = scan.columns[name]
        thinned = col[::step]
        columns[name] = thinned.tolist() if thinned.dtype.kind in "U" else [_float(x) for x in thinned]
    data: dict[str, Any] = clean({"file": path.name, "kind": kind, "status": scan.status, "n_points": n,
                  "columns": columns, "units": {k: scan.columns[k].units for k in names},
                  "suspensions": [{"start_s": s.start_s, "end_s": s.end_s, "reason": s.reason}
                                  for s in scan.suspensions],
                  "parameters": scan.parameters, "start_time_iso": scan.start_time_iso})
    return data


PLOT_COLUMNS = {
    "bscan": ("field_uG", "field_set_uG", "x_V", "sweep"),
    "rfscan": ("freq_set_hz", "transmission_V", "repeat"),
    "zeroing": ("trial_uG", "x_V", "axis", "pass"),
    "lockpoint": ("piezo_pct", "amplitude_V", "lock_error_V"),
}


def _plot_columns(kind: str, available: list[str]) -> list[str]:
    wanted = PLOT_COLUMNS.get(kind)
    if wanted:
        return [c for c in wanted if c in available]
    return available[:4]


def _float(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_closed_scan(folder: Path, name: str) -> dict[str, Any]:
    """scan_data for a scan the page may read; StorageError for a scan being written."""
    status = run_state(folder)
    for entry in scan_list(folder, status):
        if entry["file"] == name:
            if not entry["closed"]:
                raise StorageError(folder / name, "being written; its points are in the live view")
            return scan_data(folder / name)
    raise FileNotFoundError(name)

