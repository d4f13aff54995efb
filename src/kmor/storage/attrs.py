"""Converting Python values to HDF5 attributes and back, and mirroring nested dicts as groups.

The JSON text in /meta is the authoritative copy of parameters and snapshot; the mirror makes the
same settings browsable as plain attributes (HDFView, `f["snapshot/lockin_1"].attrs`). Values that
do not fit an attribute (nested lists, very long text) are left to the JSON copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np

from kmor.storage.jsontext import dumps

# Attributes live in the object header (64 KiB in the default file format); keep well below.
MAX_MIRRORED_BYTES = 8192


def to_attr(value: Any, fixed_strings: bool = False) -> Any:
    """An h5py-storable version of `value`: numbers, strings and numeric arrays as themselves,
    None as "", anything else (dicts, mixed lists) as JSON text. With `fixed_strings`, text is
    stored as fixed-length UTF-8 (no shared heap; used for attributes written after publishing)."""
    if value is None:
        value = ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.ndim >= 1:
            return arr
        if arr.dtype.kind == "U" and arr.ndim == 1 and arr.size and not fixed_strings:
            return np.array(arr.tolist(), dtype=h5py.string_dtype())
    text = value if isinstance(value, str) else dumps(value)
    return _fixed(text) if fixed_strings else text


def _fixed(text: str) -> np.ndarray:
    raw = text.encode("utf-8")
    return np.array(raw, dtype=h5py.string_dtype("utf-8", max(len(raw), 1)))


def from_attr(value: Any) -> Any:
    """A plain Python value for an attribute read by h5py (bytes -> str, numpy scalar -> number)."""
    if isinstance(value, bytes):  # also numpy.bytes_ (fixed-length strings)
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.dtype.kind in "OS":
        return [from_attr(v) for v in value.tolist()]
    return value


def set_attrs(obj: h5py.HLObject, attrs: Mapping[str, Any], fixed_strings: bool = False) -> None:
    """Set every item of `attrs` on `obj` through `to_attr`."""
    for key, value in attrs.items():
        obj.attrs[str(key)] = to_attr(value, fixed_strings)


def mirror(group: h5py.Group, tree: Mapping[str, Any]) -> None:
    """Write nested dict `tree` below `group`: dicts become subgroups, small leaves attributes."""
    for key, value in tree.items():
        name = _safe_name(key)
        if isinstance(value, Mapping):
            mirror(group.require_group(name), value)
            continue
        attr = to_attr(value)
        size = attr.nbytes if isinstance(attr, np.ndarray) else len(str(attr))
        if size <= MAX_MIRRORED_BYTES:
            group.attrs[name] = attr


def _safe_name(key: Any) -> str:
    """An HDF5 link/attribute name for dict key `key` ('/' is a path separator there)."""
    name = str(key).replace("/", "_")
    return name if name not in ("", ".") else "_"
