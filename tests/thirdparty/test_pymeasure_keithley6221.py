"""PyMeasure's Keithley6221, unmodified, through pyvisa-py against `kmor sim serve --config
config/sim-keithley.toml`: construct, reset, every property set and read back, every method, and
the error queue empty at the end; what the simulated lab lacks (a 2182A for delta mode) is refused
with the instrument's own errors. Setting a current moves the simulated field, and the PyMeasure
script of docs/third-party-clients.md runs and shows the NMOR resonance."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pymeasure")
from pymeasure.instruments.keithley import Keithley6221
from pyvisa.errors import VisaIOError

from kmor.config.files import load_config
from kmor.sim.lab import SimLab, emulators_by_port
from kmor.sim.server import serve

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "sim-keithley.toml"
PORT_KEYS = ("rf_generator", "counter", "lockin_polarimeter", "lockin_reference", "laser",
             "bx", "by", "bz", "dbz_dz", "gxy")

#: property -> a value different from its *RST value (read back as set).
PROPERTIES = {
    "source_enabled": True, "shield_to_guard_enabled": True, "source_delay": 0.5,
    "output_low_grounded": True, "source_current": 0.01, "source_compliance": 20.0,
    "source_range": 0.02, "source_auto_range": True,
    "delta_unit": "Ohms", "delta_high_source": 0.002, "delta_low_source": -0.001, "delta_delay": 0.01,
    "delta_cycles": 10, "delta_measurement_sets": 5, "delta_compliance_abort_enabled": True,
    "delta_cold_switch_enabled": True, "delta_buffer_points": 100,
    "waveform_function": "square", "waveform_frequency": 347.0, "waveform_amplitude": 0.05,
    "waveform_offset": 0.001, "waveform_dutycycle": 25.0, "waveform_duration_time": 10.0,
    "waveform_duration_cycles": 100.0, "waveform_ranging": "fixed", "waveform_use_phasemarker": True,
    "waveform_phasemarker_phase": 45.0, "waveform_phasemarker_line": 4, "display_enabled": False,
    "measurement_event_enabled": 512, "operation_event_enabled": 128, "questionable_event_enabled": 8,
    "srq_event_enabled": 1, "buffer_points": 64,
}


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def config_on_free_ports(directory: Path) -> tuple[Path, dict[str, int]]:
    """config/sim-keithley.toml with every [sim.ports] entry moved to a free port."""
    ports = dict(zip(PORT_KEYS, free_ports(len(PORT_KEYS))))
    text = CONFIG.read_text()
    for key, port in ports.items():
        text, n = re.subn(rf"^{key} = \d+", f"{key} = {port}", text, flags=re.MULTILINE)
        assert n == 1, key
    path = directory / "sim-keithley.toml"
    path.write_text(text)
    return path, ports


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """`kmor sim serve` of the Keithley lab in a subprocess; yields [sim.ports] key -> port."""
    config, ports = config_on_free_ports(tmp_path_factory.mktemp("serve"))
    proc = subprocess.Popen([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(12)]
        assert "Ctrl-C stops." in lines[-1], lines
        yield ports
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in err, err


def open_source(port: int) -> Keithley6221:
    return Keithley6221(f"TCPIP::127.0.0.1::{port}::SOCKET", visa_library="@py",
                        read_termination="\n", write_termination="\n", timeout=1500)


@pytest.fixture
def source(served: dict[str, int]) -> Iterator[Keithley6221]:
    instrument = open_source(served["bz"])
    instrument.reset()
    yield instrument
    instrument.adapter.close()


def test_serve_lists_every_coil_source(served):
    for key in ("bx", "by", "bz", "dbz_dz", "gxy"):
        instrument = open_source(served[key])
        assert "MODEL 6221" in instrument.id
        instrument.adapter.close()


def test_construct_and_reset_leave_no_error(source):
    assert source.id.startswith("KEITHLEY INSTRUMENTS INC.,MODEL 6221")
    source.source_current = 0.02
    source.reset()
    assert source.check_errors() == []
    assert source.source_current == 0.0 and source.source_enabled is False
    assert source.options == "0" and source.complete == "1"


@pytest.mark.parametrize("name, value", PROPERTIES.items())
def test_every_property_reads_back_what_was_set(source, name, value):
    setattr(source, name, value)
    assert getattr(source, name) == pytest.approx(value) if isinstance(value, float) else getattr(source, name) == value
    assert source.check_errors() == []


def test_methods_run_without_instrument_errors(source):
    source.define_arbitary_waveform([0.0, 0.5, 1.0, -1.0], location=2)
    assert source.waveform_function == "arbitrary2"
    source.waveform_amplitude = 0.01
    source.waveform_arm()
    source.waveform_start()
    source.waveform_abort()
    source.waveform_duration_set_infinity()
    source.beep(1000, 0.01)
    source.triad(440, 0.01)
    source.trigger_immediately()
    source.set_timed_arm(0.5)
    source.trigger_on_external(line=2)
    source.output_trigger_on_external(line=3)
    source.disable_output_trigger()
    source.enable_source()
    source.disable_source()
    source.config_buffer(points=10)
    source.reset_buffer()
    source.stop_buffer()
    source.disable_buffer()
    source.delta_abort()
    assert source.is_buffer_full() is False
    assert source.delta_connected is False
    assert [source.measurement_events, source.operation_events, source.questionable_events] == [0, 0, 0]
    source.clear()
    assert source.standard_events == 0 and source.status == "0"
    source.shutdown()
    assert source.check_errors() == []


def test_what_the_lab_lacks_is_refused_with_the_instruments_errors(source):
    """No 2182A nanovoltmeter on the simulated 6221: delta mode and its readings are refused."""
    source.delta_arm()
    assert source.next_error[0] == -241                 # Hardware missing
    with pytest.raises(VisaIOError):
        source.delta_sense                              # noqa: B018 - a query with no reply
    assert source.next_error[0] == -221                 # no delta test running
    with pytest.raises(VisaIOError):
        source.delta_values                             # noqa: B018
    assert source.next_error[0] == -230                 # the buffer holds no readings
    source.start_buffer()
    assert source.next_error[0] == -221                 # INIT with nothing armed
    source.trigger()
    assert source.next_error[0] == -211                 # *TRG with nothing waiting for it
    source.trigger_on_bus()
    assert source.next_error[0] == -224                 # the trigger layer takes no BUS source
    assert source.check_errors() == []


def test_pymeasures_standard_event_enabled_lacks_the_star(source):
    """PyMeasure 0.16 sends `ESE?` / `ESE n` (no `*`): an undefined header on a 6221, as here."""
    with pytest.raises(VisaIOError):
        source.standard_event_enabled                   # noqa: B018
    source.standard_event_enabled = 4
    assert [source.next_error[0], source.next_error[0]] == [-113, -113]
    source.write("*ESE 4")
    assert source.ask("*ESE?").strip() == "4"
    assert source.check_errors() == []


def test_setting_a_current_moves_the_field_in_the_cell(tmp_path):
    """The same lab served in-process, so the test can look at its physics."""
    config, ports = config_on_free_ports(tmp_path)
    lab = SimLab(load_config(config).config, speed=1.0)
    with serve(emulators_by_port(lab)):
        bz = open_source(ports["bz"])
        bz.reset()
        before_uG = lab.physics.field_in_cell_uG(lab.state())[2]
        bz.source_current = 0.004
        bz.enable_source()
        assert bz.source_enabled is True        # a query: the writes before it have been executed
        after_uG = lab.physics.field_in_cell_uG(lab.state())[2]
        calibration = lab.config.coils.bz.calibration_uG_per_mA
        assert after_uG - before_uG == pytest.approx(4.0 * calibration)
        bz.shutdown()
        assert bz.source_enabled is False
        assert lab.physics.field_in_cell_uG(lab.state())[2] == pytest.approx(before_uG)
        assert bz.check_errors() == []
        bz.adapter.close()


# --- the script in docs/third-party-clients.md ----------------------------------------------------
DOC = REPO / "docs" / "third-party-clients.md"
DEFAULT_PORTS = {"lockin_polarimeter": 50830, "laser": 50630, "bx": 50661, "by": 50662, "bz": 50663}


def pymeasure_script() -> str:
    section = DOC.read_text().split("## PyMeasure", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_pymeasure_script_of_the_docs_runs_and_sees_the_resonance(tmp_path: Path):
    config, ports = config_on_free_ports(tmp_path)
    script = pymeasure_script()
    for key, default in DEFAULT_PORTS.items():
        script, n = re.subn(rf"\b{default}\b", str(ports[key]), script)
        assert n >= 1, key
    (tmp_path / "script.py").write_text(script)
    server = subprocess.Popen([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [server.stdout.readline() for _ in range(12)]
        assert "Ctrl-C stops." in lines[-1], lines
        done = subprocess.run([sys.executable, str(tmp_path / "script.py")], capture_output=True,
                              text=True, timeout=120, check=False)
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=20)
    assert done.returncode == 0, done.stderr
    rows = dict(tuple(map(float, line.split())) for line in done.stdout.splitlines()[1:])
    assert sorted(rows) == [-10.0, -2.0, 0.0, 2.0, 10.0]
    # the dispersive NMOR curve on the polarimeter's slowly drifting offset (docs/noise.md): X rises
    # by about 20 uV from -2 to +2 uG through its value at zero field (one run: -24.9, -16.7, -1.1)
    assert rows[-2.0] < rows[0.0] < rows[2.0] and rows[2.0] - rows[-2.0] > 10.0


def qcodes_script() -> str:
    section = DOC.read_text().split("## QCoDeS", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_qcodes_script_of_the_docs_runs_against_sim_serve(tmp_path: Path):
    """The QCoDeS block as printed (QCoDeS's SR830 and PyMeasure's 6221, unmodified) runs to the
    end against `kmor sim serve` and prints a lock-in reading per field."""
    pytest.importorskip("qcodes")
    config, ports = config_on_free_ports(tmp_path)
    script = qcodes_script()
    for key in ("lockin_polarimeter", "bz"):
        script, n = re.subn(rf"\b{DEFAULT_PORTS[key]}\b", str(ports[key]), script)
        assert n >= 1, key
    (tmp_path / "script.py").write_text(script)
    server = subprocess.Popen([sys.executable, "-m", "kmor", "sim", "serve", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [server.stdout.readline() for _ in range(12)]
        assert "Ctrl-C stops." in lines[-1], lines
        done = subprocess.run([sys.executable, str(tmp_path / "script.py")], capture_output=True,
                              text=True, timeout=180, check=False)
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=20)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if len(line.split()) == 2]
    assert [float(r[0]) for r in rows] == [-2.0, 0.0, 2.0]
    assert all(abs(float(r[1])) < 1e-3 for r in rows)   # volts on the 100 nV range
