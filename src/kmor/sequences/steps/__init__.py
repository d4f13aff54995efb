"""Batch step kinds: one module per kind, each registering a `StepKind` (see registry.py).

The built-in kinds are imported in the order the docs list them; any other module in this
package (a new kind) is imported after them, so adding a kind is adding one file here.
"""

from __future__ import annotations

import importlib
import pkgutil

from kmor.sequences.steps.limits import LimitCheck
from kmor.sequences.steps.registry import StepKind, all_kinds, get, register

BUILT_IN = ("laser", "lock", "lock_point_search", "zeroing", "bscan", "bscan_series", "rfscan", "rf_grid")
_SUPPORT = {"registry", "limits"}

for _name in BUILT_IN:
    importlib.import_module(f"{__name__}.{_name}")
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _SUPPORT and _module not in BUILT_IN:
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["LimitCheck", "StepKind", "all_kinds", "get", "register"]
