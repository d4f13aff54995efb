"""The last hostile inputs found by the independent harness: each was a traceback or a hang, each
is now one clear error (or works), with nothing touched and no run folder left behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from rel_helpers import SMALL_BATCH

from kmor.config.files import load_config
from kmor.config.loader import ConfigError
from kmor.sequences.runner import check_batch, run_batch


def kmor(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kmor", *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(out: subprocess.CompletedProcess, *words: str) -> None:
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("kmor: error: ") and out.stderr.count("\n") == 1, out.stderr
    for word in words:
        assert word in out.stderr


def test_a_key_nested_a_thousand_levels_deep_is_a_config_error(tmp_path):
    deep = ".".join(["k"] * 1000)
    sequence = tmp_path / "deep.toml"
    sequence.write_text(SMALL_BATCH + f"\n[[steps]]\nkind = \"laser\"\n{deep} = 1\n")
    with pytest.raises(ConfigError, match=r"steps\[4\]\.k\.k.*nested 33 levels deep; at most 32"):
        check_batch(sequence, load_config())
    config = tmp_path / "deep-lab.toml"
    config.write_text(f"[{deep}]\nx = 1\n")
    with pytest.raises(ConfigError, match="nested 33 levels deep"):
        load_config(config)
    one_line_error(kmor("check", str(sequence)), "nested")


@pytest.mark.parametrize("name", ["", "///", " ", "é"])
def test_a_batch_name_that_cannot_name_a_folder_is_refused_by_check(tmp_path, name):
    sequence = tmp_path / "b.toml"
    sequence.write_text(SMALL_BATCH.replace('name = "reliability"', f'name = "{name}"'))
    with pytest.raises(ConfigError, match=r"batch\.name: .* at least one letter or digit"):
        check_batch(sequence, load_config())
    with pytest.raises(ConfigError):
        run_batch(sequence, load_config(), data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    sequence = tmp / "b.toml"
    sequence.write_text(SMALL_BATCH)
    return run_batch(sequence, load_config(), data_dir=tmp / "data").run_dir


def test_resume_with_a_queue_that_is_not_utf8_is_one_clear_error(tmp_path, finished_run):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    raw = (run / "queue.json").read_bytes()
    (run / "queue.json").write_bytes(raw[:40] + b"\xff\xfe" + raw[42:])
    out = kmor("run", "--resume", str(run))
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "queue.json: damaged: byte 40 is not UTF-8" in out.stderr


def test_resume_skips_a_journal_line_that_is_not_utf8_with_a_warning(tmp_path, finished_run, caplog):
    import shutil
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    with open(run / "queue.journal", "ab") as f:
        f.write(b'{"event": "job_started", "job": "\xff\xfe"}\n')
    result = run_batch(None, load_config(), resume_dir=run)
    assert result.status == "complete" and result.message == "nothing left to do"
    assert any("ignoring line" in r.message for r in caplog.records)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="file names that are not UTF-8 bytes")
def test_a_sequence_file_name_that_is_not_utf8_runs(tmp_path):
    name = os.fsdecode(b"seq-\xff.toml")
    (tmp_path / name).write_text(SMALL_BATCH)
    result = run_batch(tmp_path / name, load_config(), data_dir=tmp_path / "data")
    assert result.status == "complete"
    text = (result.run_dir / "queue.json").read_text(encoding="utf-8")
    assert "seq-\\\\xff.toml" in text   # shown with an escape, stored as UTF-8


def test_a_failure_before_anything_is_recorded_leaves_no_run_folder(tmp_path, monkeypatch):
    from kmor.sequences import queue

    def refuse(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(queue, "save_json_atomic", refuse)
    sequence = tmp_path / "b.toml"
    sequence.write_text(SMALL_BATCH)
    with pytest.raises(OSError):
        run_batch(sequence, load_config(), data_dir=tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_or_a_folder_is_refused_not_waited_on(tmp_path):
    pipe = tmp_path / "seq.toml"
    os.mkfifo(pipe)
    one_line_error(kmor("check", str(pipe), timeout=30), "is a named pipe, not a regular file")
    one_line_error(kmor("run", str(tmp_path / "seq.toml"), "--data-dir", str(tmp_path / "d"), timeout=30),
                   "named pipe")
    one_line_error(kmor("check", str(tmp_path / "b.toml"), "--config", str(pipe), timeout=30), "named pipe")
    one_line_error(kmor("check", str(tmp_path), timeout=30), "is a folder")
    assert not (tmp_path / "d").exists()


def grid(n_light: int, n_rf: int, extra: str = "") -> str:
    lights = ", ".join(f"{1 + 0.01 * i:.2f}" for i in range(n_light))
    levels = ", ".join(f"{-60 + 0.01 * i:.2f}" for i in range(n_rf))
    return (f'[batch]\nname = "grid"\n{extra}\n[[steps]]\nkind = "rf_grid"\nlight_powers_uW = [{lights}]\n'
            f"rf_powers_dBm = [{levels}]\n")


def test_a_batch_beyond_the_job_limit_is_refused_naming_the_limit(tmp_path):
    at_limit = tmp_path / "at.toml"
    at_limit.write_text(grid(100, 100))
    assert len(check_batch(at_limit, load_config()).jobs) == 10_000
    beyond = tmp_path / "beyond.toml"
    beyond.write_text(grid(100, 100, '[[steps]]\nkind = "laser"\n'))
    with pytest.raises(ConfigError, match=r"beyond\.toml: steps: the batch expands to 10001 jobs \(steps\[1\] "
                                          r"alone to 10000\); a batch may have at most 10000"):
        check_batch(beyond, load_config())
    with pytest.raises(ConfigError):
        run_batch(beyond, load_config(), data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()
