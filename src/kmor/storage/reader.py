"""Read a kmor scan file back, including files whose writer was killed.

Only the first `n_points` rows of each column are returned (the writer raises that count after the
rows are on disk), so a killed run never yields ragged or half-written columns. A file whose status
on disk is still "running" is reported as "interrupted" unless a writer still holds it: a
ScanWriter of this process, or another process (its HDF5 file lock is then taken; the file is read
without locking, which may fail if the writer is mid-flush: try again).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from kmor.storage import layout as L
from kmor.storage.attrs import from_attr
from kmor.storage.errors import StorageError, hdf5_reason
from kmor.storage.writer import is_open_for_writing


class Column(np.ndarray):
    """A numpy array that knows its `units` (and, for stored arrays, its other `attrs`).

    Slices keep the units; results of arithmetic are plain arrays, since their units differ.
    """

    units: str
    attrs: dict[str, Any]

    def __new__(cls, data: Any, units: str = "", attrs: dict[str, Any] | None = None) -> Column:
        obj = np.asarray(data).view(cls)
        obj.units = units
        obj.attrs = dict(attrs or {})
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.units = getattr(obj, "units", "")
        self.attrs = getattr(obj, "attrs", {})

    def __array_wrap__(self, arr: np.ndarray, context: Any = None, return_scalar: bool = False) -> Any:
        plain = np.asarray(arr).view(np.ndarray)
        return plain[()] if return_scalar else plain

    def __reduce__(self) -> Any:
        return (Column, (np.asarray(self).view(np.ndarray), self.units, self.attrs))


@dataclass(frozen=True)
class Suspension:
    """An interval (seconds, on the run's clock) during which the scan waited, and why."""

    start_s: float
    end_s: float
    reason: str


@dataclass
class Scan:
    """Everything recorded for one scan. `status` is running/complete/aborted/failed/interrupted."""

    path: Path
    kind: str
    status: str
    message: str
    n_points: int
    columns: dict[str, Column]
    parameters: dict[str, Any]
    snapshot: dict[str, Any]
    config_text: str
    kmor_version: str
    start_time_iso: str
    start_time_unix_s: float
    end_time_iso: str | None
    end_time_unix_s: float | None
    suspensions: list[Suspension] = field(default_factory=list)
    arrays: dict[str, Column] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    format_version: int = L.FORMAT_VERSION
    warnings: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Columns listed in the file that could not be read (a damaged file), with the reason; they
    are left out of `columns`, so a tool that needs one can name it."""

    @property
    def units(self) -> dict[str, str]:
        """Column name -> units."""
        return {name: col.units for name, col in self.columns.items()}


def read_scan(path: str | Path, *, locking: bool = True) -> Scan:
    """Read the scan at `path`; StorageError (naming the file) if it cannot be read as one.

    `locking=False` opens the file without taking HDF5's file lock, so the reader can never make a
    writer's open fail (`kmor watch` reads this way, and only files it knows are closed); a
    "running" status on disk is then reported as is, since a live writer cannot be detected."""
    path = Path(path)
    writer_elsewhere = not locking
    try:
        try:
            f = h5py.File(path, "r", locking=False) if not locking else h5py.File(path, "r")
        except BlockingIOError:  # another process holds the write lock: a live writer
            writer_elsewhere = True
            f = h5py.File(path, "r", locking=False)
    except FileNotFoundError as e:
        raise StorageError(path, "no such scan file") from e
    except OSError as e:
        raise StorageError(path, f"not readable as HDF5: {hdf5_reason(e)}") from e
    try:
        with f:
            return _read(path, f, live=writer_elsewhere or is_open_for_writing(path))
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        hint = " (another process is writing it; try again)" if writer_elsewhere else ""
        raise StorageError(path, f"not a readable kmor scan{hint}: {hdf5_reason(e)}") from e


def _read(path: Path, f: h5py.File, live: bool) -> Scan:
    a = f.attrs
    if from_attr(a.get(L.A_FORMAT)) != L.FORMAT_NAME:
        raise StorageError(path, f"not a kmor scan file (no {L.A_FORMAT}={L.FORMAT_NAME!r} attribute)")
    version = int(a[L.A_FORMAT_VERSION])
    if version > L.FORMAT_VERSION:
        raise StorageError(path, f"written in kmor scan format {version}; this kmor reads up to "
                                 f"{L.FORMAT_VERSION}: update kmor")
    n = int(a[L.A_N_POINTS])
    status = from_attr(a[L.A_STATUS])
    if status == L.RUNNING and not live:
        status = L.INTERRUPTED
    end_unix = float(a[L.A_END_UNIX])
    warnings: list[str] = []
    unreadable: dict[str, str] = {}
    return Scan(
        path=path, kind=from_attr(a[L.A_KIND]), status=status, message=from_attr(a[L.A_MESSAGE]),
        n_points=n, columns=_columns(f, n, unreadable), parameters=_json(f, L.D_PARAMETERS_JSON),
        snapshot=_json(f, L.D_SNAPSHOT_JSON), config_text=f[L.D_CONFIG_TEXT].asstr()[()],
        kmor_version=from_attr(a[L.A_KMOR_VERSION]), start_time_iso=from_attr(a[L.A_START_ISO]),
        start_time_unix_s=float(a[L.A_START_UNIX]), end_time_iso=from_attr(a[L.A_END_ISO]) or None,
        end_time_unix_s=None if math.isnan(end_unix) else end_unix,
        suspensions=_suspensions(f, int(a[L.A_N_SUSPENSIONS]), warnings), arrays=_arrays(f, warnings),
        attrs={k: from_attr(v) for k, v in a.items() if k not in L.RESERVED_ATTRS},
        format_version=version, warnings=warnings, unreadable=unreadable,
    )


def _columns(f: h5py.File, n: int, unreadable: dict[str, str]) -> dict[str, Column]:
    """The first n rows of every column; a damaged column (fewer rows than n, unreadable) is
    left out and named in `unreadable` with the reason."""
    columns = {}
    for name, units, dtype in json.loads(from_attr(f.attrs[L.A_COLUMNS])):
        try:
            ds = f[L.G_COLUMNS][name]
            if ds.shape[0] < n:
                raise ValueError(f"{ds.shape[0]} rows, fewer than n_points = {n}: the file is damaged")
            data = np.array(ds.asstr()[:n], dtype=str) if dtype.startswith("str") else ds[:n]
        except (KeyError, OSError, RuntimeError, ValueError) as e:
            unreadable[name] = hdf5_reason(e)
            continue
        columns[name] = Column(data, units)
    return columns


def _arrays(f: h5py.File, warnings: list[str]) -> dict[str, Column]:
    """Stored arrays that were completely written (their `units` attribute is written last).

    An array the writer was stopped in the middle of is skipped with a note in `warnings`; a kill
    while an array was being added can also leave the whole group unreadable (docs/decisions/0057).
    """
    arrays: dict[str, Column] = {}
    try:
        names = list(f[L.G_ARRAYS])
    except (KeyError, OSError, RuntimeError, ValueError) as e:
        warnings.append(f"the arrays group is unreadable ({hdf5_reason(e)}); no arrays returned")
        return arrays
    for name in names:
        try:
            ds = f[L.G_ARRAYS][name]
            if L.A_UNITS not in ds.attrs:
                warnings.append(f"array {name!r} was not completely written; skipped")
                continue
            data = np.array(ds.asstr()[()], dtype=str) if h5py.check_string_dtype(ds.dtype) else ds[()]
            attrs = {k: from_attr(v) for k, v in ds.attrs.items() if k != L.A_UNITS}
            arrays[name] = Column(data, from_attr(ds.attrs[L.A_UNITS]), attrs)
        except (KeyError, OSError, RuntimeError, ValueError) as e:
            warnings.append(f"array {name!r} is unreadable ({hdf5_reason(e)}); skipped")
    return arrays


def _suspensions(f: h5py.File, n: int, warnings: list[str]) -> list[Suspension]:
    try:
        rows = f[L.D_SUSPENSIONS][:n]
    except (KeyError, OSError, RuntimeError, ValueError) as e:  # killed while growing the table
        warnings.append(f"the suspension table is unreadable ({hdf5_reason(e)}); none returned")
        return []
    return [Suspension(float(r["start_s"]), float(r["end_s"]), from_attr(r["reason"])) for r in rows]


def _json(f: h5py.File, name: str) -> Any:
    return json.loads(f[name].asstr()[()])


def read_scans(paths: list[Path]) -> tuple[list[Scan], list[tuple[Path, str]]]:
    """Read every scan of `paths`; a file that cannot be read (damaged, truncated, not a scan) is
    listed as (path, reason) instead of stopping the others (recovery: docs/reliability.md)."""
    scans: list[Scan] = []
    damaged: list[tuple[Path, str]] = []
    for path in paths:
        try:
            scans.append(read_scan(path))
        except StorageError as e:
            damaged.append((Path(path), str(e)))
    return scans, damaged
