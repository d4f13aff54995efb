"""JSON text for nested settings (instrument snapshots, sequence parameters, engine state).

Instrument drivers hand back numpy scalars, tuples, paths, enums and dataclasses; a snapshot must
never be the reason an overnight run fails to start, so anything JSON does not know is turned
into the nearest plain value, and as a last resort into its `str()`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import numbers
from pathlib import PurePath
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """The nearest JSON-encodable value (used as `json.dumps(default=...)`)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=repr)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """JSON text of `obj`; NaN and infinities are written as Python's json module reads them."""
    return json.dumps(obj, default=to_jsonable, indent=indent, ensure_ascii=False)


def is_finite_number(value: Any) -> bool:
    """True for finite real numbers (Python or numpy), not booleans."""
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value))
