"""Declarative configuration schema: a config section is a frozen dataclass whose fields carry
their units, allowed range and meaning.

One `param(...)` line per setting keeps the allowed values next to the default, so the loader,
`kmor sim describe` and the docs all read the same source. Example::

    @dataclass(frozen=True)
    class CellParams:
        temperature_C: float = param(47.0, units="C", min=-50, max=300, doc="coated-cell temperature")
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MISSING = dataclasses.MISSING


@dataclass(frozen=True)
class ParamInfo:
    """What a setting means and which values it allows (carried in the dataclass field metadata)."""

    units: str = ""
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None


def param(
    default: Any = MISSING,
    *,
    units: str = "",
    doc: str = "",
    min: float | None = None,
    max: float | None = None,
    choices: tuple[Any, ...] | list[Any] | None = None,
    default_factory: Any = MISSING,
) -> Any:
    """A dataclass field with units, range and a one-line description.

    Leave `default` out for a required value. `min`/`max` bound numbers (and every element of a
    list of numbers); `choices` lists the allowed values of a string or number.
    """
    info = ParamInfo(units=units, doc=doc, min=min, max=max,
                     choices=tuple(choices) if choices is not None else None)
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata={"kmor": info})
    if isinstance(default, (list, dict)):
        frozen_default = default
        return field(default_factory=lambda: type(frozen_default)(frozen_default),
                     metadata={"kmor": info})
    return field(default=default, metadata={"kmor": info})


def section(cls: type) -> Any:
    """A nested section field whose defaults come from `cls()`."""
    return field(default_factory=cls, metadata={"kmor": ParamInfo(doc=(cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "")})


def param_info(f: dataclasses.Field[Any]) -> ParamInfo:
    """The `ParamInfo` of a dataclass field (an empty one for plain fields)."""
    info: ParamInfo = f.metadata.get("kmor", ParamInfo())
    return info
