"""Small durable JSON files for the engine's batch queue and `--resume` checkpoints.

`save_json_atomic` writes a temporary file in the same folder, fsyncs it, and renames it over the
target, then fsyncs the folder: after a crash or power cut the file holds either the old or the new
content, never a mixture or an empty file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from kmor.storage.errors import StorageError
from kmor.storage.jsontext import dumps

_MISSING: Any = object()


def save_json_atomic(path: str | Path, obj: Any, *, durable: bool = True, indent: int | None = 2) -> None:
    """Replace `path` with the JSON text of `obj`, atomically and durably (StorageError on failure).

    `durable=False` skips the two fsyncs: a reader still sees the old or the new text, never a
    mixture, but a power cut may lose the update (for live status files rewritten every second)."""
    path = Path(path)
    text = dumps(obj, indent=indent) + "\n"
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        if durable:
            _fsync_dir(path.parent)
    except OSError as e:
        raise StorageError(path, f"could not save state: {e}") from e
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def load_json(path: str | Path, default: Any = _MISSING) -> Any:
    """The object saved in `path`; `default` if the file does not exist and a default was given.

    A missing file without a default, an unreadable file or invalid JSON raise StorageError.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        if default is not _MISSING:
            return default
        raise StorageError(path, "no such state file") from e
    except OSError as e:
        raise StorageError(path, f"could not read state: {e}") from e
    except UnicodeDecodeError as e:
        raise StorageError(path, f"damaged: byte {e.start} is not UTF-8 text (kmor writes UTF-8 JSON)") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StorageError(path, f"not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from e


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
