"""Where the engine puts each scan: HDF5 files in a run folder, or memory (tests, benchmarks).

The engine calls the recorder in the acquisition thread, before it publishes the point event, so a
point is acknowledged only once it is on disk (ScanWriter.append returns after its flushes).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kmor.storage import ScanWriter, next_scan_path


class ScanRecord(Protocol):
    """One open scan: append points, record suspensions and arrays, close with a status."""

    path: str

    def append(self, row: Mapping[str, Any]) -> int: ...

    def add_suspension(self, start_s: float, end_s: float, reason: str) -> None: ...

    def write_array(self, name: str, data: Any, units: str,
                    attrs: Mapping[str, Any] | None = None) -> None: ...

    def close(self, status: str = "complete", message: str = "") -> None: ...


class Recorder(Protocol):
    """Opens a ScanRecord per scan."""

    def open_scan(self, *, kind: str, columns: Mapping[str, Any], parameters: Mapping[str, Any],
                  snapshot: Mapping[str, Any], expected_points: int,
                  extra_attrs: Mapping[str, Any] | None = None) -> ScanRecord: ...


class _H5Scan:
    def __init__(self, writer: ScanWriter) -> None:
        self._w = writer
        self.path = str(writer.path)

    def append(self, row: Mapping[str, Any]) -> int:
        return self._w.append(row)

    def add_suspension(self, start_s: float, end_s: float, reason: str) -> None:
        self._w.add_suspension(start_s, end_s, reason)

    def write_array(self, name: str, data: Any, units: str,
                    attrs: Mapping[str, Any] | None = None) -> None:
        self._w.write_array(name, data, units, attrs)

    def close(self, status: str = "complete", message: str = "") -> None:
        self._w.close(status, message)


class HDF5Recorder:
    """Scans as numbered HDF5 files `run_dir/00001-<kind>.h5` (kmor.storage.ScanWriter)."""

    def __init__(self, run_dir: str | Path, *, config_text: str, kmor_version: str,
                 fsync: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.config_text = config_text
        self.kmor_version = kmor_version
        self.fsync = fsync

    def open_scan(self, *, kind: str, columns: Mapping[str, Any], parameters: Mapping[str, Any],
                  snapshot: Mapping[str, Any], expected_points: int,
                  extra_attrs: Mapping[str, Any] | None = None) -> ScanRecord:
        writer = ScanWriter(next_scan_path(self.run_dir, kind), kind=kind, columns=columns,
                            parameters=parameters, snapshot=snapshot,
                            config_text=self.config_text, kmor_version=self.kmor_version,
                            extra_attrs=extra_attrs, expected_points=expected_points,
                            fsync=self.fsync)
        return _H5Scan(writer)


class MemoryScan:
    """A scan kept in memory (rows as dicts), for tests and quick looks."""

    def __init__(self, kind: str, columns: Mapping[str, Any], parameters: Mapping[str, Any],
                 keep_rows: bool = True) -> None:
        self.kind = kind
        self.path = f"memory:{kind}"
        self.columns = dict(columns)
        self.parameters = dict(parameters)
        self.rows: list[dict[str, Any]] = []
        self.n_points = 0
        self.suspensions: list[tuple[float, float, str]] = []
        self.arrays: dict[str, Any] = {}
        self.status = "running"
        self.message = ""
        self._keep_rows = keep_rows

    def append(self, row: Mapping[str, Any]) -> int:
        missing = [c for c in self.columns if c not in row]
        unknown = [c for c in row if c not in self.columns]
        if missing or unknown:
            raise ValueError(f"point does not match the columns: missing {missing}, unknown {unknown}")
        if self._keep_rows:
            self.rows.append(dict(row))
        self.n_points += 1
        return self.n_points

    def add_suspension(self, start_s: float, end_s: float, reason: str) -> None:
        self.suspensions.append((start_s, end_s, reason))

    def write_array(self, name: str, data: Any, units: str,
                    attrs: Mapping[str, Any] | None = None) -> None:
        self.arrays[name] = (data, units, dict(attrs or {}))

    def close(self, status: str = "complete", message: str = "") -> None:
        self.status, self.message = status, message


class MemoryRecorder:
    """Keeps every scan in `scans` (set keep_rows=False to count points only)."""

    def __init__(self, keep_rows: bool = True) -> None:
        self.scans: list[MemoryScan] = []
        self.keep_rows = keep_rows

    def open_scan(self, *, kind: str, columns: Mapping[str, Any], parameters: Mapping[str, Any],
                  snapshot: Mapping[str, Any], expected_points: int,
                  extra_attrs: Mapping[str, Any] | None = None) -> ScanRecord:
        scan = MemoryScan(kind, columns, parameters, self.keep_rows)
        if self.keep_rows:
            self.scans.append(scan)
        return scan
