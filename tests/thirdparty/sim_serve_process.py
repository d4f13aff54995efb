"""`kmor sim serve` as a separate process for other people's drivers (PyMeasure, QCoDeS) to drive
through pyvisa-py over TCP, exactly as a user would outside kmor."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmor.config.files import default_config_bytes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config_with_free_ports(path: Path) -> dict[str, int]:
    """The default lab with every port of [sim.ports] moved to a free one; name -> port."""
    text = default_config_bytes().decode()
    head, _, rest = text.partition("[sim.ports]")
    section, sep, tail = rest.partition("\n[")
    ports: dict[str, int] = {}

    def renumber(match: re.Match[str]) -> str:
        ports[match.group(1)] = _free_port()
        return f"{match.group(1)} = {ports[match.group(1)]}"
    section = re.sub(r"^(\w+)\s*=\s*\d+", renumber, section, flags=re.MULTILINE)
    path.write_text(head + "[sim.ports]" + section + sep + tail)
    return ports


@pytest.fixture(scope="module")
def sim_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """A running `kmor sim serve`; yields the TCP port of each instrument role."""
    config = tmp_path_factory.mktemp("serve") / "lab.toml"
    ports = _config_with_free_ports(config)
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(40):
            line = proc.stdout.readline() if proc.stdout else ""
            if not line or "Ctrl-C stops." in line:
                break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        yield ports
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err


def resource(port: int) -> str:
    return f"TCPIP::127.0.0.1::{port}::SOCKET"
