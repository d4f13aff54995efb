"""Helpers shared by the reliability tests (imported as a plain module: tests have no packages)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kmor.config.files import LoadedConfig, default_config_bytes, load_config
from kmor.sequences.batch_writer import toml_value
from kmor.storage import list_scans, read_scan
from small_batch import small_batch

SMALL_BATCH = small_batch("reliability", ("bscan_series", {
    "light_powers_uW": [3.0, 9.0], "field_range_uG": 10.0, "step_uG": 1.0, "averages": 1, "time_constant_s": 0.01,
    "sensitivity_V": 1e-4}), ("rfscan", {"light_power_uW": 5.0, "span_hz": 6.0, "repeats": 2, "transmission_samples": 2}))


def config_with(tmp_path: Path, tables: dict[str, dict[str, Any]]) -> LoadedConfig:
    """The embedded simulated-lab config with some keys of some tables changed (e.g.
    {"sim.faults.io": {"enabled": True}}), written to a file and loaded as a user would."""
    lines = default_config_bytes().decode().splitlines()
    table = ""
    for n, line in enumerate(lines):
        header = re.fullmatch(r"\s*\[([^\]]+)\]\s*(#.*)?", line)
        if header:
            table = header.group(1).strip()
            continue
        changes = tables.get(table, {})
        key = re.match(r"\s*([A-Za-z_0-9]+)\s*=", line)
        if key and key.group(1) in changes:
            lines[n] = f"{key.group(1)} = {toml_value(changes[key.group(1)])}"
    path = tmp_path / f"lab-{abs(hash(repr(tables)))}.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_config(path)


def complete_scans(run_dir: Path) -> list[tuple]:
    """(kind, light power, rf power, n points) of every complete scan in a run folder, sorted."""
    found = []
    for path in list_scans(run_dir):
        scan = read_scan(path)
        if scan.status == "complete":
            p = scan.parameters
            found.append((scan.kind, p.get("light_power_uW"), p.get("rf_power_dBm"), scan.n_points))
    return sorted(found, key=repr)


def is_safe(sim_lab) -> bool:
    """rf output off and every coil at zero field."""
    return (not sim_lab.rf_generator.output_on
            and all(abs(v) < 1e-9 for v in sim_lab.coil_fields_uG().values()))
