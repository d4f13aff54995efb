"""kmor watch over HTTP: every endpoint on a real simulated run, the token on non-local addresses,
read-only methods, path traversal (../, %2e%2e, absolute paths, symlinks), a scan being written,
and a run folder that changes while it is read."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from watch_helpers import get, get_json, write_batch

from kmor.analysis import analyze
from kmor.config.files import load_config
from kmor.sequences import events as ev
from kmor.sequences.events import Event
from kmor.sequences.live_status import LiveStatus
from kmor.sequences.runner import run_batch
from kmor.watch import WatchServer


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder with one finished simulated run and its analysis report beside it."""
    base = tmp_path_factory.mktemp("watch")
    result = run_batch(write_batch(base), load_config(), data_dir=base / "data")
    assert result.status == "complete"
    analyze([result.run_dir], result.run_dir.parent / f"{result.run_dir.name}-report")
    (base / "secret.txt").write_text("outside the data folder")
    return base / "data"


@pytest.fixture
def server(data_dir):
    srv = WatchServer(data_dir, host="127.0.0.1", port=0)
    srv.start_background()
    yield srv
    srv.shutdown()
    srv.server_close()


def _base(srv: WatchServer) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def _run_id(data_dir: Path) -> str:
    return next(p.name for p in data_dir.iterdir() if p.is_dir() and not p.name.endswith("-report"))


def _raw_get(srv: WatchServer, path: str) -> tuple[int, bytes]:
    """GET a path exactly as written (no client-side normalisation of ../)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=10)
    conn.request("GET", path)
    reply = conn.getresponse()
    body = reply.read()
    conn.close()
    return reply.status, body


def test_page_and_static_files(server):
    status, headers, body = get(_base(server) + "/")
    assert status == 200 and b"kmor watch" in body and headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
    for name in ("watch.js", "watch.css", "uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"):
        status, _, body = get(_base(server) + f"/static/{name}")
        assert status == 200 and body, name
    assert get(_base(server) + "/static/nothing.js")[0] == 404


def test_runs_list(server, data_dir):
    status, data = get_json(_base(server) + "/api/runs")
    assert status == 200 and data["root"] == str(data_dir.resolve())
    assert [r["id"] for r in data["runs"]] == [_run_id(data_dir)]     # the report folder is not a run
    run = data["runs"][0]
    assert run["state"] == "complete" and run["n_scans"] == 3 and run["report"] is True and run["name"] == "watch-test"


def test_run_detail(server, data_dir):
    status, run = get_json(_base(server) + f"/api/runs/{_run_id(data_dir)}")
    assert status == 200
    st = run["status"]
    assert st["state"] == "complete" and st["step"] == 3 and st["n_steps"] == 4
    assert run["current_job"]["kind"] == "bscan" and run["current_job"]["params"]["light_power_uW"] == 10.0
    assert run["batch_file"].endswith("watch-test.toml") and run["config_source"]
    assert any("run ended: complete" in line for line in run["log_tail"])
    assert [s["file"] for s in run["scans"]] == ["00001-lockpoint.h5", "00002-bscan.h5", "00003-bscan.h5"]
    assert all(s["closed"] for s in run["scans"])
    report = run["report"]
    names = {n["name"] for n in report["numbers"]}
    assert any("width" in n for n in names) and report["figures"] and "Zeeman" in report["report_md"]


def test_live_scan_and_fit(server, data_dir):
    status, live = get_json(_base(server) + f"/api/runs/{_run_id(data_dir)}/live")
    assert status == 200 and live["scan"]["scan"] == "00003-bscan.h5" and live["scan"]["n_points"] == 242
    fit = live["fit"]
    assert fit["ok"] and fit["units"] == "uG" and 2.0 < fit["width"] < 100.0 and abs(fit["center"]) < 10.0
    assert len(fit["curve_x"]) == len(fit["curve_y"]) == 200


def test_closed_scan_data_and_fit(server, data_dir):
    status, scan = get_json(_base(server) + f"/api/runs/{_run_id(data_dir)}/scans/00002-bscan.h5")
    assert status == 200 and scan["kind"] == "bscan" and scan["status"] == "complete" and scan["n_points"] == 242
    assert len(scan["columns"]["x_V"]) <= 400 and scan["units"]["x_V"] == "V"
    assert scan["fit"]["ok"] and scan["fit"]["width"] > 0
    assert get(_base(server) + f"/api/runs/{_run_id(data_dir)}/scans/00009-bscan.h5")[0] == 404


def test_report_figure(server, data_dir):
    _, run = get_json(_base(server) + f"/api/runs/{_run_id(data_dir)}")
    figure = next(iter(run["report"]["figures"].values()))
    status, headers, body = get(_base(server) + "/files/" + figure)
    assert status == 200 and headers["Content-Type"] == "image/png" and body[:4] == b"\x89PNG"


def test_read_only(server):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = get(_base(server) + "/api/runs", method=method)
        assert status == 405 and headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", [
    "/files/../secret.txt",
    "/files/%2e%2e/secret.txt",
    "/files/%2E%2E/%2e%2e/etc/passwd",
    "/files/..%2fsecret.txt",
    "/files//etc/passwd",
    "/files/%2fetc%2fpasswd",
    "/files/x/..%5c..%5csecret.txt",
    "/api/runs/..",
    "/api/runs/%2e%2e",
    "/api/runs/.hidden",
    "/api/runs/RUN/scans/..%2f..%2fsecret.txt",
    "/static/../../secret.txt",
    "/static/%2e%2e%2fserver.py",
])
def test_traversal_is_refused(server, data_dir, path):
    status, body = _raw_get(server, path.replace("RUN", _run_id(data_dir)))
    assert status in (400, 403, 404), (path, status)
    assert b"outside the data folder" not in body and b"root:" not in body


def test_only_report_files_are_served(server, data_dir):
    run = _run_id(data_dir)
    for name in ("queue.json", "run.log"):   # texts inside the data folder: allowed
        assert get(_base(server) + f"/files/{run}/{name}")[0] == 200
    assert get(_base(server) + f"/files/{run}/00002-bscan.h5")[0] == 403
    assert get(_base(server) + f"/files/{run}")[0] == 403


def test_symlinks_out_of_the_folder_are_refused(server, data_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.json").write_text('{"secret": 1}')
    (outside / "queue.json").write_text("{}")
    run = _run_id(data_dir)
    link_file = data_dir / run / "leak.json"
    link_dir = data_dir / "20990101-000000-linked"
    os.symlink(outside / "secret.json", link_file)
    os.symlink(outside, link_dir)
    try:
        assert get(_base(server) + f"/files/{run}/leak.json")[0] == 403
        assert get(_base(server) + "/files/20990101-000000-linked/secret.json")[0] == 403
        assert get(_base(server) + "/api/runs/20990101-000000-linked")[0] == 403
        assert "20990101-000000-linked" not in [r["id"] for r in get_json(_base(server) + "/api/runs")[1]["runs"]]
    finally:
        link_file.unlink()
        link_dir.unlink()


def test_a_non_local_address_requires_the_token(data_dir):
    srv = WatchServer(data_dir, host="0.0.0.0", port=0)
    srv.start_background()
    try:
        assert srv.token and len(srv.token) >= 32 and f"?token={srv.token}" in srv.url
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        for path in ("/", "/api/runs", "/static/watch.js", f"/api/runs/{_run_id(data_dir)}/live"):
            assert get(base + path)[0] == 401, path
            assert get(base + path + "?token=wrong")[0] == 401
            assert get(base + path, {"Authorization": "Bearer " + srv.token[:-1]})[0] == 401
        assert get(base + "/api/runs", {"Authorization": f"Bearer {srv.token}"})[0] == 200
        status, headers, _ = get(base + f"/?token={srv.token}")
        assert status == 200 and "HttpOnly" in headers["Set-Cookie"]
        cookie = headers["Set-Cookie"].split(";")[0]
        assert get(base + "/api/runs", {"Cookie": cookie})[0] == 200       # what the page's fetches send
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_configured_token_is_checked_on_loopback_too(data_dir):
    srv = WatchServer(data_dir, host="127.0.0.1", port=0, token="lab-token-123")
    srv.start_background()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        assert get(base + "/api/runs")[0] == 401
        assert get(base + "/api/runs?token=lab-token-123")[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_scan_being_written_is_not_opened(server, data_dir):
    """A live run's current scan is read from live-scan.json, never from its HDF5 file."""
    run = data_dir / _run_id(data_dir)
    live_copy = data_dir / "20990202-000000-live"
    shutil.copytree(run, live_copy)
    status = json.loads((live_copy / "status.json").read_text())
    status.update(state="running", scans_closed=status["scans_closed"][:2])
    (live_copy / "status.json").write_text(json.dumps(status))
    try:
        _, detail = get_json(_base(server) + f"/api/runs/{live_copy.name}")
        assert detail["status"]["state"] == "running"
        assert [s["closed"] for s in detail["scans"]] == [True, True, False]
        status_code, body = get_json(_base(server) + f"/api/runs/{live_copy.name}/scans/00003-bscan.h5")
        assert status_code == 409 and "live view" in body["error"]
    finally:
        shutil.rmtree(live_copy)


def test_a_dead_run_process_shows_as_interrupted(server, data_dir):
    run = data_dir / _run_id(data_dir)
    dead = data_dir / "20990303-000000-dead"
    shutil.copytree(run, dead)
    status = json.loads((dead / "status.json").read_text())
    status.update(state="running", pid=2**22 + 12345)       # no such process
    (dead / "status.json").write_text(json.dumps(status))
    try:
        _, detail = get_json(_base(server) + f"/api/runs/{dead.name}")
        assert detail["status"]["state"] == "interrupted"
        assert detail["status"]["resume_command"].startswith("kmor run --resume")
    finally:
        shutil.rmtree(dead)


def test_a_run_folder_that_changes_while_read(server, data_dir):
    """A publisher rewrites status.json and live-scan.json as fast as it can while clients poll:
    every reply is complete JSON (never a half-written file) and the points only grow."""
    run = data_dir / "20990404-000000-changing"
    run.mkdir()
    engine = type("E", (), {})()
    from kmor.sequences.events import EventBus
    engine.bus, engine.servo, engine.progress = EventBus(), None, {}
    live = LiveStatus.attach(engine, run, name="changing", interval_s=0.0)
    stop = threading.Event()

    def publish() -> None:
        engine.bus.publish(Event(ev.SCAN_STARTED, 0.0, scan=str(run / "00001-bscan.h5"), total=10**6))
        i = 0
        while not stop.is_set():
            engine.bus.publish(Event(ev.POINT, float(i), scan=str(run / "00001-bscan.h5"), index=i, total=10**6,
                                     row={"field_uG": float(i % 50), "x_V": 1e-3 * (i % 7), "sweep": "up"}))
            i += 1
            time.sleep(0.0002)

    thread = threading.Thread(target=publish)
    thread.start()
    seen: list[int] = []
    errors: list[str] = []

    def poll() -> None:
        for _ in range(40):
            status, body = get_json(_base(server) + f"/api/runs/{run.name}/live")
            if status != 200:
                errors.append(str(body))
            elif body["scan"] is not None:
                seen.append(body["scan"]["n_points"])
            status, _ = get_json(_base(server) + f"/api/runs/{run.name}")
            if status != 200:
                errors.append("detail")

    try:
        pollers = [threading.Thread(target=poll) for _ in range(4)]
        for p in pollers:
            p.start()
        for p in pollers:
            p.join()
    finally:
        stop.set()
        thread.join()
        live.finish("complete")
        shutil.rmtree(run)
    assert errors == []
    assert len(seen) > 100 and max(seen) > min(seen)
