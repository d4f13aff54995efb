"""Notifications for the 3 a.m. pause: a POST to a local receiver (JSON webhook or ntfy-style
text), a command, the [notify] config table, and failures that never break the run."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from watch_helpers import config_with, write_batch

from kmor.config.files import load_config
from kmor.config.loader import ConfigError
from kmor.config.model import NotifySection
from kmor.sequences.notify import notify_run_end
from kmor.sequences.runner import run_batch


class Receiver:
    """A local HTTP server that records every POST (path, headers, body)."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        received = self.posts
        reply_status = status

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((self.path, dict(self.headers), body))
                self.send_response(reply_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kmor-lab"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_json_post_reaches_the_receiver(receiver, tmp_path):
    settings = NotifySection(url=receiver.url)
    assert notify_run_end(settings, "paused", "lock-in overload: X at 1 V", tmp_path / "run1") == []
    path, headers, body = receiver.posts[0]
    message = json.loads(body)
    assert path == "/kmor-lab" and headers["Content-Type"] == "application/json"
    assert message["status"] == "paused" and message["title"] == "kmor run paused"
    assert message["resume_command"] == f"kmor run --resume {tmp_path / 'run1'}"
    assert "lock-in overload" in message["message"] and "continue with" in message["message"]


def test_text_post_is_ntfy_style(receiver, tmp_path):
    settings = NotifySection(url=receiver.url, format="text", headers={"Authorization": "Bearer abc"})
    notify_run_end(settings, "complete", "", tmp_path / "run1")
    _, headers, body = receiver.posts[0]
    assert headers["Title"] == "kmor run finished" and headers["Authorization"] == "Bearer abc"
    assert body.decode() == "run1: complete"


def test_only_the_configured_endings_notify(receiver, tmp_path):
    settings = NotifySection(url=receiver.url, on=["paused"])
    notify_run_end(settings, "complete", "", tmp_path)
    assert receiver.posts == []


def test_command_gets_the_message_in_its_environment(tmp_path):
    out = tmp_path / "note.txt"
    script = f"import os; open({str(out)!r}, 'w').write(os.environ['KMOR_STATUS'] + '|' + os.environ['KMOR_MESSAGE'])"
    settings = NotifySection(command=[sys.executable, "-c", script])
    assert notify_run_end(settings, "failed", "RuntimeError: bug", tmp_path / "run1") == []
    assert out.read_text().startswith("failed|run1: failed: RuntimeError: bug")


def test_failures_are_reported_never_raised(tmp_path, caplog):
    dead = NotifySection(url="http://127.0.0.1:9/nothing-listens", timeout_s=2.0,
                         command=[str(tmp_path / "no-such-program")])
    failures = notify_run_end(dead, "paused", "x", tmp_path)
    assert len(failures) == 2
    assert any("could not POST" in r.message for r in caplog.records)
    bad_exit = NotifySection(command=[sys.executable, "-c", "import sys; sys.exit(3)"])
    assert "exited 3" in notify_run_end(bad_exit, "paused", "x", tmp_path)[0]


def test_notify_table_is_validated(tmp_path):
    good = load_config(config_with(tmp_path, extra='[notify]\nurl = "https://ntfy.sh/kmor"\nformat = "text"\n'))
    assert good.config.notify.url == "https://ntfy.sh/kmor" and good.config.notify.timeout_s == 10.0
    with pytest.raises(ConfigError, match=r"notify\.url.*not an http"):
        load_config(config_with(tmp_path, extra='[notify]\nurl = "ftp://x"\n'))
    with pytest.raises(ConfigError, match=r"notify\.on\[0\]"):
        load_config(config_with(tmp_path, extra='[notify]\non = ["sometimes"]\n'))


def test_a_paused_run_notifies_the_local_receiver(receiver, tmp_path):
    """The 3 a.m. case end to end: the disk fills up, the batch pauses, the message arrives."""
    loaded = load_config(config_with(tmp_path, extra=f'[notify]\nurl = "{receiver.url}"\n', disk_full_after=40))
    result = run_batch(write_batch(tmp_path), loaded, data_dir=tmp_path / "data")
    assert result.status == "paused"
    assert len(receiver.posts) == 1
    message = json.loads(receiver.posts[0][2])
    assert message["status"] == "paused" and "disk error" in message["message"]
    assert message["resume_command"] == f"kmor run --resume {result.run_dir}"
    status = json.loads((result.run_dir / "status.json").read_text())
    assert status["state"] == "paused" and status["reason"].startswith("disk error")
