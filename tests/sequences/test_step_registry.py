"""Every step kind is one registry entry; a new kind ("hold") is one file in sequences/steps/."""

from __future__ import annotations

from pathlib import Path

import pytest

import kmor
from kmor.config.files import load_config
from kmor.config.loader import ConfigError
from kmor.sequences import steps
from kmor.sequences.batch import JOB_KINDS, STEP_KINDS, parse_batch_text
from kmor.sequences.queue import QueueState
from kmor.sequences.runner import run_batch

HOLD_BATCH = """
[batch]
name = "hold"

[[steps]]
kind = "laser"
settle_s = 0.1
piezo_pct = 47.5

[[steps]]
kind = "lock"

[[steps]]
kind = "hold"
duration_s = 30.0
check_every_s = 2.0
"""


def test_every_kind_has_one_entry_used_by_the_batch_module():
    kinds = steps.all_kinds()
    assert list(STEP_KINDS) == list(kinds)
    assert set(JOB_KINDS) == {name for name, k in kinds.items() if k.run is not None}
    for name, kind in kinds.items():
        assert STEP_KINDS[name] is kind.params
        assert kind.is_job != (kind.expand is not None)


def test_the_hold_kind_lives_in_its_own_file_only():
    root = Path(steps.__file__).resolve().parents[1]
    mentions = [p.relative_to(root) for p in root.rglob("*.py") if '"hold"' in p.read_text()]
    assert mentions == [Path("steps/hold.py")]


def test_a_hold_step_is_validated_estimated_and_warned_about():
    config = load_config().config
    batch = parse_batch_text(HOLD_BATCH, "hold.toml", config)
    hold = batch.jobs[-1]
    assert (hold.kind, hold.label, hold.estimate_s) == ("hold", "hold lock 30 s", 30.0)
    assert batch.warnings == []
    unlocked = parse_batch_text(HOLD_BATCH.replace('kind = "lock"', 'kind = "laser"'), "h.toml", config)
    assert any("(hold) runs with the laser unlocked" in w for w in unlocked.warnings)
    with pytest.raises(ConfigError, match=r"steps\[2\]\.duration_s"):
        parse_batch_text(HOLD_BATCH.replace("30.0", "-1.0"), "hold.toml", config)


def test_a_hold_step_runs_in_a_batch_with_the_lock_held(tmp_path):
    path = tmp_path / "hold.toml"
    path.write_text(HOLD_BATCH)
    result = run_batch(path, load_config(), data_dir=tmp_path)
    assert result.status == "complete", result.message
    job = QueueState.load(result.run_dir).jobs[-1]
    assert job["status"] == "done"
    assert job["result"]["held_s"] == pytest.approx(30.0, abs=0.5)
    assert job["result"]["locked"] is True


def test_a_hold_step_runs_in_a_lab_session(tmp_path):
    with kmor.connect(data_dir=tmp_path) as lab:
        lab.step("laser", settle_s=0.1, piezo_pct=47.5)
        lab.step("lock")
        t0 = lab.station.clock.now_s()
        result = lab.step("hold", duration_s=5.0)
        assert result["locked"] is True
        assert lab.station.clock.now_s() - t0 == pytest.approx(5.0, abs=0.5)
