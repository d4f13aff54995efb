"""Load kmor scan files for analysis through storage's reader (layout: docs/data-format.md).

Only the first `n_points` rows of each column are trusted, a file still marked "running" whose
writer is gone reads "interrupted" and is analysed for what it holds, and columns are found by
name with a few aliases and converted to the units the analysis works in. Two kinds of trouble are kept apart:

- `AnalysisInputError` (a ValueError naming the file): the input is not something to analyse at all
  (no such path, not HDF5, not a kmor scan, a newer format). `analyze` stops with it.
- `ScanProblem`: a kmor scan that cannot be analysed (a needed column is missing, too few good
  points). `analyze` lists the scan as failed with this reason and goes on.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from kmor.storage import StorageError, read_scan

_SCAN_NAME = re.compile(r"^(\d+)-.*\.h5$")

# Factors to the unit the analysis works in (target unit -> {unit on disk: factor}).
_UNIT_FACTORS: dict[str, dict[str, float]] = {
    "uG": {"uG": 1.0, "µG": 1.0, "mG": 1e3, "G": 1e6, "nT": 10.0, "uT": 1e4, "µT": 1e4, "T": 1e10},
    "uW": {"uW": 1.0, "µW": 1.0, "nW": 1e-3, "mW": 1e3, "W": 1e6},
    "Hz": {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9},
    "V": {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6, "nV": 1e-9},
}

FLAG_COLUMNS = ("flag", "flags", "flagged", "bad", "bad_point")
"""Columns whose nonzero/True rows mark points the sequence itself declared bad."""


class AnalysisInputError(ValueError):
    """An input that cannot be analysed at all (names the file); the CLI prints it without a
    traceback."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {message}")


class DamagedScanError(AnalysisInputError):
    """A scan file HDF5 cannot open (e.g. truncated by a failed write): reported and skipped by
    `analyze`, never the end of the analysis of the other scans (docs/reliability.md: recovery)."""


class ScanProblem(Exception):
    """A readable kmor scan that this analysis cannot use; the message is the reason shown in the
    report's list of failed scans."""


@dataclass
class ScanData:
    """One scan file as the analysis sees it: valid rows only, numbers as float arrays where the
    column is numeric, strings as str arrays. `status` is the status on disk, except that a file
    still marked "running" whose writer is gone (no HDF5 lock held) reads "interrupted"."""

    path: Path
    kind: str
    status: str
    message: str
    n_points: int
    columns: dict[str, NDArray[Any]]
    units: dict[str, str]
    parameters: dict[str, Any]
    snapshot: dict[str, Any]
    start_time_iso: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Columns listed in the file that could not be read (damaged), with the reason."""
    suspensions: list[tuple[float, float, str]] = field(default_factory=list)
    """Intervals (start_s, end_s, reason) during which the scan was suspended."""
    config_text: str = ""
    """The whole lab config (TOML text) the scan was taken with."""

    def has(self, *names: str) -> str | None:
        """The first of `names` that is a column of this scan, or None."""
        return next((n for n in names if n in self.columns), None)

    def column(self, names: Sequence[str], units: str | None = None, what: str = "") -> NDArray[np.float64]:
        """A numeric column (first of the alias `names` present), as float, in `units`.

        Raises ScanProblem naming what is missing or which units could not be converted.
        """
        name = self.has(*names)
        if name is None:
            label = f" ({what})" if what else ""
            damaged = next((n for n in names if n in self.unreadable), None)
            if damaged is not None:
                raise ScanProblem(f"column {damaged!r}{label} is unreadable: {self.unreadable[damaged]}")
            raise ScanProblem(f"missing column {names[0]!r}{label}; the file has "
                              f"{', '.join(sorted(self.columns)) or 'no columns'}")
        data = self.columns[name]
        if data.dtype.kind not in "biuf":
            raise ScanProblem(f"column {name!r} is not numeric (dtype {data.dtype})")
        values = data.astype(float)
        return values if units is None else values * unit_factor(self.units.get(name, ""), units, name)

    def param(self, *names: str, default: Any = None) -> Any:
        """The first of `names` found in the scan parameters (JSON), else `default`."""
        for name in names:
            if name in self.parameters and self.parameters[name] is not None:
                return self.parameters[name]
        return default


def unit_factor(units: str, target: str, name: str = "") -> float:
    """Factor that converts values in `units` to `target` (an empty unit string is taken as the
    target unit: old files and hand-made ones may not say). ScanProblem if not convertible."""
    units = units.strip()
    if units in ("", target):
        return 1.0
    factor = _UNIT_FACTORS.get(target, {}).get(units)
    if factor is None:
        raise ScanProblem(f"column {name!r} is in {units!r}, which cannot be converted to {target}")
    return factor


def find_scan_files(paths: Iterable[str | Path]) -> list[Path]:
    """Scan files named by `paths`: files as given, folders searched (recursively) for `*.h5`.

    Hidden files (a scan being created) are skipped; within a folder the scans come in acquisition
    order (their number), folders in name order (run folders start with their UTC time). A path
    that does not exist, or a folder without scans, raises AnalysisInputError. Duplicates are
    listed once.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise AnalysisInputError(path, "no such file or folder")
        if path.is_dir():
            files = [p for p in path.rglob("*.h5")
                     if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)]
            if not files:
                raise AnalysisInputError(path, "folder holds no scan files (*.h5)")
            found += sorted(files, key=_acquisition_key)
        else:
            found.append(path)
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def _acquisition_key(path: Path) -> tuple[str, int, int, str]:
    m = _SCAN_NAME.match(path.name)
    return (str(path.parent), 0 if m else 1, int(m.group(1)) if m else 0, path.name)


def load_scan(path: str | Path) -> ScanData:
    """Read one kmor scan file (valid rows only) with storage's reader. AnalysisInputError if it
    is not one we can read: no such file, not HDF5, not a kmor scan, a newer format, or its header
    is unreadable. A damaged column is listed in `unreadable` (the scan then fails if it needs it)."""
    try:
        scan = read_scan(path)
    except StorageError as e:
        reason = str(e).removeprefix(f"{e.path}: ")
        if isinstance(e.__cause__, OSError) and not isinstance(e.__cause__, FileNotFoundError):
            raise DamagedScanError(path, reason) from e   # HDF5 cannot open it: skipped, reported
        raise AnalysisInputError(path, reason) from e
    return ScanData(path=Path(path), kind=scan.kind, status=scan.status, message=scan.message,
                    n_points=scan.n_points,
                    columns={name: np.asarray(col).view(np.ndarray) for name, col in scan.columns.items()},
                    units=scan.units, parameters=_mapping(scan.parameters),
                    snapshot=_mapping(scan.snapshot), start_time_iso=scan.start_time_iso,
                    attrs=dict(scan.attrs), unreadable=dict(scan.unreadable),
                    suspensions=[(s.start_s, s.end_s, s.reason) for s in scan.suspensions],
                    config_text=scan.config_text)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def good_point_mask(scan: ScanData, required: Sequence[NDArray[np.float64]]
                    ) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Points to fit: finite in every `required` array, not flagged by a flag column, and taken
    with the laser locked (a `locked` column counts only where the servo ran, i.e. where
    `lock_error_V` is finite, or, without that column, when some points are locked).

    Returns the mask and the number of points excluded for each reason.
    """
    n = scan.n_points
    keep = np.ones(n, dtype=bool)
    excluded: dict[str, int] = {}

    def drop(reason: str, bad: NDArray[np.bool_]) -> None:
        newly = bad & keep
        if newly.any():
            excluded[reason] = excluded.get(reason, 0) + int(newly.sum())
            keep[newly] = False

    finite = np.ones(n, dtype=bool)
    for arr in required:
        finite &= np.isfinite(arr)
    drop("not finite", ~finite)
    flag = scan.has(*FLAG_COLUMNS)
    if flag is not None:
        values = scan.columns[flag]
        if values.dtype.kind in "biuf":
            drop("flagged", np.asarray(values != 0) & ~np.isnan(values.astype(float)))
    if "locked" in scan.columns and scan.columns["locked"].dtype.kind in "biu":
        locked = scan.columns["locked"].astype(bool)
        if "lock_error_V" in scan.columns:
            servo_ran = np.isfinite(scan.columns["lock_error_V"].astype(float))
        else:
            servo_ran = np.full(n, bool(locked.any()))
        drop("laser unlocked", servo_ran & ~locked)
    if scan.suspensions and "time_s" in scan.columns and scan.columns["time_s"].dtype.kind == "f":
        t = scan.columns["time_s"]
        inside = np.zeros(n, dtype=bool)
        for start_s, end_s, _ in scan.suspensions:
            inside |= (t >= start_s) & (t <= end_s)
        drop("during a suspension", inside)
    return keep, excluded


def nominal_light_uW(scan: ScanData, measured_uW: float) -> float:
    """The light power the scan was asked for (uW): the `light_power_uW` parameter when set (> 0),
    else the power read at its start (`light_power_start_uW`), else the measured mean. Used to
    group scans and to apply power cuts, so that a 10 uW scan that read 10.02 uW stays "10 uW"."""
    for name in ("light_power_uW", "light_power_start_uW"):
        value = scan.param(name)
        if isinstance(value, (int, float)) and np.isfinite(value) and value > 0:
            return float(value)
    return float(measured_uW)


def cluster_labels(values: Sequence[float], rel_tol: float = 0.03, abs_tol: float = 0.05) -> list[int]:
    """Group nearly equal values: sorted values closer than max(rel_tol x value, abs_tol) to the
    previous one share a label. Labels count up from 0 in increasing value."""
    order = np.argsort(np.asarray(values, dtype=float), kind="stable")
    labels = [0] * len(order)
    label, previous = -1, None
    for i in order:
        v = float(values[i])
        if previous is None or v - previous > max(rel_tol * abs(previous), abs_tol):
            label += 1
        labels[i] = label
        previous = v
    return labels


def polarimeter_V_per_rad(scan: ScanData) -> float | None:
    """The polarimeter calibration (V of lock-in X per rad of rotation) from the lab config the
    scan stored (`[polarimeter] calibration_V_per_rad`), or None if the config does not give a
    positive number (the rotation is then shown in V)."""
    try:
        config = tomllib.loads(scan.config_text) if scan.config_text else {}
    except tomllib.TOMLDecodeError:
        return None
    table = config.get("polarimeter")
    value = table.get("calibration_V_per_rad") if isinstance(table, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def laser_line(scan: ScanData) -> str:
    """"D1", "D2" or "unknown": from a `line` parameter, else from the laser wavelength in the
    snapshot (D1 770.108 nm, D2 766.701 nm; nearest within 1 nm)."""
    line = scan.param("line", "laser_line")
    if isinstance(line, str) and line.strip().upper() in ("D1", "D2"):
        return line.strip().upper()
    laser = scan.snapshot.get("laser") if isinstance(scan.snapshot, dict) else None
    wavelength = laser.get("wavelength_nm") if isinstance(laser, dict) else None
    if isinstance(wavelength, (int, float)):
        for name, nm in (("D1", 770.108), ("D2", 766.701)):
            if abs(wavelength - nm) < 1.0:
                return name
    return "unknown"
