"""What a lab configuration file holds: instruments and their addresses, DAQ wiring, coil
calibrations, safety limits, and (for the simulated lab) the physics of the simulated cell.

Each section is a frozen dataclass; `kmor.config.load_config` fills them from TOML and refuses
anything it does not recognise before a single instrument is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from kmor.config.schema import param, section
from kmor.sim.physics.params import PhysicsParams

COIL_AXES = ("bx", "by", "bz", "dbz_dz", "gxy")
"""Coil names: three uniform-field coils and the dBz/dz and dBx/dx - dBy/dy gradient coils."""


@dataclass(frozen=True, kw_only=True)
class LabSection:
    """Which lab this is and where its data go."""

    name: str = param("simulated potassium lab", doc="shown in the GUI and written to every data file")
    simulated: bool = param(True, doc="true: the instruments are kmor's simulated lab; false: real hardware")
    data_dir: str = param("data", doc="folder for runs (relative paths are relative to the current directory)")


@dataclass(frozen=True, kw_only=True)
class VisaInstrument:
    """A GPIB/serial/TCP instrument reached through pyvisa."""

    resource: str = param(doc="VISA resource name, e.g. GPIB0::19::INSTR or TCPIP::127.0.0.1::5025::SOCKET")
    visa_library: str = param("@py", doc="pyvisa backend: '@py' (pyvisa-py), '@ivi' (NI-VISA/Keysight), 'x.yaml@sim'")
    timeout_s: float = param(5.0, units="s", min=0.1, max=300.0, doc="I/O timeout for one command")


@dataclass(frozen=True, kw_only=True)
class InstrumentsSection:
    """The VISA instruments of the apparatus."""

    rf_generator: VisaInstrument = param(doc="HP 8647A rf signal generator")
    counter: VisaInstrument = param(doc="SRS SR620 frequency counter on the rf output")
    lockin_polarimeter: VisaInstrument = param(doc="SRS SR830 on the balanced polarimeter, first harmonic")
    lockin_reference: VisaInstrument = param(doc="SRS SR830 on the reference-cell photodiode, second harmonic")
    laser: VisaInstrument = param(doc="New Focus Velocity TLB-6300 laser controller")


@dataclass(frozen=True, kw_only=True)
class DaqSection:
    """NI DAQ board wiring (physical channel names without the device prefix)."""

    device: str = param("Dev1", doc="NI-DAQmx device name")
    lock_error_ai: str = param("ai0", doc="analog input from the 2f lock-in's CH1 output (laser-lock error)")
    light_monitor_ai: str = param("ai1", doc="analog input from the light-power monitor photodiode")
    transmission_ai: str = param("ai2", doc="analog input from the transmission photodiode (rf double resonance)")
    polarimeter_ai: str = param("", doc="analog input from the 1f lock-in's CH1 output (hardware-timed B scans); "
                                        "empty if not wired")
    laser_control_ao: str = param("ao0", doc="analog output into the laser's frequency-control input")
    attenuator_ao: str = param("", doc="analog output driving the light attenuator; empty if there is none")
    attenuator_max_V: float = param(5.0, units="V", min=0.01, max=10.0,
                                    doc="attenuator drive that gives the most light (searched from 0 V up to this)")
    light_monitor_uW_per_V: float = param(25.0, units="uW/V", min=1e-6, max=1e9,
                                          doc="calibration of the monitor photodiode: light into the cell per volt")


@dataclass(frozen=True, kw_only=True)
class Coil:
    """One coil: how it is driven and its calibration."""

    drive: str = param("daq_ao", choices=("daq_ao", "current_source"), doc="DAQ analog output or a Keithley 6221")
    ao_channel: str = param("", doc="DAQ analog output (drive = 'daq_ao')")
    calibration_uG_per_V: float = param(0.0, units="uG/V", min=-1e9, max=1e9, doc="field per volt (drive = 'daq_ao')")
    resource: str = param("", doc="VISA resource of the current source (drive = 'current_source')")
    visa_library: str = param("@py", doc="pyvisa backend of the current source")
    calibration_uG_per_mA: float = param(0.0, units="uG/mA", min=-1e9, max=1e9,
                                         doc="field per milliampere (drive = 'current_source')")

    def problems(self) -> list[tuple[str, str]]:
        if self.drive == "daq_ao":
            if not self.ao_channel:
                return [("ao_channel", "required when drive = 'daq_ao' (e.g. 'ao1')")]
            if self.calibration_uG_per_V == 0:
                return [("calibration_uG_per_V", "required and non-zero when drive = 'daq_ao'")]
        else:
            if not self.resource:
                return [("resource", "required when drive = 'current_source' (e.g. 'GPIB0::12::INSTR')")]
            if self.calibration_uG_per_mA == 0:
                return [("calibration_uG_per_mA", "required and non-zero when drive = 'current_source'")]
        return []


@dataclass(frozen=True, kw_only=True)
class CoilsSection:
    """The five coils inside the magnetic shield."""

    bx: Coil = param(doc="uniform field along x (transverse)")
    by: Coil = param(doc="uniform field along y (transverse)")
    bz: Coil = param(doc="uniform field along z (the light direction; scanned)")
    dbz_dz: Coil = param(doc="gradient coil dBz/dz (calibration in uG/cm per V or per mA)")
    gxy: Coil = param(doc="gradient coil dBx/dx - dBy/dy (calibration in uG/cm per V or per mA)")


@dataclass(frozen=True, kw_only=True)
class PolarimeterSection:
    """The balanced polarimeter after the coated cell (its output goes to the 1f lock-in)."""

    calibration_V_per_rad: float = param(
        10.0, units="V/rad", min=1e-9, max=1e9,
        doc="polarimeter output per radian of optical rotation (difference over sum of the two photodiodes, "
            "so it does not depend on the light power); measure it by turning the analyser through a known "
            "angle. A rotation amplitude phi at the modulation frequency reads X = calibration x phi / sqrt 2 "
            "on the 1f lock-in (rms). The simulated lab's polarimeter has exactly this gain")


@dataclass(frozen=True, kw_only=True)
class LimitsSection:
    """Safety limits: anything beyond them is refused before it is sent."""

    max_coil_current_mA: float = param(100.0, units="mA", min=0.0, max=105.0, doc="largest coil current")
    max_coil_voltage_V: float = param(10.0, units="V", min=0.0, max=10.0, doc="largest DAQ coil-drive voltage")
    max_field_uG: float = param(5000.0, units="uG", min=0.0, max=1e6, doc="largest field on any axis")
    max_ramp_uG_per_s: float = param(2000.0, units="uG/s", min=1e-3, max=1e7, doc="fastest coil ramp")
    max_rf_amplitude_dBm: float = param(0.0, units="dBm", min=-136.0, max=10.0, doc="largest rf generator output")
    max_light_power_uW: float = param(150.0, units="uW", min=0.0, max=1e6, doc="largest light power a sequence may ask")


@dataclass(frozen=True, kw_only=True)
class SimPorts:
    """TCP ports of `kmor sim serve` (one per instrument, on 127.0.0.1 unless told otherwise)."""

    rf_generator: int = param(50647, min=1024, max=65535, doc="HP 8647A emulator")
    counter: int = param(50620, min=1024, max=65535, doc="SR620 emulator")
    lockin_polarimeter: int = param(50830, min=1024, max=65535, doc="SR830 (1f) emulator")
    lockin_reference: int = param(50831, min=1024, max=65535, doc="SR830 (2f) emulator")
    laser: int = param(50630, min=1024, max=65535, doc="TLB-6300 emulator")
    bx: int = param(50661, min=1024, max=65535, doc="Keithley 6221 of coil bx (served when its drive is current_source)")
    by: int = param(50662, min=1024, max=65535, doc="Keithley 6221 of coil by (served when its drive is current_source)")
    bz: int = param(50663, min=1024, max=65535, doc="Keithley 6221 of coil bz (served when its drive is current_source)")
    dbz_dz: int = param(50664, min=1024, max=65535,
                        doc="Keithley 6221 of coil dbz_dz (served when its drive is current_source)")
    gxy: int = param(50665, min=1024, max=65535, doc="Keithley 6221 of coil gxy (served when its drive is current_source)")


INSTRUMENT_ROLES = ("rf_generator", "counter", "lockin_polarimeter", "lockin_reference", "laser")


@dataclass(frozen=True, kw_only=True)
class IOFaultSettings:
    """An I/O fault on one simulated instrument (VISA backend and `kmor sim serve`)."""

    enabled: bool = param(False, doc="inject this fault")
    instrument: str = param("rf_generator", choices=INSTRUMENT_ROLES, doc="which instrument misbehaves")
    kind: str = param("timeout", choices=("timeout", "garbled", "empty", "disconnect"),
                      doc="lost reply, garbled bytes, empty reply, or the connection drops")
    at_s: float = param(0.0, units="s", min=0.0, max=1e7, doc="lab time from which the fault is active")
    count: int = param(1, min=0, max=1_000_000, doc="replies hit (1 = once); 0 = every reply for for_s")
    for_s: float = param(0.0, units="s", min=0.0, max=1e7, doc="how long the fault lasts when count = 0")


@dataclass(frozen=True, kw_only=True)
class ModeHopFault:
    """A sudden, permanent laser frequency jump: the lock is lost and must be re-acquired."""

    enabled: bool = param(False, doc="inject this fault")
    at_s: float = param(60.0, units="s", min=0.0, max=1e7, doc="lab time of the hop")
    jump_MHz: float = param(300.0, units="MHz", min=-1e5, max=1e5, doc="size of the jump")


@dataclass(frozen=True, kw_only=True)
class ReferenceFault:
    """The SR620's external 10 MHz reference cable pulled out, then put back."""

    enabled: bool = param(False, doc="inject this fault")
    at_s: float = param(60.0, units="s", min=0.0, max=1e7, doc="lab time the cable comes out")
    for_s: float = param(30.0, units="s", min=0.0, max=1e7, doc="how long it stays out")


@dataclass(frozen=True, kw_only=True)
class OverloadFault:
    """A large signal into the polarimeter lock-in (input overload at every sensitivity)."""

    enabled: bool = param(False, doc="inject this fault")
    at_s: float = param(60.0, units="s", min=0.0, max=1e7, doc="lab time the overload starts")
    for_s: float = param(5.0, units="s", min=0.0, max=1e7, doc="how long it lasts")
    amplitude_V: float = param(2.0, units="V", min=0.0, max=100.0, doc="extra in-phase input signal")


@dataclass(frozen=True, kw_only=True)
class DiskFault:
    """The disk fills up: writing fails after a number of points (ENOSPC)."""

    enabled: bool = param(False, doc="inject this fault")
    after_points: int = param(100, min=0, max=10**9, doc="points written in the run before the disk is full")


@dataclass(frozen=True, kw_only=True)
class SimFaults:
    """Faults injected into the simulated lab (all off by default)."""

    io: IOFaultSettings = section(IOFaultSettings)
    mode_hop: ModeHopFault = section(ModeHopFault)
    reference: ReferenceFault = section(ReferenceFault)
    overload: OverloadFault = section(OverloadFault)
    disk: DiskFault = section(DiskFault)


@dataclass(frozen=True, kw_only=True)
class SimSection:
    """The simulated laboratory (used when lab.simulated = true)."""

    seed: int = param(20061, min=0, max=2**63 - 1, doc="seed of every random number: the same seed, the same run")
    speed: float = param(0.0, units="x real time", min=0.0, max=1e6,
                         doc="0 = full speed (waits only advance the simulated clock); 1 = real time")
    ports: SimPorts = section(SimPorts)
    faults: SimFaults = section(SimFaults)
    physics: PhysicsParams = section(PhysicsParams)


@dataclass(frozen=True, kw_only=True)
class NotifySection:
    """Messages when an unattended batch pauses, fails or finishes (the 3 a.m. pause)."""

    url: str = param("", doc="http(s) URL to POST a short message to (an ntfy topic, a chat webhook); "
                             "empty: no POST")
    format: str = param("json", choices=("json", "text"),
                        doc="json: a JSON object {title, message, status, run_dir, resume_command}; "
                            "text: the message as plain text with a Title header (ntfy)")
    command: list[str] = param([], doc="program and arguments to run (no shell); the message is in the "
                                       "environment as KMOR_STATUS, KMOR_MESSAGE, KMOR_RUN_DIR, KMOR_TITLE; "
                                       "empty: none")
    on: list[str] = param(["paused", "failed", "complete"],
                          doc="which endings notify: any of paused, failed, complete, aborted")
    timeout_s: float = param(10.0, units="s", min=0.1, max=300.0,
                             doc="longest wait for the POST or the command; a notification never stops the run")
    headers: dict[str, str] = param({}, doc="extra HTTP headers, e.g. {Authorization = \"Bearer ...\"}")

    def problems(self) -> list[tuple[str, str]]:
        found = []
        if self.url and not self.url.startswith(("http://", "https://")):
            found.append(("url", f"'{self.url}' is not an http:// or https:// URL"))
        for i, item in enumerate(self.on):
            if item not in NOTIFY_ENDINGS:
                found.append((f"on[{i}]", f"'{item}' is not one of {', '.join(NOTIFY_ENDINGS)}"))
        return found


NOTIFY_ENDINGS = ("paused", "failed", "complete", "aborted")


@dataclass(frozen=True, kw_only=True)
class WatchSection:
    """`kmor watch`, the read-only live page of the runs in lab.data_dir."""

    host: str = param("127.0.0.1", doc="address to bind; any other than 127.0.0.1/::1/localhost requires the token")
    port: int = param(8765, min=0, max=65535, doc="TCP port (0: any free port)")
    token: str = param("", doc="access token for non-local addresses; empty: a new random one printed at start")


@dataclass(frozen=True, kw_only=True)
class KmorConfig:
    """A whole lab configuration file."""

    lab: LabSection = section(LabSection)
    instruments: InstrumentsSection = param(doc="VISA instruments")
    daq: DaqSection = section(DaqSection)
    coils: CoilsSection = param(doc="coil drives and calibrations")
    polarimeter: PolarimeterSection = section(PolarimeterSection)
    limits: LimitsSection = section(LimitsSection)
    sim: SimSection = section(SimSection)
    notify: NotifySection = section(NotifySection)
    watch: WatchSection = section(WatchSection)

    def problems(self) -> list[tuple[str, str]]:
        found = []
        for axis in COIL_AXES:
            coil: Coil = getattr(self.coils, axis)
            if coil.drive == "daq_ao" and coil.ao_channel in (self.daq.laser_control_ao, self.daq.attenuator_ao):
                found.append((f"coils.{axis}.ao_channel", f"'{coil.ao_channel}' is already used by the daq section"))
        return found + self._port_problems()

    def served_port_names(self) -> list[str]:
        """The `[sim.ports]` keys `kmor sim serve` uses: every instrument role, and each coil
        whose drive is a current source."""
        return list(INSTRUMENT_ROLES) + [a for a in COIL_AXES if getattr(self.coils, a).drive == "current_source"]

    def _port_problems(self) -> list[tuple[str, str]]:
        seen: dict[int, str] = {}
        for name in self.served_port_names():
            port = getattr(self.sim.ports, name)
            if port in seen:
                message = (f"port {port} is already used by sim.ports.{seen[port]}; "
                           "every served instrument needs its own port")
                return [(f"sim.ports.{name}", message)]
            seen[port] = name
        return []
