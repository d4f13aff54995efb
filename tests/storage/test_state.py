"""The engine's queue/resume state: saved atomically, read back exactly, errors name the file."""

from __future__ import annotations

import os

import pytest

from kmor.storage import StorageError, load_json, save_json_atomic

QUEUE = {"version": 1, "paused": False, "items": [{"sequence": "bscan", "power_uW": p, "done": False}
                                                  for p in (2.0, 5.5, 115.0)], "current": None}


def test_round_trip_and_replace(tmp_path):
    path = tmp_path / "queue.json"
    save_json_atomic(path, QUEUE)
    assert load_json(path) == QUEUE
    QUEUE2 = {**QUEUE, "current": 1}
    save_json_atomic(path, QUEUE2)
    assert load_json(path) == QUEUE2
    assert [p.name for p in tmp_path.iterdir()] == ["queue.json"]


def test_failed_save_keeps_the_old_content_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "queue.json"
    save_json_atomic(path, QUEUE)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(StorageError, match="No space left") as info:
        save_json_atomic(path, {"items": []})
    assert info.value.path == path
    monkeypatch.undo()
    assert load_json(path) == QUEUE
    assert [p.name for p in tmp_path.iterdir()] == ["queue.json"]


def test_missing_and_corrupt_files(tmp_path):
    assert load_json(tmp_path / "none.json", default=None) is None
    assert load_json(tmp_path / "none.json", default={"items": []}) == {"items": []}
    with pytest.raises(StorageError, match="no such state file"):
        load_json(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"items": [1, 2,\n')
    with pytest.raises(StorageError, match=r"bad.json: not valid JSON \(line 2"):
        load_json(bad)


def test_unwritable_folder(tmp_path):
    with pytest.raises(StorageError, match="could not save state"):
        save_json_atomic(tmp_path / "missing" / "q.json", QUEUE)
