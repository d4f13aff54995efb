"""Storage benchmark: per-point append time, and whether time and memory stay flat over many scans.

    python bench/bench_storage.py [--points 2000] [--scans 1000] [--scan-points 200] [--dir DIR]

Part 1 appends `--points` points of a triangular B scan (9 columns: field, coil current, X, Y,
sensitivity, light power, lock error, time, sweep direction) and prints per-point times.
Part 2 writes `--scans` scans of `--scan-points` points each (stepped rf scan columns), as a batch
would overnight, and prints per-point time, file-creation time and the process RSS as it goes.
Times are wall-clock on this machine; "flat" is what matters, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kmor.storage import ScanWriter, new_run_dir, next_scan_path, read_scan

B_COLUMNS = {"set_field_uG": "uG", "coil_current_mA": "mA", "x_V": "V", "y_V": "V", "sensitivity_V": "V",
             "light_power_uW": "uW", "lock_error_V": "V", "time_s": "s", "direction": ("", "str")}
RF_COLUMNS = {"set_freq_hz": "Hz", "counter_hz": "Hz", "transmission_V": "V", "light_power_uW": "uW",
              "repeat": ("", "i8")}
SNAPSHOT = {f"instrument_{k}": {f"setting_{j}": j * 0.5 for j in range(20)} for k in range(8)}
CONFIG_TEXT = "\n".join(f"key_{i} = {i}" for i in range(200))


def rss_mib() -> float:
    """Current resident set size (MiB); peak RSS where /proc is not available."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def b_point(i: int, n: int) -> dict:
    half = n // 2
    field = -800.0 + 1600.0 * (i if i < half else n - 1 - i) / max(half - 1, 1)
    return {"set_field_uG": field, "coil_current_mA": field / 12.5, "x_V": 1e-4 * math.sin(i / 50),
            "y_V": 1e-5 * math.cos(i / 50), "sensitivity_V": 1e-3, "light_power_uW": 10.0,
            "lock_error_V": 1e-4, "time_s": 0.3 * i, "direction": "down" if i < half else "up"}


def one_scan(path: Path, columns: dict, n: int, point, fsync: bool = False) -> tuple[float, list[float]]:
    """Write one scan; (creation seconds, per-point seconds)."""
    t0 = time.perf_counter()
    w = ScanWriter(path, kind="bench", columns=columns, parameters={"n_points": n}, snapshot=SNAPSHOT,
                   config_text=CONFIG_TEXT, kmor_version="bench", expected_points=n, fsync=fsync)
    t_create = time.perf_counter() - t0
    times = []
    for i in range(n):
        t = time.perf_counter()
        w.append(point(i, n))
        times.append(time.perf_counter() - t)
    w.close()
    return t_create, times


def us(x: float) -> str:
    return f"{x * 1e6:8.1f}"


def part1(run: Path, n: int) -> None:
    print(f"\n## Per-point append time, one {n}-point triangular B scan (9 columns)\n")
    print("| durability | median us | mean us | p99 us | max us | first 100 mean us | last 100 mean us |")
    print("|---|---|---|---|---|---|---|")
    for fsync in (False, True):
        _, t = one_scan(next_scan_path(run, "bscan"), B_COLUMNS, n, b_point, fsync=fsync)
        p99 = float(np.percentile(t, 99))
        label = "flush (survives kill)" if not fsync else "flush+fsync (survives power cut)"
        print(f"| {label} | {us(statistics.median(t))} | {us(statistics.fmean(t))} | {us(p99)} | "
              f"{us(max(t))} | {us(statistics.fmean(t[:100]))} | {us(statistics.fmean(t[-100:]))} |")


def part2(run: Path, n_scans: int, n_points: int) -> None:
    print(f"\n## {n_scans} scans of {n_points} points (stepped rf scan columns), one process\n")
    print("| after scan | median us/point | mean us/point | create ms | read back ms | RSS MiB |")
    print("|---|---|---|---|---|---|")
    marks = sorted({1, 10, 100, n_scans // 4, n_scans // 2, 3 * n_scans // 4, n_scans} - {0})

    def rf_point(i: int, n: int) -> dict:
        return {"set_freq_hz": 461_719_700.0 + i, "counter_hz": 461_719_700.0 + i + 0.01,
                "transmission_V": 0.5 - 0.01 * math.exp(-((i - n / 2) / 10) ** 2),
                "light_power_uW": 10.0, "repeat": i % 4}

    for k in range(1, n_scans + 1):
        path = next_scan_path(run, "rfscan")
        t_create, t = one_scan(path, RF_COLUMNS, n_points, rf_point)
        if k in marks:
            t0 = time.perf_counter()
            read_scan(path)
            t_read = time.perf_counter() - t0
            print(f"| {k} | {us(statistics.median(t))} | {us(statistics.fmean(t))} | "
                  f"{t_create * 1e3:6.2f} | {t_read * 1e3:6.2f} | {rss_mib():6.1f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--scan-points", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temp folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        run = new_run_dir(tmp, "bench")
        print(f"kmor storage benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, files in {run}")
        part1(run, args.points)
        part2(run, args.scans, args.scan_points)


if __name__ == "__main__":
    main()
