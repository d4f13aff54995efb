"""Write one scan to one HDF5 file, durably, point by point.

Per point the writer puts the row into every column, flushes, then raises the root attribute
`n_points` and flushes again; a reader trusts only `n_points` rows. Column space is allocated
ahead (`expected_points`, then `chunk_rows` at a time) and strings are fixed-length, so a point
only overwrites bytes the file already has: a writer killed at any moment leaves a file that plain
h5py opens, with every acknowledged point (and at most one more complete one). Growth steps,
`write_array` and `add_suspension` do allocate; they check the free disk space first.

The file is built under a hidden temporary name and published with a no-overwrite link: a data
file that exists is always an openable kmor scan, and an existing file is never replaced.

Before HDF5 may extend the file (growth, arrays, suspensions, closing) the writer proves that the
file can grow enough (`room.py`: a file-size limit, a quota or a full disk answer there, while
HDF5 has nothing unwritten), so HDF5 itself practically never meets a failed write; if it does,
the file is detached (detach.py). Layout: docs/data-format.md. Reasons: docs/decisions/0050-0056,
0150.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from kmor.storage import layout as L
from kmor.storage.attrs import mirror, set_attrs
from kmor.storage.columns import RowSink, check_name, column_specs, early_dcpl, fixed_utf8
from kmor.storage.detach import detach
from kmor.storage.errors import StorageError, hdf5_reason
from kmor.storage.jsontext import dumps, is_finite_number
from kmor.storage.room import NoRoom, prove_room

_OPEN_PATHS: set[str] = set()  # files open for writing by a ScanWriter of this process
_IMAGE_NUMBERS = itertools.count()  # unique names for the in-memory files new scans are built in

SUSPENSION_DTYPE = np.dtype([("start_s", "f8"), ("end_s", "f8"),
                             ("reason", h5py.string_dtype("utf-8", L.REASON_BYTES))])
_SUSPENSION_ROWS = 64
_HDF5_OVERHEAD_BYTES = 64 * 1024
"""Room proved beyond the payload of an allocating write: object headers, chunk-index nodes and the
metadata blocks HDF5 adds (a few KiB measured; generous, since being wrong means a failed write)."""
# h5py reports HDF5 write failures as OSError, RuntimeError or ValueError (e.g. "unable to create
# dataset"); inputs are validated before any write, so these all mean the file could not be written.
_HDF5_ERRORS = (OSError, RuntimeError, ValueError)


def is_open_for_writing(path: str | Path) -> bool:
    """True if a ScanWriter of this process has `path` open (its status on disk is "running")."""
    return os.path.realpath(path) in _OPEN_PATHS


class ScanWriter:
    """Context manager that records one scan: columns point by point, arrays, suspensions, status.

    `columns` maps each column name to its units, or to `(units, dtype)` with dtype "f8" (the
    default, for every number), "i8", "bool", "str" (up to 32 UTF-8 bytes) or "strN" (N bytes).
    `parameters` and `snapshot` are nested dicts stored as JSON text and mirrored as attributes;
    `extra_attrs` become root attributes. `expected_points` sizes the columns up front (a scan that
    fits never allocates file space per point); beyond it they grow by `chunk_rows` rows.
    Allocations stop with StorageError when the disk has less than `min_free_bytes` free.
    With `fsync=True` each point also survives a power cut (two disk syncs per point); without it,
    each point survives the process being killed or crashing (the data are in the OS's cache).
    Leaving the `with` block closes the scan as "complete", "aborted" (Ctrl-C) or "failed".
    """

    def __init__(self, path: str | Path, *, kind: str, columns: Mapping[str, str | tuple[str, str]],
                 parameters: Mapping[str, Any], snapshot: Mapping[str, Any], config_text: str,
                 kmor_version: str, extra_attrs: Mapping[str, Any] | None = None,
                 expected_points: int = 0, chunk_rows: int = 512,
                 min_free_bytes: int = 64 * 2**20, fsync: bool = False) -> None:
        self.path = Path(path)
        self._specs = column_specs(columns)
        if not (isinstance(kind, str) and kind):
            raise ValueError(f"kind must be a non-empty string, got {kind!r}")
        if int(chunk_rows) < 1 or int(expected_points) < 0:
            raise ValueError(f"need chunk_rows >= 1 and expected_points >= 0, "
                             f"got {chunk_rows}, {expected_points}")
        extra = dict(extra_attrs or {})
        clash = sorted(L.RESERVED_ATTRS.intersection(extra))
        if clash:
            raise ValueError(f"extra_attrs may not use the reserved names {clash}")
        self._chunk_rows = int(chunk_rows)
        self._capacity = _round_up(max(int(expected_points), 1), self._chunk_rows)
        self._min_free_bytes = int(min_free_bytes)
        self._fsync = bool(fsync)
        self._n = 0
        self._n_suspensions = 0
        self._suspension_capacity = _SUSPENSION_ROWS
        self._closed = False
        self._failure: StorageError | None = None
        self._create(dict(kind=kind, parameters=parameters, snapshot=snapshot,
                          config_text=str(config_text), kmor_version=str(kmor_version), extra=extra))
        self._open()
        _OPEN_PATHS.add(os.path.realpath(self.path))

    # -- public -------------------------------------------------------------------------------

    @property
    def n_points(self) -> int:
        """Points acknowledged so far (all on disk)."""
        return self._n

    @property
    def columns(self) -> dict[str, str]:
        """Column name -> units, in file order."""
        return {s.name: s.units for s in self._specs}

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, point: Mapping[str, Any]) -> int:
        """Write one point (a value for every column) and return the acknowledged point count.

        When this returns, the point is in the file and survives the process being killed.
        Raises ValueError for a wrong point (nothing is written) and StorageError if the disk fails.
        """
        self._check_writable()
        values = self._coerce(point)
        row = self._n
        if row == self._capacity:
            self._guarded(self._grow, f"could not grow the columns beyond {row} points")
        try:
            for sink, value in zip(self._sinks, values):
                sink.write(row, value)
            self._sync()
            self._attrs[L.A_N_POINTS].write(np.array(row + 1, dtype=np.int64))
            self._sync()
        except _HDF5_ERRORS as e:
            self._fail(e, f"could not write point {row + 1}")
        self._n = row + 1
        return self._n

    def add_suspension(self, start_s: float, end_s: float, reason: str) -> None:
        """Record an interval (seconds, on the run's clock) during which the scan was suspended.

        `reason` is kept up to 256 UTF-8 bytes (longer text is cut, ending in '...').
        """
        self._check_writable()
        if not (is_finite_number(start_s) and is_finite_number(end_s) and end_s >= start_s):
            raise ValueError(f"suspension needs finite start_s <= end_s, got {start_s!r}, {end_s!r}")
        k = self._n_suspensions
        if k == self._suspension_capacity:
            self._guarded(self._grow_suspensions, "could not grow the suspension table")
        row = np.array([(float(start_s), float(end_s), fixed_utf8(str(reason), L.REASON_BYTES))],
                       dtype=SUSPENSION_DTYPE)
        try:
            self._suspensions.write(k, row[0])
            self._sync()
            self._attrs[L.A_N_SUSPENSIONS].write(np.array(k + 1, dtype=np.int64))
            self._sync()
        except _HDF5_ERRORS as e:
            self._fail(e, "could not record a suspension")
        self._n_suspensions = k + 1

    def write_array(self, name: str, data: Any, units: str, attrs: Mapping[str, Any] | None = None) -> None:
        """Store a whole array (e.g. an average of rf repeats, a hardware-timed sweep) with units.

        Its `units` attribute is written last, after the data are on disk; the reader ignores an
        array without it. Names must be new within the scan.
        """
        self._check_writable()
        check_name(name, "array")
        attrs = dict(attrs or {})
        if L.A_UNITS in attrs:
            raise ValueError("give the units as the `units` argument, not in attrs")
        arr = _array_for_hdf5(name, data)
        group = self._file[L.G_ARRAYS]
        if name in group:
            raise ValueError(f"array {name!r} already exists in {self.path}")
        self._prove_room(arr.nbytes, f"could not write array {name!r}")
        try:
            ds = group.create_dataset(name, data=arr, track_times=False)
            set_attrs(ds, attrs, fixed_strings=True)
            self._sync()
            ds.attrs.create(L.A_UNITS, np.bytes_(str(units).encode("utf-8")))
            self._sync()
        except _HDF5_ERRORS as e:
            self._fail(e, f"could not write array {name!r}")

    def close(self, status: str = L.COMPLETE, message: str = "") -> None:
        """Trim the columns, record status ("complete", "aborted" or "failed"), end time, and close.

        `message` is kept up to 1024 UTF-8 bytes. Closing twice does nothing. After a write
        error the writer has already closed the file without writing to it again (its status stays
        "running", which the reader reports as "interrupted"), and this does nothing.
        """
        if status not in L.FINAL_STATUSES:
            raise ValueError(f"status must be one of {L.FINAL_STATUSES}, got {status!r}")
        if self._closed:
            return
        self._closed = True
        _OPEN_PATHS.discard(os.path.realpath(self.path))
        error: StorageError | None = None
        if self._failure is not None and status == L.COMPLETE:
            status, message = L.FAILED, str(self._failure)
        try:
            prove_room(self._file.id.get_vfd_handle(), _HDF5_OVERHEAD_BYTES)
            self._finish(status, message)
        except NoRoom as e:  # no room to close: write nothing more, the status stays "running"
            error = StorageError(self.path, f"could not close the scan as {status!r}: {e}; its status "
                                            f"stays 'running' (read as 'interrupted'); the {self._n} "
                                            f"acknowledged points are on disk")
        except _HDF5_ERRORS as e:
            error = StorageError(self.path, f"could not close the scan as {status!r}: {hdf5_reason(e)}; "
                                            f"the {self._n} acknowledged points are on disk")
            error.__cause__ = e
            _detach_quietly(self._file)
            _forget_frames(e)
        close_error = self._release()
        if error is None and close_error is not None:
            error = StorageError(self.path, f"could not close the file: {hdf5_reason(close_error)}")
        if error is not None and self._failure is None:  # after a failure the caller knows already
            raise error

    def __enter__(self) -> ScanWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close(L.COMPLETE)
        elif issubclass(exc_type, KeyboardInterrupt):
            self._close_quietly(exc, L.ABORTED, "interrupted (KeyboardInterrupt)")
        else:
            self._close_quietly(exc, L.FAILED, f"{exc_type.__name__}: {exc}")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<ScanWriter {self.path} {state}, {self._n} points>"

    # -- creating the file --------------------------------------------------------------------

    def _create(self, header: dict[str, Any]) -> None:
        """Build the empty scan in memory, write it under a hidden temporary name, then publish it
        under its final name without overwriting. HDF5 never writes to disk here, so a failure is a
        plain OSError with nothing half-closed inside HDF5."""
        if os.path.lexists(self.path):
            raise StorageError(self.path, "file exists; kmor never overwrites a data file")
        image = self._header_image(header)
        self._check_space(len(image), "could not create the scan file")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.h5.tmp")
        try:
            tmp.unlink(missing_ok=True)  # only a dead writer with our pid can have left it
            _write_new_file(tmp, image, self._fsync)
            _publish(tmp, self.path)
        except FileExistsError as e:
            _unlink_quietly(tmp)
            raise StorageError(self.path, "file exists; kmor never overwrites a data file") from e
        except OSError as e:
            _unlink_quietly(tmp)
            raise StorageError(self.path, f"could not create the scan file: {e}") from e

    def _header_image(self, header: dict[str, Any]) -> bytes:
        """The bytes of the new, empty scan file (built with HDF5's in-memory driver)."""
        name = f"kmor-scan-{os.getpid()}-{next(_IMAGE_NUMBERS)}.h5"
        with h5py.File(name, "w", driver="core", backing_store=False) as f:
            self._write_header(f, header)
            f.flush()
            image: bytes = f.id.get_file_image()
            return image

    def _write_header(self, f: h5py.File, header: dict[str, Any]) -> None:
        now_s = time.time()
        a = f.attrs
        a[L.A_FORMAT] = L.FORMAT_NAME
        a[L.A_FORMAT_VERSION] = np.int64(L.FORMAT_VERSION)
        a[L.A_KIND] = header["kind"]
        a[L.A_KMOR_VERSION] = header["kmor_version"]
        a[L.A_START_ISO] = _iso_utc(now_s)
        a[L.A_START_UNIX] = now_s
        a[L.A_COLUMNS] = dumps([s.as_json() for s in self._specs])
        # Attributes changed later are fixed-size, so they are overwritten in place.
        a[L.A_N_POINTS] = np.int64(0)
        a[L.A_N_SUSPENSIONS] = np.int64(0)
        a[L.A_END_UNIX] = math.nan
        for name, size, text in ((L.A_STATUS, L.STATUS_BYTES, L.RUNNING), (L.A_MESSAGE, L.MESSAGE_BYTES, ""),
                                 (L.A_END_ISO, L.ISO_BYTES, "")):
            a.create(name, np.bytes_(text.encode()), dtype=h5py.string_dtype("utf-8", size))
        set_attrs(f, header["extra"])
        meta = f.create_group(L.G_META)
        for name, text in (("parameters_json", dumps(header["parameters"])),
                           ("snapshot_json", dumps(header["snapshot"])),
                           ("config_text", header["config_text"])):
            meta.create_dataset(name, data=text, dtype=h5py.string_dtype(), track_times=False)
        mirror(f.create_group(L.G_PARAMETERS), header["parameters"])
        mirror(f.create_group(L.G_SNAPSHOT), header["snapshot"])
        cols = f.create_group(L.G_COLUMNS)
        for spec in self._specs:
            ds = cols.create_dataset(spec.name, shape=(self._capacity,), maxshape=(None,),
                                     chunks=(self._chunk_rows,), dtype=spec.np_dtype,
                                     fillvalue=None if spec.str_bytes else spec.fill,
                                     dcpl=early_dcpl(), track_times=False)
            ds.attrs[L.A_UNITS] = spec.units
        f.create_group(L.G_ARRAYS)
        susp = f.create_dataset(L.D_SUSPENSIONS, shape=(_SUSPENSION_ROWS,), maxshape=(None,),
                                chunks=(_SUSPENSION_ROWS,), dtype=SUSPENSION_DTYPE,
                                dcpl=early_dcpl(), track_times=False)
        susp.attrs[L.A_UNITS] = "s"

    def _open(self) -> None:
        """Reopen the published file for appending and keep handles for the per-point path."""
        try:
            self._file = h5py.File(self.path, "r+")
            self._attrs = {name: h5py.h5a.open(self._file.id, name.encode())
                           for name in L.IN_PLACE_ATTRS}
            cols = self._file[L.G_COLUMNS]
            self._sinks = [RowSink(cols[spec.name]) for spec in self._specs]
            self._suspensions = RowSink(self._file[L.D_SUSPENSIONS])
            self._fd = self._file.id.get_vfd_handle() if self._fsync else None
        except _HDF5_ERRORS as e:
            raise StorageError(self.path, f"could not reopen the new scan file: {e}") from e

    # -- per point ----------------------------------------------------------------------------

    def _coerce(self, point: Mapping[str, Any]) -> list[Any]:
        """The point's values in column order, checked; ValueError names what is wrong."""
        if len(point) != len(self._specs) or any(s.name not in point for s in self._specs):
            names = [s.name for s in self._specs]
            missing = [n for n in names if n not in point]
            unknown = [k for k in point if k not in names]
            raise ValueError(f"point does not match the columns of {self.path.name}: "
                             f"missing {missing}, unknown {unknown}")
        return [s.coerce(point[s.name]) for s in self._specs]

    def _grow(self) -> None:
        self._prove_room(sum(s.np_dtype.itemsize for s in self._specs) * self._chunk_rows,
                         f"could not grow the columns beyond {self._capacity} points")
        self._capacity += self._chunk_rows
        for sink in self._sinks:
            sink.resize(self._capacity)
        self._sync()

    def _grow_suspensions(self) -> None:
        self._prove_room(SUSPENSION_DTYPE.itemsize * _SUSPENSION_ROWS, "could not grow the suspension table")
        self._suspension_capacity += _SUSPENSION_ROWS
        self._suspensions.resize(self._suspension_capacity)
        self._sync()

    def _sync(self) -> None:
        self._file.flush()
        if self._fd is not None:
            os.fsync(self._fd)

    def _finish(self, status: str, message: str) -> None:
        """Trim columns to the acknowledged rows, then write end time and status in place."""
        for sink in self._sinks:
            sink.resize(self._n)
        self._suspensions.resize(self._n_suspensions)
        self._sync()
        end_s = time.time()
        self._attrs[L.A_END_UNIX].write(np.array(end_s, dtype=np.float64))
        for name, size, text in ((L.A_END_ISO, L.ISO_BYTES, _iso_utc(end_s)),
                                 (L.A_MESSAGE, L.MESSAGE_BYTES, str(message)),
                                 (L.A_STATUS, L.STATUS_BYTES, status)):
            self._attrs[name].write(np.array(fixed_utf8(text, size), dtype=h5py.string_dtype("utf-8", size)))
        self._sync()

    # -- space and failures -------------------------------------------------------------------

    def _check_space(self, needed_bytes: int, what: str) -> None:
        """StorageError (file left consistent) unless `needed_bytes` + the reserve are free."""
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            return  # cannot tell (e.g. unusual filesystem): let the write itself decide
        if free < needed_bytes + self._min_free_bytes:
            raise StorageError(self.path, f"{what}: only {free / 2**20:.1f} MiB free on the disk, "
                                          f"kmor keeps {self._min_free_bytes / 2**20:.0f} MiB in reserve; "
                                          f"{self._n} points are on disk")

    def _prove_room(self, payload_bytes: int, what: str) -> None:
        """StorageError, before HDF5 writes anything, unless the file can grow by the payload plus
        HDF5's overhead (and the disk keeps its reserve). A refusal stops the scan's writing; the
        file stays consistent and open, so `close` can still record why."""
        self._check_space(payload_bytes, what)
        try:
            prove_room(self._file.id.get_vfd_handle(), payload_bytes + _HDF5_OVERHEAD_BYTES)
        except NoRoom as e:
            self._failure = StorageError(self.path, f"{what}: {e}; the {self._n} points acknowledged "
                                                    f"before are on disk")
            raise self._failure from e.__cause__

    def _guarded(self, action: Any, what: str) -> None:
        try:
            action()
        except _HDF5_ERRORS as e:
            self._fail(e, what)

    def _check_writable(self) -> None:
        if self._failure is not None:
            raise StorageError(self.path, "scan stopped after an earlier write error: "
                                          + str(self._failure).removeprefix(f"{self.path}: "))
        if self._closed:
            raise StorageError(self.path, "scan is already closed")

    def _fail(self, error: BaseException, what: str) -> None:
        """Stop the scan after a failed write: the file keeps what reached it; raise StorageError."""
        self._failure = StorageError(self.path, f"{what}: {hdf5_reason(error)}; the {self._n} "
                                                f"points acknowledged before are on disk")
        self._closed = True
        _OPEN_PATHS.discard(os.path.realpath(self.path))
        _detach_quietly(self._file)
        _forget_frames(error)
        self._release()
        raise self._failure from error

    def _release(self) -> BaseException | None:
        """Close every HDF5 handle we hold, the file last; the first error, if any."""
        first: BaseException | None = None
        handles = [*self._attrs.values(), *(s.ds.id for s in self._sinks), self._suspensions.ds.id]
        for handle in handles:
            try:
                handle.close()
            except _HDF5_ERRORS as e:
                first = first or e
        self._attrs, self._sinks = {}, []
        try:
            self._file.close()
        except _HDF5_ERRORS as e:
            first = first or e
        return first

    def _close_quietly(self, exc: BaseException, status: str, message: str) -> None:
        """Close while another exception propagates; a close error becomes a note on it."""
        try:
            self.close(status, message)
        except StorageError as e:
            exc.add_note(str(e))


def _array_for_hdf5(name: str, data: Any) -> np.ndarray:
    """Numbers as they are; strings as fixed-length UTF-8 (no shared heap, see columns.py)."""
    arr = np.asarray(data)
    if arr.dtype.kind in "biufc":
        return arr
    if arr.dtype.kind in "UO" and all(isinstance(v, str) for v in arr.flat):
        raw = np.vectorize(lambda s: s.encode("utf-8"), otypes=[object])(arr) if arr.size else arr
        width = max((len(b) for b in raw.flat), default=1) or 1
        return np.array(raw.tolist(), dtype=h5py.string_dtype("utf-8", width)).reshape(arr.shape)
    raise ValueError(f"array {name!r} must hold numbers or strings, got dtype {arr.dtype}")


def _write_new_file(path: Path, data: bytes, fsync: bool) -> None:
    """Create `path` (which must not exist) holding `data`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, path: Path) -> None:
    """Give the finished temporary file its final name, failing if that name exists."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (e.g. FAT): check, then rename (Windows refuses to replace)
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.rename(tmp, path)
        return
    os.unlink(tmp)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def _iso_utc(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="microseconds")


def _forget_frames(error: BaseException) -> None:
    """Drop the traceback of a failed HDF5 write, so handles held by its frames are released
    now (while HDF5 writes to the scratch copy), not later when closing them could fail."""
    error.__traceback__ = None
    error.__context__ = None


def _detach_quietly(f: h5py.File) -> None:
    """Make HDF5 write to a scratch copy from now on (see detach.py); best effort."""
    try:
        detach(f.id.get_vfd_handle())
    except (OSError, ValueError, RuntimeError):
        pass  # closing may then report errors of its own

