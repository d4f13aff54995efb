"""Prove that a file can grow before HDF5 grows it.

HDF5 copes badly with a write that fails: after a failed flush it retries its writes when objects
are closed, and a file-size limit (RLIMIT_FSIZE), a quota or a full disk then leaves a truncated
file and a library that crashes at exit (docs/decisions/0150). So before any write that may extend
a scan file, the writer asks the operating system for the room itself: `posix_fallocate` from the
current end of the file (the same checks as a write: size limit, quota, free blocks), then gives
the room back. If that fails, HDF5 has not been asked to write anything and the file is intact.
"""

from __future__ import annotations

import errno
import os


class NoRoom(Exception):
    """The file cannot grow by the bytes asked for; the message says why (e.g. 'File too large')."""


def prove_room(fd: int, extra_bytes: int) -> None:
    """Raise NoRoom unless the open file `fd` can grow by `extra_bytes`; its size is unchanged."""
    size = os.fstat(fd).st_size
    try:
        _extend(fd, size, max(int(extra_bytes), 1))
    except OSError as e:
        reason = e.strerror or errno.errorcode.get(e.errno or 0, str(e))
        error = NoRoom(f"the file cannot grow by {extra_bytes} bytes beyond its {size} bytes: "
                       f"{reason} (errno {e.errno})")
        error.__cause__ = e
        raise error from e
    finally:
        try:
            if os.fstat(fd).st_size > size:
                os.ftruncate(fd, size)  # shrinking is always allowed
        except OSError:
            pass  # a larger file than HDF5's end of file is harmless


def _extend(fd: int, offset: int, length: int) -> None:
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, offset, length)
            return
        except OSError as e:
            if e.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise
    # no fallocate here: writing the last byte checks the size limit (not free blocks)
    os.pwrite(fd, b"\0", offset + length - 1)
