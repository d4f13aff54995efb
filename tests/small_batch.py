"""The small simulated batches several tests run: the laser on at the lock point and locked, then
the steps a test needs, written by the batch writer the window uses (imported as a plain module)."""

from __future__ import annotations

from typing import Any

from kmor.sequences.batch_writer import batch_text

LASER_AND_LOCK: list[tuple[str, dict[str, Any]]] = [("laser", {"piezo_pct": 47.5, "settle_s": 0.1}), ("lock", {})]


def small_batch(name: str, *steps: tuple[str, dict[str, Any]]) -> str:
    """Batch-file text named `name`: the laser and the lock, then `steps` as (kind, parameters)."""
    return batch_text(name, "a small test batch", [*LASER_AND_LOCK, *steps], header="# a test batch")
