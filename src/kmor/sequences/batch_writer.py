"""Batch files from steps: the writer next to the parser (batch.py). `batch_text(name,
description, steps)` gives the text that `parse_batch` reads back into the same steps (a test
checks the round trip), so a run composed in the window is a file `kmor run` can repeat."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any


def toml_value(value: Any) -> str:
    """One TOML value (numbers, booleans, strings and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to a batch file")


def as_table(params: Any) -> dict[str, Any]:
    """A parameter dataclass (or mapping) as the keys of a [[steps]] table."""
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    return dict(params)


def batch_text(name: str, description: str, steps: Sequence[tuple[str, Any]], *,
               header: str = "# written by the kmor window; run it again with `kmor run` on this file") -> str:
    """The batch file: a [batch] table and one [[steps]] table per (kind, params)."""
    lines = [header, "", "[batch]", f"name = {toml_value(name)}", f"description = {toml_value(description)}"]
    for kind, params in steps:
        lines += ["", "[[steps]]", f"kind = {toml_value(kind)}"]
        lines += [f"{key} = {toml_value(value)}" for key, value in as_table(params).items()]
    return "\n".join(lines) + "\n"
