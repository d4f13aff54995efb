"""`kmor sim serve` runs as a process, answers pyvisa-py over TCP, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pyvisa

from kmor.config.files import default_config_bytes


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_sim_serve_over_pyvisa_py(tmp_path: Path):
    ports = free_ports(5)
    text = default_config_bytes().decode()
    head, _, _ = text.partition("[sim.ports]")
    names = ["rf_generator", "counter", "lockin_polarimeter", "lockin_reference", "laser"]
    config = tmp_path / "lab.toml"
    config.write_text(head + "[sim.ports]\n" + "".join(f"{n} = {p}\n" for n, p in zip(names, ports)))
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(7)]
        assert "Ctrl-C stops." in lines[-1], lines
        rm = pyvisa.ResourceManager("@py")
        rf = rm.open_resource(f"TCPIP::127.0.0.1::{ports[0]}::SOCKET", read_termination="\n", write_termination="\n",
                              timeout=5000)
        lockin = rm.open_resource(f"TCPIP::127.0.0.1::{ports[2]}::SOCKET", read_termination="\n",
                                  write_termination="\n", timeout=5000)
        assert rf.query("*IDN?").startswith("Hewlett-Packard,8647A")
        rf.write("FREQ:CW 461.7197 MHZ")
        assert float(rf.query("FREQ:CW?")) == 461_719_700.0
        lockin.write("OUTX 1")
        assert lockin.query("*IDN?").startswith("Stanford_Research_Systems,SR830")
        rf.close()
        lockin.close()
        rm.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
