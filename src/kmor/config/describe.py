"""Walk a config dataclass for display: every setting with its value, units and meaning."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, NamedTuple

from kmor.config.schema import param_info


class Setting(NamedTuple):
    key: str
    value: Any
    units: str
    doc: str


def iter_settings(instance: Any, prefix: str = "") -> Iterator[Setting]:
    """Yield every leaf setting of a config dataclass with its dotted key, depth first."""
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        key = f"{prefix}.{f.name}" if prefix else f.name
        if dataclasses.is_dataclass(value):
            yield from iter_settings(value, key)
        else:
            info = param_info(f)
            yield Setting(key, value, info.units, info.doc)


def format_value(value: Any) -> str:
    """A value as it would be written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, float):
        text = repr(value) if value == 0 or 1e-3 <= abs(value) < 1e6 else f"{value:.12g}"
        return text if any(c in text for c in ".en") else text + ".0"
    return str(value)


def to_toml(instance: Any, table: str) -> str:
    """Render a config dataclass as TOML tables under `table`, each value commented with units and doc."""
    lines: list[str] = []
    scalars = [f for f in dataclasses.fields(instance) if not dataclasses.is_dataclass(getattr(instance, f.name))]
    if scalars:
        lines.append(f"[{table}]")
        for f in scalars:
            info = param_info(f)
            units = f"[{info.units}] " if info.units else ""
            lines.append(f"{f.name} = {format_value(getattr(instance, f.name))}    # {units}{info.doc}".rstrip())
        lines.append("")
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        if dataclasses.is_dataclass(value):
            lines.append(to_toml(value, f"{table}.{f.name}"))
    return "\n".join(lines)
