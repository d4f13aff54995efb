"""Run folders and scan file names.

A run is a folder `data_dir/YYYYMMDD-HHMMSS-name` (UTC, so names sort in time order across
daylight-saving changes and match the UTC times inside the files). Scans in it are numbered
`00001-<kind>.h5`, `00002-<kind>.h5`, ... in acquisition order.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from kmor.storage.errors import StorageError

_SCAN_NAME = re.compile(r"^(\d+)-.*\.h5$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def new_run_dir(data_dir: str | Path, name: str, *, now: datetime | None = None) -> Path:
    """Create and return a new run folder `data_dir/YYYYMMDD-HHMMSS-name` (UTC start time).

    `name` is reduced to letters, digits, '.', '_' and '-'. If the folder exists (two runs in the
    same second), "-2", "-3", ... is appended: an existing folder is never reused.
    """
    safe = _UNSAFE.sub("-", name).strip("-.")
    if not safe:
        raise ValueError(f"run name {name!r} has no usable characters")
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 10_000):
            folder = data_dir / (f"{stamp}-{safe}" if attempt == 1 else f"{stamp}-{safe}-{attempt}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
    except OSError as e:
        raise StorageError(data_dir, f"could not create a run folder: {e}") from e
    raise StorageError(data_dir, f"too many run folders named {stamp}-{safe}")


def next_scan_path(run_dir: str | Path, kind: str) -> Path:
    """The path for the next scan of `run_dir`: one more than the highest existing number."""
    run_dir = Path(run_dir)
    safe_kind = _UNSAFE.sub("-", kind).strip("-.") or "scan"
    numbers = [_scan_number(p) for p in run_dir.glob("*.h5")]
    last = max((n for n in numbers if n is not None), default=0)
    return run_dir / f"{last + 1:05d}-{safe_kind}.h5"


def list_scans(run_dir: str | Path) -> list[Path]:
    """The scan files of `run_dir` in acquisition order (by number; unnumbered ones last, by name).

    Hidden files (temporary files of scans being created) are not listed.
    """
    files = [p for p in Path(run_dir).glob("*.h5") if not p.name.startswith(".") and p.is_file()]

    def key(p: Path) -> tuple[int, int, str]:
        n = _scan_number(p)
        return (0, n, p.name) if n is not None else (1, 0, p.name)

    return sorted(files, key=key)


def _scan_number(path: Path) -> int | None:
    m = _SCAN_NAME.match(path.name)
    return int(m.group(1)) if m else None


def remove_if_unused(run_dir: str | Path, allowed: tuple[str, ...] = ("run.lock",)) -> None:
    """Delete a run folder that holds nothing but `allowed` files (a run that failed before it
    recorded anything), so no empty run folder is left behind; anything else is kept."""
    run_dir = Path(run_dir)
    try:
        entries = list(run_dir.iterdir())
        if any(p.name not in allowed for p in entries):
            return
        for p in entries:
            p.unlink()
        run_dir.rmdir()
    except OSError:
        pass
