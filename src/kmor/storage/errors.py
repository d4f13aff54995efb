"""The one exception storage raises for anything that goes wrong on disk."""

from __future__ import annotations

import re
from pathlib import Path


class StorageError(Exception):
    """A data or state file could not be created, written or read; the message names the file.

    Raised (chained from the original `OSError`) for name clashes, disk full, permission and I/O
    errors, and files that are not kmor scans. Whatever was already acknowledged stays on disk.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {message}")


_OS_REASON = re.compile(r"errno = (\d+), error message = '([^']*)'")


def hdf5_reason(error: BaseException) -> str:
    """A one-line reason for an h5py/HDF5 error: its summary and, if given, the OS error behind it
    (HDF5 messages otherwise carry time stamps, buffer addresses and line breaks)."""
    text = " ".join(str(error).split())
    summary = text.split(" (", 1)[0]
    m = _OS_REASON.search(text)
    return f"{summary}: {m.group(2)} (errno {m.group(1)})" if m else text
