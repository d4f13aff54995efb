"""Do the extrapolated errors of the paper's procedure cover the simulated lab's inputs as often as
they should? Runs a batch (default: the Zeeman part of config/sequences/paper.toml) on the simulated
lab for N seeds, analyses each run with `kmor analyze`, and prints per seed the extrapolated values,
their errors and the pulls (fit - input) / error, then the rms pull and the fraction of |pull| < 1
(68 % expected) and < 2 (95 %).

    PYTHONPATH=src python bench/seed_coverage.py --seeds 8 --jobs 2            # Zeeman part only
    PYTHONPATH=src python bench/seed_coverage.py --seeds 4 --part rf           # the 0-0 grid only
    PYTHONPATH=src python bench/seed_coverage.py --seeds 4 --part all          # the whole paper batch
    PYTHONPATH=src python bench/seed_coverage.py --seeds 4 --part rf --reanalyse   # same runs, new analysis

Each run is a separate `kmor run` process (a fresh simulated lab whose `sim.seed` is the seed);
`--jobs` runs that many at once. Inputs are read from the embedded sim.toml ([sim.physics.nmor],
[sim.physics.rf]). Lab-time and wall-time figures are printed too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kmor.sequences.batch_writer import batch_text as write_batch

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "config" / "sequences" / "paper.toml"
SIM = REPO / "src" / "kmor" / "data" / "sim.toml"
ZEEMAN_KINDS = {"laser", "lock_point_search", "lock", "zeroing", "bscan_series", "bscan"}
RF_KINDS = {"laser", "lock_point_search", "lock", "rf_grid", "rfscan"}


def batch_text(part: str) -> str:
    """The paper batch, keeping only the steps of `part` (zeeman | rf | all)."""
    data = tomllib.loads(PAPER.read_text())
    keep = {"zeeman": ZEEMAN_KINDS, "rf": RF_KINDS}.get(part)
    steps = [s for s in data["steps"] if keep is None or s["kind"] in keep]
    if part == "rf":
        steps = [s for s in steps if not (s["kind"] == "rfscan" and s.get("span_hz", 0) > 1000)]
    return write_batch(f"coverage-{part}", "part of config/sequences/paper.toml",
                       [(s["kind"], {k: v for k, v in s.items() if k != "kind"}) for s in steps],
                       header="# written by bench/seed_coverage.py")


def config_text(seed: int) -> str:
    text = SIM.read_text()
    return text.replace("seed = 20061", f"seed = {seed}", 1)


def run_one(seed: int, part: str, work: Path, reuse: bool = False, reanalyse: bool = False) -> dict:
    folder = work / f"seed{seed}"
    if reuse and (folder / "report" / "summary.json").exists():
        return {"seed": seed, "wall_s": math.nan,
                "summary": json.loads((folder / "report" / "summary.json").read_text())}
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), QT_QPA_PLATFORM="offscreen")
    wall = math.nan
    if not (reanalyse and (folder / "data").is_dir()):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lab.toml").write_text(config_text(seed))
        (folder / "batch.toml").write_text(batch_text(part))
        t0 = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "kmor", "run", str(folder / "batch.toml"), "--config",
                              str(folder / "lab.toml"), "--data-dir", str(folder / "data")],
                             env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - t0
        if run.returncode != 0:
            return {"seed": seed, "error": run.stderr[-800:]}
    run_dir = next((folder / "data").iterdir())
    out = folder / "report"
    subprocess.run([sys.executable, "-m", "kmor", "analyze", str(run_dir), "--out", str(out)],
                   env=env, capture_output=True, text=True, check=True)
    summary = json.loads((out / "summary.json").read_text())
    return {"seed": seed, "wall_s": wall, "summary": summary}


def _find(d: object, *keys: str) -> object:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def zeeman_numbers(summary: dict) -> tuple[float, float] | None:
    """(DeltaB0, error) in uG of the D1 extrapolation, or None."""
    v = _find(summary, "zeeman", "D1", "delta_b0_uG")
    if isinstance(v, dict) and v.get("error"):
        return float(v["value"]), float(v["error"])
    return None


def report(results: list[dict], part: str) -> None:
    sim = tomllib.loads(SIM.read_text())["sim"]["physics"]
    truths = {"DeltaB0 (uG)": sim["nmor"]["intrinsic_width_uG"], "0-0 FWHM (Hz)": sim["rf"]["intrinsic_fwhm_hz"],
              "0-0 shift (Hz)": sim["rf"]["wall_shift_hz"]}
    rows: dict[str, list[tuple[int, float, float]]] = {k: [] for k in truths}
    for r in results:
        if "error" in r:
            print(f"seed {r['seed']}: run failed: {r['error']}")
            continue
        s = r["summary"]
        z = zeeman_numbers(s)
        if z:
            rows["DeltaB0 (uG)"].append((r["seed"], *z))
        hf = s.get("hyperfine") or {}
        # the input wall shift is compared with the measured shift less the second-order Zeeman shift
        for key, name in (("fwhm_hz", "0-0 FWHM (Hz)"), ("shift_without_quadratic_zeeman_hz", "0-0 shift (Hz)")):
            v = hf.get(key)
            if isinstance(v, dict) and v.get("error"):
                rows[name].append((r["seed"], float(v["value"]), float(v["error"])))
        print(f"seed {r['seed']}: wall {r['wall_s']:.0f} s")
    for name, values in rows.items():
        if not values:
            continue
        truth = truths[name]
        pulls = [(v - truth) / e for _, v, e in values if e > 0 and math.isfinite(e)]
        print(f"\n{name}: input {truth:g}")
        for seed, v, e in values:
            print(f"  seed {seed:>6d}: {v:8.3f} +- {e:6.3f}   pull {(v - truth) / e:+6.2f}")
        n = len(pulls)
        if n:
            rms = math.sqrt(sum(p * p for p in pulls) / n)
            mean_err = sum(e for _, _, e in values) / len(values)
            print(f"  n = {n}, mean error {mean_err:.3f}, rms pull {rms:.2f}, "
                  f"|pull| < 1: {sum(abs(p) < 1 for p in pulls)}/{n} (68 % expected), "
                  f"|pull| < 2: {sum(abs(p) < 2 for p in pulls)}/{n} (95 %)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="number of seeds (1, 2, ... N)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--part", choices=("zeeman", "rf", "all"), default="zeeman")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once")
    ap.add_argument("--work", default="/tmp/kmor-seed-coverage", help="folder for the runs and reports")
    ap.add_argument("--reuse", action="store_true", help="re-use the reports of seeds already run in --work")
    ap.add_argument("--reanalyse", action="store_true",
                    help="analyse again the runs already in --work (after a change to the analysis)")
    args = ap.parse_args()
    work = Path(args.work) / args.part
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda s: run_one(s, args.part, work, args.reuse, args.reanalyse), seeds))
    report(results, args.part)


if __name__ == "__main__":
    main()
