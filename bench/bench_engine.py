"""Benchmark of the sequence engine (a script, not a test): python bench/bench_engine.py [--quick]

1. Per-point overhead of the engine with HDF5 writing, for a 2000-point scan on the simulated lab
   at full speed: the same measurement loop run bare and through engine.scan/point (pause/abort
   checks, suspender checks, HDF5 append with its flushes, event publishing), and the wall time
   per point of a real stepped B scan with the lock servo running.
2. Flat over a night: 1,000 B scans in one batch (run_batch, one HDF5 file each); per-point wall
   time and the process RSS sampled along the way.
3. At speed 1 (real time): a short locked B scan's wall time against its physical minimum
   (coil ramps + lock-in settling + spacing of the averaged readings), as a ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

from kmor.config.files import LoadedConfig, load_config
from kmor.sequences import events as ev
from kmor.sequences.bscan import BScanParams, run_bscan, scan_points
from kmor.sequences.common import settle_time_s_for
from kmor.sequences.engine import Engine
from kmor.sequences.laser import LaserSetupParams, setup_laser
from kmor.sequences.lock import LockParams, acquire_lock
from kmor.sequences.recorder import HDF5Recorder
from kmor.sequences.runner import run_batch
from kmor.station import build_station


def rss_MiB() -> float:
    """Resident set size of this process now (Linux /proc), MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def engine_overhead(n_points: int, tmp: Path) -> dict[str, float]:
    st = build_station(load_config())
    st.prepare()
    channel = st.lock_error_ai

    def measure(i: int) -> dict:
        return {"index": i, "v": st.daq.read_ai_V(channel)}
    t0 = time.perf_counter()
    for i in range(n_points):
        measure(i)
    bare = (time.perf_counter() - t0) / n_points
    engine = Engine(st, recorder=HDF5Recorder(tmp, config_text=st.config_text, kmor_version="bench"))
    engine.bus.subscribe(lambda e: None, name="display")     # an asynchronous display subscriber

    def plan(e: Engine) -> float:
        with e.scan("bench", {"index": ("", "i8"), "v": "V"}, {}, expected_points=n_points) as scan:
            t = time.perf_counter()
            for i in range(n_points):
                scan.point(lambda i=i: measure(i))
            return (time.perf_counter() - t) / n_points
    through_engine = engine.run(plan).result
    engine.bus.close()

    engine = Engine(st, recorder=HDF5Recorder(tmp, config_text=st.config_text, kmor_version="bench"))

    def bscan_plan(e: Engine) -> float:
        setup_laser(e, LaserSetupParams(piezo_pct=47.5, settle_s=0.1))
        acquire_lock(e, LockParams())
        p = BScanParams(field_range_uG=499.75, step_uG=0.5, light_power_uW=5.0, averages=2,
                        time_constant_s=0.03, sensitivity_V=1e-4)   # 2000 points
        t = time.perf_counter()
        run_bscan(e, p)
        return (time.perf_counter() - t) / len(scan_points(p))
    bscan = engine.run(bscan_plan).result
    st.close()
    return {"bare_s": bare, "engine_s": through_engine, "overhead_s": through_engine - bare,
            "bscan_s": bscan}


def night_of_scans(n_scans: int, tmp: Path) -> list[tuple[int, float, float, float]]:
    powers = ", ".join(f"{2.0 + (k % 9):.1f}" for k in range(n_scans))
    batch = tmp / "night.toml"
    batch.write_text(f"""
[batch]
name = "night"
[[steps]]
kind = "laser"
piezo_pct = 47.5
settle_s = 0.1
[[steps]]
kind = "lock"
[[steps]]
kind = "bscan_series"
light_powers_uW = [{powers}]
field_range_uG = 10.0
step_uG = 1.0
averages = 1
time_constant_s = 0.01
sensitivity_V = 1e-4
light_settle_s = 0.05
""")
    samples: list[tuple[int, float, float, float]] = []
    state = {"scans": 0, "t": 0.0, "points": 0, "end": None}

    def probe(event: ev.Event) -> None:
        if event.kind == ev.SCAN_STARTED:
            state["t"], state["points"] = time.perf_counter(), 0
        elif event.kind == ev.POINT:
            state["points"] += 1
        elif event.kind == ev.SCAN_FINISHED:
            state["scans"] += 1
            k = state["scans"]
            now = time.perf_counter()
            if k in (1, 10) or k % max(1, n_scans // 8) == 0:
                per_point = (now - state["t"]) / max(state["points"], 1)
                per_scan = now - (state["end"] if state["end"] is not None else state["t"])
                samples.append((k, per_point, per_scan, rss_MiB()))
            state["end"] = now
    result = run_batch(batch, load_config(), data_dir=tmp / "data", subscribers=[probe])
    assert result.status == "complete", result
    return samples


def real_time_ratio() -> dict[str, float]:
    loaded = load_config()
    cfg = loaded.config
    real_time = LoadedConfig(dataclasses.replace(cfg, sim=dataclasses.replace(cfg.sim, speed=1.0)),
                             loaded.source, loaded.text)
    st = build_station(real_time)
    st.prepare()
    p = BScanParams(field_range_uG=10.0, step_uG=1.0, light_power_uW=5.0, averages=3,
                    time_constant_s=0.01, filter_slope_dB_per_oct=24, sensitivity_V=1e-4,
                    light_settle_s=0.0)
    with tempfile.TemporaryDirectory() as d:
        engine = Engine(st, recorder=HDF5Recorder(d, config_text=st.config_text, kmor_version="bench"))

        def plan(e: Engine) -> tuple[float, float]:
            setup_laser(e, LaserSetupParams(piezo_pct=47.5, settle_s=0.0))
            acquire_lock(e, LockParams(capture_s=0.2))
            st.set_light_power_uW(5.0)
            t_wall, t_lab = time.perf_counter(), e.now_s()
            run_bscan(e, p)
            return time.perf_counter() - t_wall, e.now_s() - t_lab
        wall, lab = engine.run(plan).result
    st.close()
    ramp = cfg.limits.max_ramp_uG_per_s
    n = len(scan_points(p))
    settle = settle_time_s_for(p.time_constant_s, p.filter_slope_dB_per_oct)
    minimum = (n * (settle + (p.averages - 1) * 5 * p.time_constant_s + p.step_uG / ramp)
               + (2 * p.field_range_uG) / ramp)   # to the start and back to zero
    return {"points": n, "wall_s": wall, "lab_s": lab, "minimum_s": minimum, "ratio": wall / minimum}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 scans instead of 1,000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        o = engine_overhead(2000, tmp)
        print("1. per point, 2000-point scan, full speed, HDF5 writing")
        print(f"   bare measurement (1 DAQ read)        {o['bare_s'] * 1e6:8.1f} us")
        print(f"   same through the engine              {o['engine_s'] * 1e6:8.1f} us")
        print(f"   engine + HDF5 overhead               {o['overhead_s'] * 1e6:8.1f} us per point")
        print(f"   stepped B scan, locked (tc 30 ms)    {o['bscan_s'] * 1e3:8.2f} ms per point wall")
        n = 100 if args.quick else 1000
        print(f"2. {n} B scans (22 points each) in one batch")
        print("   scans   us/point   ms/scan (incl. file, snapshot, light)   RSS MiB")
        for k, per_point, per_scan, rss in night_of_scans(n, tmp):
            print(f"   {k:5d}   {per_point * 1e6:8.0f}   {per_scan * 1e3:8.1f}"
                  f"                              {rss:7.1f}")
    r = real_time_ratio()
    print("3. speed 1: short locked B scan")
    print(f"   {r['points']} points: wall {r['wall_s']:.2f} s, lab {r['lab_s']:.2f} s, physical minimum "
          f"{r['minimum_s']:.2f} s, ratio wall/minimum {r['ratio']:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
