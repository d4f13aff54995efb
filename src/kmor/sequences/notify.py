"""Tell someone when an unattended batch pauses, fails or finishes: a POST to a URL and/or a command,
as configured in the lab config's [notify] table (kmor.config.model.NotifySection).

    notify_run_end(config.notify, "paused", "lock-in overload: ...", run_dir)

The POST body is either a JSON object (`format = "json"`: title, message, status, run_dir,
resume_command, host; what chat webhooks and most push relays take) or the message as plain text
with `Title` and `Tags` headers (`format = "text"`: an ntfy topic URL). The command runs without a
shell, with the message in KMOR_* environment variables. Both are bounded by `timeout_s`; any
failure is logged and swallowed: a notification must never change how the run ends.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

log = logging.getLogger("kmor.sequences.notify")

TITLES = {"paused": "kmor run paused", "failed": "kmor run failed", "complete": "kmor run finished",
          "aborted": "kmor run aborted"}


def run_end_message(status: str, message: str, run_dir: str | Path, resume_command: str = "") -> dict[str, Any]:
    """The notification for a batch that ended with `status` (complete/aborted/paused/failed);
    `resume_command` is the run's exact one (default: the plain `kmor run --resume RUN_DIR`)."""
    run_dir = Path(run_dir)
    resume = (resume_command or f"kmor run --resume {run_dir}") if status in ("paused", "failed", "aborted") else ""
    text = f"{run_dir.name}: {status}" + (f": {message}" if message else "")
    if resume:
        text += f"\ncontinue with: {resume}"
    return {"title": TITLES.get(status, f"kmor run {status}"), "message": text, "status": status,
            "reason": message, "run_dir": str(run_dir), "resume_command": resume,
            "host": socket.gethostname()}


def notify_run_end(settings: Any, status: str, message: str, run_dir: str | Path,
                   resume_command: str = "") -> list[str]:
    """Send the configured notifications for this ending (if `status` is in `settings.on`).
    Returns what failed (also logged); never raises."""
    try:
        if settings is None or status not in settings.on or not (settings.url or settings.command):
            return []
        note = run_end_message(status, message, run_dir, resume_command)
        failures = []
        if settings.url:
            failures += _post(settings, note)
        if settings.command:
            failures += _run_command(settings, note)
        if not failures:
            log.info("notified: %s", note["title"])
        return failures
    except Exception as exc:
        log.exception("notification failed")
        return [f"notification failed: {exc}"]


def _post(settings: Any, note: dict[str, Any]) -> list[str]:
    if settings.format == "text":
        body = note["message"].encode("utf-8")
        headers = {"Content-Type": "text/plain; charset=utf-8", "Title": note["title"],
                   "Tags": "warning" if note["status"] != "complete" else "white_check_mark"}
    else:
        body = json.dumps(note).encode("utf-8")
        headers = {"Content-Type": "application/json"}
    headers.update(settings.headers)
    request = urllib.request.Request(settings.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_s) as reply:
            reply.read(1024)
        return []
    except (urllib.error.URLError, OSError, ValueError) as exc:
        text = f"could not POST the notification to {settings.url}: {exc}"
        log.warning("%s", text)
        return [text]


def _run_command(settings: Any, note: dict[str, Any]) -> list[str]:
    env = {**os.environ, "KMOR_STATUS": note["status"], "KMOR_MESSAGE": note["message"],
           "KMOR_TITLE": note["title"], "KMOR_RUN_DIR": note["run_dir"],
           "KMOR_RESUME_COMMAND": note["resume_command"]}
    try:
        done = subprocess.run(list(settings.command), env=env, timeout=settings.timeout_s,
                              stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        text = f"notification command {settings.command[0]!r} failed: {exc}"
        log.warning("%s", text)
        return [text]
    if done.returncode != 0:
        text = (f"notification command {settings.command[0]!r} exited {done.returncode}: "
                f"{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
        log.warning("%s", text)
        return [text]
    return []
