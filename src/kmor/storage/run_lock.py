"""One writer per run folder: an operating-system lock on `run.lock`, held for the life of a run.

`flock` is released by the kernel when the process ends in any way (SIGKILL, a crash, a power
cut), so a killed run never blocks its own `--resume`, and there is no stale lock file to
delete by hand. The file itself only says who holds the lock (pid, host, start time, command), so a
second writer's refusal can name it; it is never deleted (deleting a lock file opens a race).
Two runs of different batches never share a run folder (each gets a new one), so they may share a
data folder. Where `fcntl` does not exist (Windows) the lock is not taken (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from kmor.storage.errors import StorageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "run.lock"


class RunFolderBusy(StorageError):
    """Another process is writing the run folder; the message names it (pid, host, since, command)."""


@contextmanager
def hold_run_folder(run_dir: str | Path, command: str | None = None) -> Iterator[None]:
    """Hold the run folder's lock while the block runs; RunFolderBusy at once if another process
    holds it. `command` (default: this process's command line) is recorded for that message."""
    fd = _lock(Path(run_dir), command if command is not None else " ".join(sys.argv))
    try:
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _lock(run_dir: Path, command: str) -> int:
    path = run_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StorageError(path, f"could not open the run folder's lock file: {e.strerror or e}") from e
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise RunFolderBusy(run_dir, f"another kmor process is writing this run folder ({holder}); "
                                     f"only one may: wait for it to end, or stop it first") from None
    except OSError as e:
        os.close(fd)
        raise StorageError(path, f"could not lock the run folder: {e.strerror or e}") from e
    _record_holder(fd, command)
    return fd


def _record_holder(fd: int, command: str) -> None:
    now = time.time()
    text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_unix_s": now,
                       "started_iso": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
                       "command": command})
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode("utf-8") + b"\n", 0)
    except OSError:
        pass  # the lock is what matters; a refusal then says the holder is unknown


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 65536, 0).decode("utf-8", "replace"))
        return (f"pid {info['pid']} on {info['host']}, started {info['started_iso']}: "
                f"{info['command']}")
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown: it is just starting"
