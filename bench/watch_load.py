"""Does `kmor watch` slow acquisition? (a script, not a test): python bench/watch_load.py [--repeats N]

A simulated batch (laser, lock-point search, lock, B scans: about 1,700 points) runs at full speed in
this process, as `kmor run` does, and its points per second of wall time are measured under:

  A. no live status publisher at all (LiveStatus.attach replaced by a no-op): the old baseline;
  B. the publisher on (status.json + live-scan.json every 0.5 s), nobody watching;
  C. B + `kmor watch` in its own process + 10 clients polling like open pages (each: run detail +
     live scan once a second);
  D. B + `kmor watch` + 10 clients polling as fast as they can (no pause between requests);
  E. B + `kmor watch` + 100 clients polling like open pages ("a hundred open tabs").

Also reported: CPU time of the acquisition process per point (all its threads; the watcher and
the clients are other processes), which other work on a shared machine disturbs less than the wall
rate.

Before that, the publisher's own cost: the time its event callback takes per point (in the bus's
subscriber thread, not the acquisition thread) and the time to write status.json + live-scan.json
for a 2,000-point scan (every 0.5 s at most), from 20,000 synthetic point events.

The clients run in a third process. Each condition is repeated `--repeats` times in turn (A B C D E,
A B C D E, ...) and the median is reported with the spread; the machine is shared, so compare the
conditions of one invocation only. Also printed: requests served per second in C/D/E.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

from kmor.config.files import load_config
from kmor.sequences import events as ev
from kmor.sequences import live_status, runner

BATCH = """
[batch]
name = "watch-load"

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
light_powers_uW = [2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0]
field_range_uG = 60.0
step_uG = 1.0
averages = 2
time_constant_s = 0.03
"""

CLIENTS = textwrap.dedent("""
    import json, sys, threading, time, urllib.request
    base, n, pause_s, stop_file = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    import os
    count = [0]
    def client():
        while not os.path.exists(stop_file):
            try:
                runs = json.load(urllib.request.urlopen(base + "/api/runs", timeout=10))["runs"]
                if runs:
                    rid = runs[0]["id"]
                    urllib.request.urlopen(f"{base}/api/runs/{rid}", timeout=10).read()
                    urllib.request.urlopen(f"{base}/api/runs/{rid}/live", timeout=10).read()
                    count[0] += 3
            except Exception:
                pass
            time.sleep(pause_s)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(n)]
    for t in threads: t.start()
    while not os.path.exists(stop_file): time.sleep(0.05)
    print(count[0])
""")


class Watcher:
    """`kmor watch` in its own process plus a process of polling clients."""

    def __init__(self, data: Path, clients: int, pause_s: float) -> None:
        self.stop_file = data.parent / f"stop-{time.monotonic_ns()}"
        env = {**os.environ}
        self.server = subprocess.Popen([sys.executable, "-m", "kmor", "watch", str(data), "--port", "0"],
                                       stdout=subprocess.PIPE, text=True, env=env)
        line = self.server.stdout.readline()      # "kmor watch: DIR at http://127.0.0.1:PORT/"
        self.base = line.strip().split(" at ")[-1].rstrip("/")
        _wait_up(self.base)
        self.clients = subprocess.Popen([sys.executable, "-c", CLIENTS, self.base, str(clients), str(pause_s),
                                         str(self.stop_file)], stdout=subprocess.PIPE, text=True)
        self.started = time.monotonic()

    def stop(self) -> float:
        """Stop both processes; requests served per second."""
        self.stop_file.touch()
        out, _ = self.clients.communicate(timeout=60)
        elapsed = time.monotonic() - self.started
        self.server.terminate()
        self.server.wait(10)
        return int(out.strip() or 0) / elapsed


def _wait_up(base: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/api/runs", timeout=2).read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"kmor watch did not answer at {base}")


def one_run(workdir: Path, condition: str) -> tuple[float, int, float | None, float]:
    """(points per wall second, points, requests per second or None, CPU ms of the acquisition
    process per point) of one batch."""
    data = workdir / f"data-{condition}-{time.monotonic_ns()}"
    data.mkdir()
    batch = workdir / "watch-load.toml"
    batch.write_text(BATCH)
    watcher = None
    if condition in "CDE":
        clients, pause_s = {"C": (10, 1.0), "D": (10, 0.0), "E": (100, 1.0)}[condition]
        watcher = Watcher(data, clients, pause_s)
    original = live_status.LiveStatus.attach
    if condition == "A":
        runner.LiveStatus.attach = classmethod(lambda cls, engine, run_dir, **kw: _NoLive())  # type: ignore[method-assign]
    points = [0]

    def count(event: ev.Event) -> None:
        if event.kind == ev.POINT:
            points[0] += 1

    try:
        start, cpu0 = time.perf_counter(), time.process_time()
        result = runner.run_batch(batch, load_config(), data_dir=data, subscribers=[count])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    finally:
        runner.LiveStatus.attach = original  # type: ignore[method-assign]
        rate = watcher.stop() if watcher is not None else None
    assert result.status == "complete", result
    return points[0] / elapsed, points[0], rate, cpu / points[0] * 1e3


class _NoLive:
    def finish(self, *args: object) -> None:
        pass


def publisher_cost(workdir: Path, n: int = 20_000) -> tuple[float, float]:
    """(us per point event in LiveStatus's callback, ms per write of both files at 2,000 points)."""

    class Engine:
        bus = None
        servo = None
        progress: ClassVar[dict[str, object]] = {}

    folder = workdir / "publisher"
    folder.mkdir()
    live = live_status.LiveStatus(folder, engine=Engine(), interval_s=3600.0)
    live(ev.Event(ev.SCAN_STARTED, 0.0, scan=str(folder / "00001-bscan.h5"), total=n))
    rows = [{"field_uG": float(i % 121), "field_set_uG": float(i % 121), "x_V": 1e-5 * (i % 13),
             "sweep": "down", "locked": True, "y_V": 0.0, "time_s": float(i)} for i in range(n)]
    start = time.perf_counter()
    for i, row in enumerate(rows):
        live(ev.Event(ev.POINT, float(i), index=i, total=n, row=row, remaining_s=1000.0 - i * 0.01))
    per_point_us = (time.perf_counter() - start) / n * 1e6
    live._scan["columns"] = {k: v[:2000] for k, v in live._scan["columns"].items()}
    start = time.perf_counter()
    for _ in range(20):
        live._dirty_status = live._dirty_scan = True
        live._write(*live._snapshot())
    per_write_ms = (time.perf_counter() - start) / 20 * 1e3
    live.finish("complete")
    return per_point_us, per_write_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--publisher-only", action="store_true", help="only the publisher's own cost")
    args = parser.parse_args()
    conditions = {"A": "no publisher (old baseline)", "B": "publisher, nobody watching",
                  "C": "kmor watch + 10 clients, 1 poll/s each", "D": "kmor watch + 10 clients, no pause",
                  "E": "kmor watch + 100 clients, 1 poll/s each"}
    results: dict[str, list[tuple[float, int, float | None, float]]] = {c: [] for c in conditions}
    with tempfile.TemporaryDirectory(prefix="kmor-watch-load-") as tmp:
        per_point_us, per_write_ms = publisher_cost(Path(tmp))
        print(f"publisher: {per_point_us:.1f} us per point event (bus thread), {per_write_ms:.1f} ms per "
              f"write of status.json + live-scan.json at 2,000 points (at most every 0.5 s)")
        if args.publisher_only:
            return
        for _ in range(args.repeats):
            for c in conditions:
                results[c].append(one_run(Path(tmp), c))
                print(f"  {c}: {results[c][-1][0]:.0f} points/s", file=sys.stderr, flush=True)
    base = statistics.median(r[0] for r in results["A"])
    print(f"{'condition':48s} {'points/s (median)':>18s} {'min-max':>13s} {'vs A':>7s} {'CPU ms/point':>12s} "
          f"{'requests/s':>10s}")
    summary = {}
    for c, label in conditions.items():
        rates = [r[0] for r in results[c]]
        med = statistics.median(rates)
        served = [r[2] for r in results[c] if r[2] is not None]
        req = f"{statistics.median(served):.0f}" if served else "-"
        cpu = statistics.median(r[3] for r in results[c])
        print(f"{c}. {label:45s} {med:18.0f} {min(rates):6.0f}-{max(rates):<6.0f} {med / base:7.2f} {cpu:12.2f} "
              f"{req:>10s}")
        summary[c] = {"label": label, "points_per_s": rates, "requests_per_s": served,
                      "cpu_ms_per_point": [r[3] for r in results[c]], "points": results[c][0][1]}
    print(f"({results['A'][0][1]} points per run, {args.repeats} runs per condition, {os.cpu_count()} cores)")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
