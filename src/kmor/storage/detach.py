"""Let HDF5 close a file whose writes failed, without touching the file again.

After a failed write (disk full, I/O error) HDF5 still holds dirty metadata; closing would retry
the writes, fail again, and leave half-closed objects that crash the library when the process exits
(seen with HDF5 2.0: a segmentation fault in H5D_close at exit). Pointing HDF5's file descriptor at a
scratch copy lets the close succeed in memory while the data file keeps exactly what reached it.
"""

from __future__ import annotations

import os
import tempfile

_BLOCK = 1 << 20


def detach(fd: int) -> None:
    """Replace open descriptor `fd` by a private scratch copy of its file (best effort)."""
    scratch = _scratch()
    try:
        offset = 0
        while True:
            block = _pread(fd, _BLOCK, offset)
            if not block:
                break
            os.write(scratch, block)
            offset += len(block)
        os.dup2(scratch, fd)
    finally:
        os.close(scratch)


def _scratch() -> int:
    if hasattr(os, "memfd_create"):
        return os.memfd_create("kmor-detached-h5")
    with tempfile.TemporaryFile() as f:  # elsewhere: an anonymous file in the temp folder
        return os.dup(f.fileno())


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)
