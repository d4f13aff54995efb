"""Whole batches on the simulated lab with faults from [sim.faults]: transient faults leave a
complete batch whose files record each suspension; persistent faults pause the batch (never a
crash) with a message naming instrument and command, the apparatus safe, and `--resume`
finishes it with the same scans as an uninterrupted run; a full disk stops it with every
acknowledged point intact."""

from __future__ import annotations

import h5py
import pytest
from rel_helpers import SMALL_BATCH, complete_scans, config_with, is_safe

from kmor.config.files import load_config
from kmor.sequences.queue import QueueState
from kmor.sequences.runner import run_batch
from kmor.station import build_station
from kmor.storage import list_scans, read_scan


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The small batch without faults: its complete scans."""
    tmp = tmp_path_factory.mktemp("reference")
    (tmp / "b.toml").write_text(SMALL_BATCH)
    result = run_batch(tmp / "b.toml", load_config(), data_dir=tmp / "data")
    assert result.status == "complete"
    return complete_scans(result.run_dir)


def run_with(tmp_path, faults, **kw):
    batch = tmp_path / "b.toml"
    batch.write_text(SMALL_BATCH)
    loaded = config_with(tmp_path, faults)
    station = build_station(loaded)
    try:
        result = run_batch(batch, loaded, data_dir=tmp_path / "data", station=station, **kw)
    finally:
        station.close()
    return result, station


def suspensions(run_dir):
    return [s.reason for path in list_scans(run_dir) for s in read_scan(path).suspensions]


def test_a_timeout_once_is_retried_and_the_batch_completes(tmp_path, reference):
    result, _ = run_with(tmp_path, {"sim.faults.io": {"enabled": True, "instrument": "lockin_polarimeter",
                                                      "at_s": 3.0, "count": 1}})
    assert result.status == "complete"
    assert complete_scans(result.run_dir) == reference
    assert "retry 1 of 2" in (result.run_dir / "run.log").read_text()


@pytest.mark.parametrize("kind", ["timeout", "garbled", "empty", "disconnect"])
def test_an_io_fault_outlasting_the_driver_retries_retakes_the_point(tmp_path, reference, kind):
    # three replies hit: the driver gives up, the engine suspends, measures the point again
    result, _ = run_with(tmp_path, {"sim.faults.io": {"enabled": True, "instrument": "lockin_polarimeter",
                                                      "kind": kind, "at_s": 3.0, "count": 3}})
    assert result.status == "complete"
    assert complete_scans(result.run_dir) == reference
    assert len(suspensions(result.run_dir)) == 1


def test_a_persistent_fault_pauses_safely_and_resume_finishes_the_batch(tmp_path, reference):
    result, station = run_with(tmp_path, {"sim.faults.io": {
        "enabled": True, "instrument": "lockin_polarimeter", "kind": "timeout", "at_s": 3.0,
        "count": 0, "for_s": 1e6}})
    assert result.status == "paused"
    assert "SR830" in result.message and "GPIB0::8::INSTR" in result.message and "no reply to" in result.message
    assert is_safe(station.sim)
    queue = QueueState.load(result.run_dir)
    assert "paused" in [j["status"] for j in queue.jobs] and queue.data["status"] == "paused"
    # the fault cleared (the default config has none): resume finishes with the same scans
    resumed = run_batch(None, load_config(), resume_dir=result.run_dir)
    assert resumed.status == "complete"
    assert complete_scans(result.run_dir) == reference


def test_a_mode_hop_is_a_suspension_recorded_in_the_file(tmp_path, reference):
    result, _ = run_with(tmp_path, {"sim.faults.mode_hop": {"enabled": True, "at_s": 3.0}})
    assert result.status == "complete"
    assert [s for s in complete_scans(result.run_dir)] == reference
    assert any("laser lock lost" in reason for reason in suspensions(result.run_dir))


def test_a_missing_counter_reference_is_waited_out_and_recorded(tmp_path, reference):
    result, _ = run_with(tmp_path, {"sim.faults.reference": {"enabled": True, "at_s": 13.0, "for_s": 2.0}})
    assert result.status == "complete"
    assert complete_scans(result.run_dir) == reference
    assert any("counter reference missing" in reason for reason in suspensions(result.run_dir))


def test_a_lockin_overload_is_retaken_and_recorded(tmp_path, reference):
    result, _ = run_with(tmp_path, {"sim.faults.overload": {"enabled": True, "at_s": 3.0, "for_s": 1.0}})
    assert result.status == "complete"
    assert complete_scans(result.run_dir) == reference
    assert any("lock-in overload" in reason for reason in suspensions(result.run_dir))


def test_a_full_disk_stops_the_batch_with_every_acknowledged_point_intact(tmp_path, reference):
    acked = []
    result, station = run_with(tmp_path, {"sim.faults.disk": {"enabled": True, "after_points": 30}},
                               subscribers=[lambda e: acked.append(e.scan) if e.kind == "point" else None])
    assert result.status == "paused" and "No space left on device" in result.message
    assert result.message.startswith("disk error")
    assert is_safe(station.sim) and len(acked) == 30
    for path in list_scans(result.run_dir):
        with h5py.File(path, "r") as f:            # plain h5py opens every file
            n = int(f.attrs["n_points"])
        assert n == acked.count(str(path))
    resumed = run_batch(None, load_config(), resume_dir=result.run_dir)
    assert resumed.status == "complete" and complete_scans(result.run_dir) == reference
