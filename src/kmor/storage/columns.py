"""Column types of a scan and the fast, allocation-free row writes into them.

Every column is a 1-D dataset whose chunks are allocated (and filled) when the dataset is sized,
not when a row is first written, and whose strings are fixed-length: writing a row then changes
bytes inside space the file already has, and nothing else. No variable-length strings are written
after a scan file is published, because they live in a shared global heap that is rewritten in
place (killed writers were seen to lose the last acknowledged string that way).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np

DEFAULT_STR_BYTES = 32
_STR_SPEC = re.compile(r"^str(\d*)$")


class ColumnSpec:
    """Name, units and storage type of one column. `dtype` is "f8", "i8", "bool", "str" or "strN"."""

    __slots__ = ("name", "units", "dtype", "np_dtype", "str_bytes")

    def __init__(self, name: str, units: str, dtype: str) -> None:
        check_name(name, "column")
        if not isinstance(units, str):
            raise ValueError(f"units of column {name!r} must be a string, got {units!r}")
        self.name, self.units, self.dtype = name, units, dtype
        self.str_bytes = 0
        m = _STR_SPEC.match(dtype) if isinstance(dtype, str) else None
        if m:
            self.str_bytes = int(m.group(1) or DEFAULT_STR_BYTES)
            if not 1 <= self.str_bytes <= 65535:
                raise ValueError(f"column {name!r}: string length must be 1..65535 bytes, got {dtype!r}")
            self.np_dtype = h5py.string_dtype("utf-8", self.str_bytes)
        elif dtype in ("f8", "i8", "bool"):
            self.np_dtype = np.dtype(dtype)
        else:
            raise ValueError(f"dtype of column {name!r} must be 'f8', 'i8', 'bool', 'str' or "
                             f"'strN' (N bytes), got {dtype!r}")

    @property
    def fill(self) -> Any:
        """Value of rows not yet written (NaN for numbers, so a bare h5py reader sees them)."""
        return {"f8": np.nan, "i8": 0, "bool": False}.get(self.dtype, b"")

    def coerce(self, value: Any) -> Any:
        """`value` ready for this column; ValueError naming the column otherwise."""
        ok = True
        if self.str_bytes:
            if isinstance(value, str):
                raw = value.encode("utf-8")
                if len(raw) <= self.str_bytes:
                    return raw
                raise ValueError(f"column {self.name!r} holds at most {self.str_bytes} UTF-8 bytes, "
                                 f"got {value!r}; declare it as 'str{len(raw)}' or longer")
            ok = False
        elif self.dtype == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            ok = False
        elif isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
            ok = False
        if ok:
            try:
                return float(value) if self.dtype == "f8" else operator.index(value)
            except (TypeError, ValueError):
                pass
        raise ValueError(f"column {self.name!r} ({self.dtype}) cannot hold {value!r}")

    def as_json(self) -> list[str]:
        return [self.name, self.units, self.dtype]


def column_specs(columns: Mapping[str, str | tuple[str, str]]) -> list[ColumnSpec]:
    """Specs from the writer's `columns` argument: name -> units, or name -> (units, dtype)."""
    if not columns:
        raise ValueError("a scan needs at least one column")
    specs = []
    for name, spec in columns.items():
        units, dtype = (spec, "f8") if isinstance(spec, str) else tuple(spec)
        specs.append(ColumnSpec(name, units, dtype))
    return specs


def early_dcpl() -> h5py.h5p.PropDCID:
    """Dataset creation properties that allocate chunks when the dataset is sized."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    return dcpl


class RowSink:
    """Writes one row of a 1-D dataset through the low-level API (about 10 us a row)."""

    __slots__ = ("ds", "buf", "mspace", "fspace")

    def __init__(self, ds: h5py.Dataset) -> None:
        self.ds = ds
        self.buf = np.empty(1, dtype=ds.dtype)
        self.mspace = h5py.h5s.create_simple((1,))
        self.fspace = ds.id.get_space()

    def write(self, row: int, value: Any) -> None:
        self.buf[0] = value
        self.fspace.select_hyperslab((row,), (1,))
        self.ds.id.write(self.mspace, self.fspace, self.buf)

    def resize(self, rows: int) -> None:
        self.ds.resize((rows,))
        self.fspace = self.ds.id.get_space()


def fixed_utf8(text: str, max_bytes: int) -> bytes:
    """`text` as UTF-8 of at most `max_bytes` bytes, cut at a character boundary with '...'."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return raw
    return raw[: max_bytes - 3].decode("utf-8", errors="ignore").encode("utf-8") + b"..."


def check_name(name: Any, what: str) -> None:
    """ValueError unless `name` can be an HDF5 link name."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ValueError(f"{what} name must be a non-empty string without '/', got {name!r}")
