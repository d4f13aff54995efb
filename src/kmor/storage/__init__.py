"""kmor.storage: durable HDF5 files for scans, run folders, and atomic JSON state.

Layout: docs/data-format.md. Imports nothing else of kmor, so analysis tools can use it alone.

    run = new_run_dir(data_dir, "power-series")
    with ScanWriter(next_scan_path(run, "bscan"), kind="bscan",
                    columns={"set_field_uG": "uG", "x_V": "V", "direction": ("", "str")},
                    parameters=params, snapshot=station_snapshot, config_text=config_text,
                    kmor_version=kmor.__version__, expected_points=1600) as w:
        w.append({"set_field_uG": -800.0, "x_V": 1.2e-4, "direction": "up"})  # on disk on return
    scan = read_scan(path)      # scan.columns["x_V"].units == "V"; works on killed files too
"""

from kmor.storage.errors import StorageError
from kmor.storage.reader import Column, Scan, Suspension, read_scan, read_scans
from kmor.storage.runs import list_scans, new_run_dir, next_scan_path
from kmor.storage.state import load_json, save_json_atomic
from kmor.storage.writer import ScanWriter, is_open_for_writing

__all__ = [
    "Column", "Scan", "ScanWriter", "StorageError", "Suspension", "is_open_for_writing",
    "list_scans", "load_json", "new_run_dir", "next_scan_path", "read_scan", "read_scans",
    "save_json_atomic",
]
