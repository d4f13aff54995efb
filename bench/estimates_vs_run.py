"""`kmor check`'s lab-time estimate per job against what a finished run took:

    PYTHONPATH=src python bench/estimates_vs_run.py data/<run folder>

The run's queue (queue.json) holds every job with its estimate; each job that wrote a scan ends at
its scan's last `time_s` (lab clock), so a job took from the previous scan's end to its own (the
set-up jobs between two scans, e.g. laser and lock, are counted with the next scan).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kmor.storage import read_scan


def main() -> None:
    run = Path(sys.argv[1])
    jobs = json.loads((run / "queue.json").read_text())["jobs"]
    scans = sorted(run.glob("*.h5"))
    ends = [float(read_scan(p).columns["time_s"][-1]) for p in scans]
    print(f"{'job':28s} {'estimate':>10s} {'took':>10s} {'ratio':>7s}")
    k, start, pending = 0, 0.0, 0.0
    total_est = 0.0
    for job in jobs:
        total_est += job["estimate_s"]
        pending += job["estimate_s"]
        if job["kind"] in ("laser", "lock") or k >= len(ends):
            continue
        took = ends[k] - start
        print(f"{job['label'][:28]:28s} {pending / 60:9.2f}m {took / 60:9.2f}m {took / pending:7.3f}")
        start, pending, k = ends[k], 0.0, k + 1
    print(f"{'whole run':28s} {total_est / 3600:9.3f}h {ends[-1] / 3600:9.3f}h {ends[-1] / total_est:7.3f}")


if __name__ == "__main__":
    main()
