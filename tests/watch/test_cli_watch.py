"""`kmor watch` and `kmor run --watch` as a user starts them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from watch_helpers import config_with, get_json, write_batch

from kmor.cli import main

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _ctrl_c_as_in_a_terminal() -> None:
    """The child gets Ctrl-C as a terminal would deliver it, even when the tests themselves run as
    a background job of a script (which starts with SIGINT ignored, and a child inherits that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _url_from(proc: subprocess.Popen, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"kmor watch: .* at (http://\S+)", line)
        if m:
            return m.group(1)
        if not line and proc.poll() is not None:
            break
    raise AssertionError("kmor watch printed no URL")


def test_watch_a_missing_folder_is_one_line(tmp_path, capsys):
    assert main(["watch", str(tmp_path / "nope"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such folder" in err


def test_watch_a_bad_port_is_one_line(tmp_path, capsys):
    assert main(["watch", str(tmp_path), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


def test_kmor_watch_serves_a_run_folder_until_interrupted(tmp_path):
    data = tmp_path / "data"
    run = data / "20260101-000000-x"
    run.mkdir(parents=True)
    (run / "queue.json").write_text(json.dumps({"format": "kmor-queue", "name": "x", "jobs": []}))
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "watch", str(run), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        url = _url_from(proc)
        assert url.startswith("http://127.0.0.1:") and url.endswith("#/run/20260101-000000-x")
        base = url.split("/#")[0].rstrip("/")
        status, runs = get_json(base + "/api/runs")
        assert status == 200 and runs["default_run"] == "20260101-000000-x"
        assert runs["root"] == str(data.resolve())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_watch_on_all_addresses_prints_a_token(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "watch", str(tmp_path), "--host", "0.0.0.0", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        url = _url_from(proc)
        token = re.search(r"\?token=([A-Za-z0-9_-]{32,})", url).group(1)
        port = re.search(r":(\d+)/", url).group(1)
        base = f"http://127.0.0.1:{port}"
        assert get_json(base + "/api/runs")[0] == 401
        assert get_json(base + f"/api/runs?token={token}")[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_run_with_watch_starts_and_stops_the_page(tmp_path):
    config = config_with(tmp_path, speed=20.0, extra='[watch]\nport = 0\n')   # ~13 s
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "run", str(write_batch(tmp_path)), "--config", str(config),
                             "--data-dir", str(tmp_path / "data"), "--watch"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    url = _url_from(proc)
    base = url.split("?")[0].split("#")[0].rstrip("/")
    seen_running = False
    while proc.poll() is None:
        try:
            with urllib.request.urlopen(base + "/api/runs", timeout=5) as reply:
                runs = json.loads(reply.read())["runs"]
            seen_running |= any(r["state"] == "running" for r in runs)
        except OSError:
            pass
        time.sleep(0.2)
    out = proc.stdout.read()
    assert proc.returncode == 0 and "complete:" in out
    assert seen_running, "the page saw the run while it ran"
    time.sleep(0.5)
    try:
        urllib.request.urlopen(base + "/api/runs", timeout=2)
        raise AssertionError("the page outlived the run")
    except OSError:
        pass
