"""Moved: the batch writer is kmor.sequences.batch_writer and the preparation decisions are
kmor.sequences.compose (acquisition decisions live in sequences/, the window only asks and
shows). These names stay importable from here for existing callers."""

from kmor.sequences.batch_writer import as_table, batch_text, toml_value
from kmor.sequences.compose import (PREPARE_LOCK, PREPARE_MODES, PREPARE_NONE, PREPARE_SEARCH,
                                    preparation_steps)

__all__ = ["PREPARE_LOCK", "PREPARE_MODES", "PREPARE_NONE", "PREPARE_SEARCH", "as_table", "batch_text",
           "preparation_steps", "toml_value"]
