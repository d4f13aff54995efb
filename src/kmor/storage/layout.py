"""Names of everything inside a kmor scan file (see docs/data-format.md).

Writer and reader share these constants so the documented layout has a single source.
"""

from __future__ import annotations

FORMAT_NAME = "kmor-scan"
FORMAT_VERSION = 1

# Root attributes.
A_FORMAT = "kmor_format"
A_FORMAT_VERSION = "kmor_format_version"
A_KIND = "kind"
A_KMOR_VERSION = "kmor_version"
A_STATUS = "status"
A_MESSAGE = "status_message"
A_N_POINTS = "n_points"            # rows of /columns/* that are valid; written after the rows
A_N_SUSPENSIONS = "n_suspensions"  # rows of /suspensions that are valid; written after the rows
A_START_ISO = "start_time_iso"
A_START_UNIX = "start_time_unix_s"
A_END_ISO = "end_time_iso"         # "" until the scan is closed
A_END_UNIX = "end_time_unix_s"     # NaN until the scan is closed
A_COLUMNS = "columns_json"         # JSON list of [name, units, dtype] in acquisition order

RESERVED_ATTRS = frozenset({
    A_FORMAT, A_FORMAT_VERSION, A_KIND, A_KMOR_VERSION, A_STATUS, A_MESSAGE, A_N_POINTS,
    A_N_SUSPENSIONS, A_START_ISO, A_START_UNIX, A_END_ISO, A_END_UNIX, A_COLUMNS,
})

# Groups and datasets.
G_COLUMNS = "columns"
G_ARRAYS = "arrays"
G_META = "meta"
G_PARAMETERS = "parameters"        # attribute mirror of the parameters (scalars only)
G_SNAPSHOT = "snapshot"            # group/attribute mirror of the instrument snapshot
D_PARAMETERS_JSON = "meta/parameters_json"
D_SNAPSHOT_JSON = "meta/snapshot_json"
D_CONFIG_TEXT = "meta/config_text"
D_SUSPENSIONS = "suspensions"
A_UNITS = "units"

# Sizes (UTF-8 bytes) of fixed-length strings written after the file is published.
STATUS_BYTES = 16
ISO_BYTES = 32
MESSAGE_BYTES = 1024
REASON_BYTES = 256
IN_PLACE_ATTRS = (A_N_POINTS, A_N_SUSPENSIONS, A_END_UNIX, A_END_ISO, A_MESSAGE, A_STATUS)

# Status values.
RUNNING = "running"
COMPLETE = "complete"
ABORTED = "aborted"
FAILED = "failed"
INTERRUPTED = "interrupted"        # reported by the reader only: "running" on disk, writer gone
FINAL_STATUSES = (COMPLETE, ABORTED, FAILED)
