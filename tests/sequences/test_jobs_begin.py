"""The runner announces each job to the station by its place in the queue (the same numbers after a
resume), with the lock servo's steps counted from the job's start, so the simulated lab re-seeds
per job and a resumed job repeats the uninterrupted run's measurement (decision 0104; the
analysed numbers: tests/analysis/test_interrupted_batch.py)."""

from __future__ import annotations

import numpy as np

from kmor.config.files import load_config
from kmor.sequences import events as ev
from kmor.sequences.runner import run_batch
from kmor.station import Station
from kmor.storage import read_scan
from small_batch import small_batch

BATCH = small_batch("jobs-begin", ("bscan_series", {
    "light_powers_uW": [3.0, 6.0], "field_range_uG": 8.0, "step_uG": 1.0, "averages": 2, "time_constant_s": 0.01,
    "sensitivity_V": 1e-3}))


def announced(monkeypatch) -> list[tuple[int, float]]:
    """(job number, lab time) of every begin_job, as the runner calls it."""
    calls: list[tuple[int, float]] = []
    begin = Station.begin_job

    def spy(station: Station, job_number: int, planned_start_s: float) -> None:
        calls.append((job_number, station.clock.now_s()))
        begin(station, job_number, planned_start_s)
    monkeypatch.setattr(Station, "begin_job", spy)
    return calls


def scan_columns(run_dir, power_uW):
    """x_V, x_err_V and time_s of the complete B scan at `power_uW`."""
    for path in sorted(run_dir.glob("*-bscan.h5")):
        scan = read_scan(path)
        if scan.status == "complete" and scan.parameters["light_power_uW"] == power_uW:
            return [np.asarray(scan.columns[c]) for c in ("x_V", "x_err_V", "time_s")]
    raise AssertionError(f"no complete {power_uW} uW scan in {run_dir}")


def test_jobs_are_announced_by_their_place_in_the_queue_also_after_a_resume(tmp_path, monkeypatch):
    calls = announced(monkeypatch)
    batch = tmp_path / "batch.toml"
    batch.write_text(BATCH)
    straight = run_batch(batch, load_config(), data_dir=tmp_path / "straight")
    assert straight.status == "complete"
    straight_calls = list(calls)
    assert [n for n, _ in straight_calls] == [0, 1, 2, 3]

    calls.clear()
    holder = {}
    seen: list[str] = []

    def stop_in_second_scan(event):
        if event.kind == ev.POINT:
            if event.scan not in seen:
                seen.append(event.scan)
            if len(seen) == 2 and event.index == 5:
                holder["engine"].abort("test")
    first = run_batch(batch, load_config(), data_dir=tmp_path / "resumed", subscribers=[stop_in_second_scan],
                      engine_ready=lambda e: holder.setdefault("engine", e))
    assert first.status == "aborted"
    assert run_batch(None, load_config(), resume_dir=first.run_dir).status == "complete"
    assert [n for n, _ in calls] == [0, 1, 2, 3, 3]
    x_straight, err, t_straight = scan_columns(straight.run_dir, 6.0)
    x_resumed, _, t_resumed = scan_columns(first.run_dir, 6.0)
    # the re-run job 3 takes its points at the same times from its start as the uninterrupted
    # run's job 3, and reads the same rotations (to the lock servo's carried-over state: 0104)
    np.testing.assert_allclose(t_resumed - calls[-1][1], t_straight - straight_calls[3][1], atol=1e-9)
    assert np.max(np.abs(x_resumed - x_straight)) <= 1e-3 * np.median(err)
