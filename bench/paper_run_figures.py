"""The one source of the run-time figures the docs quote (a script, not a test):

    PYTHONPATH=src python bench/paper_run_figures.py          # paper.toml and demo.toml, ~5 min
    PYTHONPATH=src python bench/paper_run_figures.py --print  # only print the table, edit nothing
    PYTHONPATH=src python bench/paper_run_figures.py --only config/sequences/demo.toml   # one, printed

For each sequence it runs `kmor check` (the estimated lab time) and `kmor run` on the simulated lab
at full speed, as a user would, into a temporary folder, and measures: the actual lab time (the
station clock at the last recorded point: the simulated lab's clock starts at 0), the wall time of
the `kmor run` process, and the scan files written. The table replaces the section between the
markers in docs/walkthrough.md ("Measured figures"); every other doc refers to that section instead
of repeating numbers. Re-run it whenever the estimates, the noise or the sequences change.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import h5py  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "walkthrough.md"
BEGIN, END = "<!-- measured-figures:begin -->", "<!-- measured-figures:end -->"
SEQUENCES = ("config/sequences/paper.toml", "config/sequences/demo.toml")


@dataclass(frozen=True)
class Figures:
    """Measured figures of one sequence: lab time estimated by `kmor check` and actually taken (s),
    wall time and CPU time (user + system) of `kmor run` (s), the 1-min load average when it ended,
    scan files written, and how the run ended."""

    sequence: str
    estimated_lab_s: float
    actual_lab_s: float
    wall_s: float
    cpu_s: float
    load: float
    n_scans: int
    status: str


def kmor(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `kmor` command of this checkout (python -m kmor with src/ first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "kmor", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, check=False)


def parse_duration_s(text: str) -> float:
    """Seconds of kmor's format_duration: '5 h 30 min', '9 min 51 s', '12 s'."""
    units = {"h": 3600.0, "min": 60.0, "s": 1.0}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)\s*(h|min|s)\b", text))


def measure(sequence: str) -> Figures:
    check = kmor("check", sequence)
    if check.returncode != 0:
        sys.exit(f"kmor check {sequence} failed: {check.stderr.strip()}")
    estimate = re.search(r"estimated duration \(lab time\): (.+)", check.stdout)
    assert estimate is not None, check.stdout
    with tempfile.TemporaryDirectory(prefix="kmor-figures-") as data:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        run = kmor("run", sequence, "--data-dir", data)
        wall_s = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if run.returncode != 0:
            sys.exit(f"kmor run {sequence} exited {run.returncode}: {run.stderr.strip()[-500:]}")
        scans = sorted(Path(data).glob("*/*.h5"))
        last_point_s = 0.0
        for scan in scans:
            with h5py.File(scan, "r") as f:
                times = f["columns/time_s"]
                if len(times):
                    last_point_s = max(last_point_s, float(times[-1]))
    return Figures(sequence, parse_duration_s(estimate.group(1)), last_point_s, wall_s, cpu_s,
                   os.getloadavg()[0], len(scans), run.stdout.split(":")[0])


def hours_minutes(seconds: float) -> str:
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def table(figures: list[Figures]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        (f"Measured by `bench/paper_run_figures.py` on {when}: the simulated lab at full speed, "
         f"{os.cpu_count()} cores ({platform.machine()}, Python {platform.python_version()}), other work "
         "sharing the machine (the load average when each run ended is given). Wall times vary with the "
         "machine and its load, CPU times much less; lab times only with the sequence and the simulated "
         "noise."),
        "",
        ("| sequence | `kmor check` estimate (lab time) | lab time taken | wall time of `kmor run` "
         "| CPU time | load | scans | ended |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(f"| `{f.sequence}` | {hours_minutes(f.estimated_lab_s)} | {hours_minutes(f.actual_lab_s)} | "
                     f"{hours_minutes(f.wall_s)} | {hours_minutes(f.cpu_s)} | {f.load:.1f} | {f.n_scans} | "
                     f"{f.status} |")
    return "\n".join(lines)


def write_section(text: str, doc: Path = DOC) -> None:
    """Replace what lies between the markers in `doc` with `text`."""
    content = doc.read_text(encoding="utf-8")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the table; leave the docs alone")
    parser.add_argument("--only", metavar="SEQUENCE", help="measure this sequence only (implies --print)")
    args = parser.parse_args()
    figures = []
    for sequence in [args.only] if args.only else SEQUENCES:
        print(f"measuring {sequence} ...", file=sys.stderr, flush=True)
        figures.append(measure(sequence))
    text = table(figures)
    print(text)
    if not (args.print or args.only):
        write_section(text)
        print(f"written to {DOC.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
