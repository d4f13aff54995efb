"""A batch interrupted mid-scan (Ctrl-C = SIGINT, or SIGKILL) and resumed is analysed as if it had
never been interrupted: the partial scan is listed as superseded and never fitted, the scans used
are one per job, the same jobs as an uninterrupted run, every extrapolated number is exactly what
the completing scans alone give, and equals the uninterrupted run's (same seed, same jobs).

The simulated lab re-seeds every random stream from (seed, job number) as each job begins
(decision 0104), so the re-run job repeats the uninterrupted run's measurement of that job. Not
to the last bit: the laser lock's servo carries its state into the job (its integrator holds the
laser's drift so far; resetting it would kick the lock), and the difference between the two
runs' states ends below the lock-error input's 16-bit resolution, where the servo no longer sees
it. It moves the laser by a sliver of the lock's own jitter and flips the last digit of a few
lock-in readings: the numbers agree to a few millionths of their errors (in-process runs of this
batch, seeds 1-4 and the default: at most 3e-5 of the error), asserted here to a thousandth.
Without a lock, on a laser that does not drift, they are identical to the last bit."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kmor.analysis import analyze
from kmor.config.files import load_config
from kmor.sequences.runner import run_batch
from small_batch import small_batch

CHILD = Path(__file__).resolve().parents[1] / "sequences" / "batch_child.py"
BATCH = small_batch("interrupt-analysis", ("bscan_series", {
    "light_powers_uW": [3.0, 6.0, 9.0], "field_range_uG": 24.0, "step_uG": 1.0, "averages": 3,
    "time_constant_s": 0.01}))


# (include_mismatched: this test is about which scans count, not about their fit quality; the small
# batch does not null the transverse field, so its narrow curves are not quite dispersive)


def used_jobs(summary) -> list[tuple[str, float]]:
    """(kind, nominal light power) of every scan that entered an extrapolation, sorted."""
    powers = {b.file: b.nominal_power_uW for b in summary.zeeman["D1"].scans}
    return sorted((s.kind, powers[s.file]) for s in summary.scans if s.outcome == "used")


def numbers(summary) -> dict[str, object]:
    """Every extrapolated number of the Zeeman result, and each used scan's width."""
    z = summary.document["zeeman"]["D1"]
    return {"delta_b0": z["delta_b0_uG"], "slope": z["slope_uG_per_uW"], "chi2_red": z["chi2_red"],
            "n_points": z["n_points"], "gamma": z["gamma_hz"], "widths": [p["width_uG"] for p in z["points"] if p["used_in_extrapolation"]]}


def assert_same_numbers(ours: dict, theirs: dict) -> None:
    """Every number of `ours` equals that of `theirs` to a thousandth of its error (an error to a
    thousandth of itself; chi2_red to a thousandth of its spread sqrt(2/dof)): see the module doc
    for why not exactly."""
    pairs = [(ours[k], theirs[k]) for k in ("delta_b0", "slope", "gamma")]
    assert len(ours["widths"]) == len(theirs["widths"])
    pairs += list(zip(ours["widths"], theirs["widths"]))
    for a, b in pairs:
        assert abs(a["value"] - b["value"]) <= 1e-3 * b["error"], (a, b)
        assert a["error"] == pytest.approx(b["error"], rel=1e-3), (a, b)
    assert ours["n_points"] == theirs["n_points"]
    dof = theirs["n_points"] - 2
    assert abs(ours["chi2_red"] - theirs["chi2_red"]) <= 1e-3 * math.sqrt(2 / dof)


def interrupt(tmp_path: Path, batch: Path, how: signal.Signals) -> tuple[Path, str]:
    """Run the batch in a child process, interrupt it at point 60 of its second B scan (past
    its down sweep, so the partial scan could be fitted); returns
    the run folder and the name of the partial scan."""
    child = subprocess.Popen([sys.executable, str(CHILD), str(batch), str(tmp_path / how.name), "2:60"],
                             stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True, cwd=tmp_path,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen: list[str] = []
    for line in child.stdout:
        if not line.startswith("point"):
            continue
        _, scan, index = line.split()
        if scan not in seen:
            seen.append(scan)
        if len(seen) == 2 and int(index) == 60:
            child.send_signal(how)      # while the child holds after acknowledging point 60
            break
    child.stdin.close()                 # a SIGINT child then aborts at its next point
    child.stdout.read()
    child.wait(60)
    (run_dir,) = (tmp_path / how.name).iterdir()
    return run_dir, Path(seen[1]).name


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    batch = tmp / "batch.toml"
    batch.write_text(BATCH)
    run = run_batch(batch, load_config(), data_dir=tmp / "data")
    assert run.status == "complete"
    return batch, analyze([run.run_dir], tmp / "report", figures=False, include_mismatched=True)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_and_resumed_batch_counts_each_job_once(tmp_path, reference, how):
    batch, expected = reference
    run_dir, partial = interrupt(tmp_path, batch, how)
    before = analyze([run_dir], tmp_path / "before-resume", figures=False)
    (rec,) = [s for s in before.scans if Path(s.file).name == partial]
    assert rec.outcome == "aborted" and "did not complete" in rec.reason

    assert run_batch(None, load_config(), resume_dir=run_dir).status == "complete"
    summary = analyze([run_dir], tmp_path / "report", figures=False, include_mismatched=True)
    (rec,) = [s for s in summary.scans if Path(s.file).name == partial]
    assert rec.outcome == "superseded" and "ran again" in rec.reason
    assert all(Path(b.file).name != partial for b in summary.zeeman["D1"].scans)   # never fitted
    assert used_jobs(summary) == used_jobs(expected) == [("bscan", 3.0), ("bscan", 6.0), ("bscan", 9.0)]

    # the completing scans alone (copied without the queue) give exactly the same numbers
    alone = tmp_path / "alone"
    alone.mkdir()
    for s in summary.scans:
        if s.outcome == "used":
            shutil.copy2(s.file, alone / Path(s.file).name)
    assert numbers(summary) == numbers(analyze([alone], tmp_path / "report-alone", figures=False,
                                                    include_mismatched=True))
    # while the same files without the journal count the partial scan too (what the journal prevents)
    everything = tmp_path / "everything"
    everything.mkdir()
    for path in run_dir.glob("*.h5"):
        shutil.copy2(path, everything / path.name)
    blind = analyze([everything], tmp_path / "report-blind", figures=False, include_mismatched=True)
    assert len(used_jobs(blind)) == 4 and numbers(blind) != numbers(summary)
    # the re-run job repeats the uninterrupted run's measurement (the lab re-seeds per job):
    # every number equals the uninterrupted run's, to the lock servo's carried-over state
    assert_same_numbers(numbers(summary), numbers(expected))
