"""The station: every connected device of one lab configuration, real or simulated, plus the
snapshot of all settings and the safe shutdown (rf off, coils ramped to zero).

The same drivers run in both cases; in the simulated lab they reach kmor's emulators through the
simulated pyvisa backend and the DAQ is the simulated board, otherwise they open the configured
VISA resources and the NI-DAQmx device.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from kmor.config.files import LoadedConfig
from kmor.config.model import COIL_AXES, KmorConfig, VisaInstrument
from kmor.drivers.coils import CoilAxis, CoilSet, CurrentSourceCoilDrive, DaqCoilDrive
from kmor.drivers.daq import DaqBoard, NiDaq
from kmor.drivers.errors import InstrumentError
from kmor.drivers.hp8647a import HP8647A
from kmor.drivers.keithley6221 import Keithley6221
from kmor.drivers.sr620 import SR620
from kmor.drivers.sr830 import SR830
from kmor.drivers.tlb6300 import TLB6300

log = logging.getLogger("kmor.station")
COIL_MAX_STEP_UG = 10.0
"""Largest single coil step while ramping; small enough that the shield and coils see a smooth ramp."""
LIGHT_POWER_TOLERANCE = 0.01
"""Relative accuracy to which `set_light_power_uW` servoes the attenuator on the monitor photodiode."""


class RealClock:
    """Wall-clock time for the real lab, with the same interface as the simulated clock."""

    speed = 1.0

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now_s(self) -> float:
        return time.monotonic() - self._t0

    def sleep(self, dt_s: float) -> None:
        if dt_s > 0:
            time.sleep(dt_s)


@dataclass
class Station:
    """Connected devices of one lab; sequences reach them only through small protocols."""

    config: KmorConfig
    config_text: str
    config_source: str
    clock: Any
    rf: HP8647A
    counter: SR620
    lockin_polarimeter: SR830
    lockin_reference: SR830
    laser: TLB6300
    daq: DaqBoard
    coils: CoilSet
    current_sources: dict[str, Keithley6221] = field(default_factory=dict)
    sim: Any = None
    """The SimLab in the simulated lab (fault hooks, physics), else None."""

    @property
    def lock_error_ai(self) -> str:
        return self._daq_channel(self.config.daq.lock_error_ai)

    @property
    def light_monitor_ai(self) -> str:
        return self._daq_channel(self.config.daq.light_monitor_ai)

    @property
    def transmission_ai(self) -> str:
        return self._daq_channel(self.config.daq.transmission_ai)

    @property
    def laser_control_ao(self) -> str:
        return self._daq_channel(self.config.daq.laser_control_ao)

    @property
    def attenuator_ao(self) -> str | None:
        ao = self.config.daq.attenuator_ao
        return self._daq_channel(ao) if ao else None

    @property
    def light_monitor_uW_per_V(self) -> float:
        return self.config.daq.light_monitor_uW_per_V

    def _daq_channel(self, name: str) -> str:
        return f"{self.config.daq.device}/{name}"

    # --- light power --------------------------------------------------------------------------
    def light_power_uW(self) -> float:
        """Light power into the cell (uW) from the monitor photodiode."""
        return self.daq.read_ai_V(self.light_monitor_ai) * self.light_monitor_uW_per_V

    def set_light_power_uW(self, target_uW: float) -> float:
        """Servo the attenuator until the monitor reads `target_uW` (within 1 %); returns what it reads.

        Bisection on the attenuator voltage needs only that more volts give more light, so it works
        for any attenuator without a calibration table. Raises InstrumentError if the target
        cannot be reached or there is no attenuator.
        """
        limit = self.config.limits.max_light_power_uW
        if not 0 <= target_uW <= limit:
            raise InstrumentError(f"light power {target_uW} uW is outside 0..{limit} uW (limits.max_light_power_uW)",
                                  instrument="attenuator")
        if self.attenuator_ao is None:
            raise InstrumentError("no attenuator configured (daq.attenuator_ao is empty): set the light power by hand",
                                  instrument="attenuator")
        low, high = 0.0, self.config.daq.attenuator_max_V
        for _ in range(40):
            mid = 0.5 * (low + high)
            self.daq.write_ao_V(self.attenuator_ao, mid)
            power = self.light_power_uW()
            if abs(power - target_uW) <= LIGHT_POWER_TOLERANCE * max(target_uW, 1e-3):
                return power
            low, high = (mid, high) if power < target_uW else (low, mid)
        raise InstrumentError(f"cannot reach {target_uW} uW with the attenuator (monitor reads {power:.3g} uW "
                              f"at {mid:.3f} V); check the laser and the monitor calibration", instrument="attenuator")

    # --- batch jobs ---------------------------------------------------------------------------
    def begin_job(self, job_number: int, planned_start_s: float) -> None:
        """Batch job `job_number` (its 0-based place in the queue), planned to begin
        `planned_start_s` (s) into the run, begins. The simulated lab re-seeds its noise from
        (seed, job_number) and reads its drifts from the planned start, so a resumed job measures
        what the uninterrupted run measured (decision 0104); real hardware (and a lab served by
        `kmor sim serve`, where `sim` is None) has nothing to do."""
        if self.sim is not None:
            self.sim.begin_job(job_number, planned_start_s)

    # --- roles, snapshot, safety --------------------------------------------------------------
    def prepare(self) -> None:
        """Put each instrument in its role in this apparatus (harmonics, counter mode, CW rf)."""
        self.lockin_polarimeter.harmonic = 1
        self.lockin_reference.harmonic = 2
        self.rf.modulation_off()
        self.counter.configure_frequency(gate_s=0.1, sample_size=1, external_reference=True)
        self.laser.track_mode_off()

    def snapshot(self) -> dict[str, Any]:
        """Every instrument setting now, for the data files; an instrument that fails is recorded, not fatal."""
        snap: dict[str, Any] = {"lab": self.config.lab.name, "simulated": self.sim is not None}
        devices = {"rf_generator": self.rf, "counter": self.counter, "lockin_polarimeter": self.lockin_polarimeter,
                   "lockin_reference": self.lockin_reference, "laser": self.laser}
        devices.update({f"current_source_{axis}": src for axis, src in self.current_sources.items()})
        for name, device in devices.items():
            try:
                snap[name] = device.snapshot()
            except InstrumentError as exc:
                snap[name] = {"error": str(exc)}
        try:
            snap["coils_uG"] = self.coils.fields_uG()
            snap["daq_ao_V"] = {ch: self.daq.ao_V(ch) for ch in (self.laser_control_ao, self.attenuator_ao) if ch}
        except (InstrumentError, ValueError) as exc:
            snap["coils_uG"] = {"error": str(exc)}
        return snap

    def make_safe(self) -> list[str]:
        """rf output off and every coil ramped to zero at the allowed rate. Never raises; returns problems."""
        problems = []
        try:
            self.rf.rf_on = False
        except Exception as exc:  # noqa: BLE001 - shutdown must go on whatever failed
            problems.append(f"rf off failed: {exc}")
        try:
            self.coils.ramp_all_to_zero()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"coil ramp-down failed: {exc}")
        for problem in problems:
            log.error("make_safe: %s", problem)
        problems += self._log_safe_state()
        return problems

    def _log_safe_state(self) -> list[str]:
        """Read back the rf output and every coil's drive and log them (run.log shows afterwards
        that the apparatus was left safe); returns what is not safe or could not be read."""
        parts, problems = [], []
        try:
            rf_on = bool(self.rf.rf_on)
            parts.append(f"rf output {'ON' if rf_on else 'off'} (read back)")
            if rf_on:
                problems.append("rf output still on")
        except Exception as exc:  # noqa: BLE001 - a report must not stop the shutdown
            problems.append(f"rf output could not be read back: {exc}")
        for axis in self.coils.axes:
            try:
                drive, units = self.coils.drive(axis), self.coils.drive_units(axis)
                field_uG = self.coils.field_uG(axis)
                parts.append(f"coil {axis} {field_uG:.3g} uG ({drive:.3g} {units} read back)")
                if abs(field_uG) > 1e-6 * self.config.limits.max_field_uG:
                    problems.append(f"coil {axis} still at {field_uG:.3g} uG")
            except Exception as exc:  # noqa: BLE001
                problems.append(f"coil {axis} could not be read back: {exc}")
        if problems:
            log.error("apparatus NOT confirmed safe: %s; %s", "; ".join(problems), ", ".join(parts))
        else:
            log.info("apparatus safe: %s", ", ".join(parts))
        return problems

    def close(self) -> None:
        """Close every connection (does not change any setting)."""
        devices: list[Any] = [self.rf, self.counter, self.lockin_polarimeter, self.lockin_reference, self.laser,
                       *self.current_sources.values(), self.daq]
        for device in devices:
            try:
                device.close()
            except Exception as exc:  # noqa: BLE001
                log.warning("closing %s: %s", device, exc)


def build_station(loaded: LoadedConfig, *, sim_speed: float | None = None) -> Station:
    """Connect every device of a validated config (simulated lab when `lab.simulated`).

    `sim_speed` overrides `sim.speed` of a simulated lab (x real time; the GUI demo uses 1).
    """
    cfg = loaded.config
    sim = None
    if cfg.lab.simulated:
        from kmor.sim.lab import SimLab  # the simulated lab is only built (and imported) when asked for

        sim = SimLab(cfg, speed=sim_speed)
        library: Any = sim.visa_library()
        clock: Any = sim.clock
        daq: DaqBoard = sim.daq
    else:
        library, clock = None, RealClock()
        daq = NiDaq(cfg.daq.device)
    opened: list[Any] = [daq]
    try:
        def connect(cls: type, inst: VisaInstrument, **kw: Any) -> Any:
            device = cls(inst.resource, library or inst.visa_library, timeout_ms=int(inst.timeout_s * 1000), **kw)
            opened.append(device)
            return device

        i = cfg.instruments
        rf = connect(HP8647A, i.rf_generator, max_amplitude_dBm=cfg.limits.max_rf_amplitude_dBm)
        counter = connect(SR620, i.counter)
        lockin_pol = connect(SR830, i.lockin_polarimeter)
        lockin_ref = connect(SR830, i.lockin_reference)
        laser = connect(TLB6300, i.laser)
        sources = {axis: connect(Keithley6221, _coil_source(cfg, axis)) for axis in COIL_AXES
                   if getattr(cfg.coils, axis).drive == "current_source"}
        coils = _coil_set(cfg, daq, sources, clock)
    except BaseException:
        for device in opened:
            try:
                device.close()
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        raise
    return Station(config=cfg, config_text=loaded.text, config_source=loaded.source, clock=clock, rf=rf,
                   counter=counter, lockin_polarimeter=lockin_pol, lockin_reference=lockin_ref, laser=laser,
                   daq=daq, coils=coils, current_sources=sources, sim=sim)


def _coil_source(cfg: KmorConfig, axis: str) -> VisaInstrument:
    coil = getattr(cfg.coils, axis)
    return VisaInstrument(resource=coil.resource, visa_library=coil.visa_library)


def _coil_set(cfg: KmorConfig, daq: DaqBoard, sources: dict[str, Keithley6221], clock: Any) -> CoilSet:
    limits = cfg.limits
    axes = {}
    for axis in COIL_AXES:
        coil = getattr(cfg.coils, axis)
        if coil.drive == "daq_ao":
            drive = DaqCoilDrive(daq, f"{cfg.daq.device}/{coil.ao_channel}")
            axes[axis] = CoilAxis(drive, coil.calibration_uG_per_V, limits.max_field_uG, limits.max_coil_voltage_V)
        else:
            axes[axis] = CoilAxis(CurrentSourceCoilDrive(sources[axis]), coil.calibration_uG_per_mA,
                                  limits.max_field_uG, limits.max_coil_current_mA)
    return CoilSet(axes, max_ramp_rate_uG_per_s=limits.max_ramp_uG_per_s, max_step_uG=COIL_MAX_STEP_UG,
                   sleep=clock.sleep)
