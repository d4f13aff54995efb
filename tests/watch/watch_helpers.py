"""Helpers for the kmor watch tests: a simulated run on disk, a server on a free port, GETs."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kmor.config.files import default_config_bytes

SHORT_BATCH = """
[batch]
name = "watch-test"

[[steps]]
kind = "laser"
line = "D1"
current_mA = 50.0
piezo_pct = 50.0

[[steps]]
kind = "lock_point_search"
piezo_start_pct = 44.0
piezo_stop_pct = 51.0
piezo_step_pct = 0.5
field_uG = 6.0
light_power_uW = 10.0

[[steps]]
kind = "lock"
setpoint_from = "here"

[[steps]]
kind = "bscan_series"
light_powers_uW = [3.0, 10.0]
field_range_uG = 60.0
step_uG = 1.0
averages = 2
time_constant_s = 0.03
"""
"""About 4.4 min of lab time: 5 s at full speed, ~27 s at sim speed 10."""


def write_batch(folder: Path) -> Path:
    path = folder / "watch-test.toml"
    path.write_text(SHORT_BATCH, encoding="utf-8")
    return path


def config_with(folder: Path, *, speed: float = 0.0, extra: str = "", disk_full_after: int | None = None) -> Path:
    """The embedded simulated-lab config with sim.speed set, optionally the disk fault on, and
    `extra` TOML appended."""
    text = default_config_bytes().decode("utf-8")
    text = text.replace("speed = 0.0 ", f"speed = {speed} ", 1)
    if disk_full_after is not None:
        old = "[sim.faults.disk]\nenabled = false\nafter_points = 100 "
        assert old in text
        text = text.replace(old, f"[sim.faults.disk]\nenabled = true\nafter_points = {disk_full_after} ")
    path = folder / "lab.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, body = get(url, headers)
    return status, json.loads(body)
