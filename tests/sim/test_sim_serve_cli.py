"""`kmor sim serve` runs as a process, answers pyvisa-py over TCP, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
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


def test_sim_serve_serves_the_coil_current_sources_too(tmp_path: Path):
    text = (Path(__file__).resolve().parents[2] / "config" / "sim-keithley.toml").read_text()
    names = ["rf_generator", "counter", "lockin_polarimeter", "lockin_reference", "laser", "bx", "by", "bz",
             "dbz_dz", "gxy"]
    ports = free_ports(len(names))
    for name, port in zip(names, ports):
        text = re.sub(rf"^{name} = \d+", f"{name} = {port}", text, flags=re.MULTILINE)
    config = tmp_path / "lab.toml"
    config.write_text(text)
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(12)]
        assert "Ctrl-C stops." in lines[-1], lines
        assert lines[8].split() == ["Keithley", "6221", "(coil", "bz)", f"TCPIP::127.0.0.1::{ports[7]}::SOCKET"]
        rm = pyvisa.ResourceManager("@py")
        bz = rm.open_resource(f"TCPIP::127.0.0.1::{ports[7]}::SOCKET", read_termination="\n",
                              write_termination="\n", timeout=5000)
        assert "MODEL 6221" in bz.query("*IDN?")
        bz.write("SOUR:CURR 1E-3;:OUTP ON")
        assert float(bz.query("SOUR:CURR?")) == 1e-3 and bz.query("SYST:ERR?") == '0,"No error"'
        bz.close()
        rm.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_two_served_instruments_on_one_port_is_a_config_error(tmp_path: Path):
    text = (Path(__file__).resolve().parents[2] / "config" / "sim-keithley.toml").read_text()
    config = tmp_path / "lab.toml"
    config.write_text(re.sub(r"^by = \d+", "by = 50830", text, flags=re.MULTILINE))
    done = subprocess.run([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    message = (done.stdout + done.stderr).strip()
    assert "sim.ports.by" in message and "50830" in message and "lockin_polarimeter" in message


def test_a_port_of_a_coil_not_on_a_current_source_may_repeat(tmp_path: Path):
    from kmor.config.files import load_config

    text = default_config_bytes().decode()
    config = tmp_path / "lab.toml"
    config.write_text(re.sub(r"^bx = \d+", "bx = 50830", text, flags=re.MULTILINE))
    assert load_config(config).config.sim.ports.bx == 50830
