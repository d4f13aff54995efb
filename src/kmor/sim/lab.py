"""The simulated laboratory: the physics of the cell wired to byte-level instrument emulators and a
simulated DAQ exactly as the real apparatus is cabled.

    laser controller (TLB-6300) --> laser frequency, power      DAQ ao: laser control, attenuator, coils
    coils (DAQ ao or Keithley 6221) --> field in the cell        HP 8647A --> rf in the cell, SR620 input
    polarimeter --> SR830 (1f)                                   reference-cell photodiode --> SR830 (2f)
    SR830 (2f) CH1 output --> DAQ ai (lock error)                monitor and transmission photodiodes --> DAQ ai

The emulators never see the physics model; they are handed callables that read it at the
simulated clock's current time. Nothing here imports kmor.drivers.

Random numbers: one stream per role (`lab_streams`), from `[sim] seed` when the lab is built and
from (seed, job number) when a batch job begins (`begin_job`, decision 0104), so a job measures
the same whether the batch ran straight through or was resumed in a new process.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kmor.config.model import COIL_AXES, INSTRUMENT_ROLES, KmorConfig
from kmor.sim.clock import SimClock
from kmor.sim.daq import SimDaq
from kmor.sim.faults import IOFault, LabFaultTimes, schedule_lab_faults
from kmor.sim.instruments import (
    HP8647AEmulator,
    Keithley6221Emulator,
    SR620Emulator,
    SR830Emulator,
    TLB6300Emulator,
)
from kmor.sim.instruments.base import Emulator
from kmor.sim.physics.model import ApparatusState, LabPhysics
from kmor.sim.visa_backend import SimVisaLibrary

FIELD_AXES = ("bx", "by", "bz")
STREAM_ROLES = ("physics", "counter", "lockin_polarimeter", "lockin_reference", "daq")
"""Who draws from each of the lab's random streams, in the order they are spawned (child i of a
SeedSequence does not depend on how many are spawned: adding a role keeps the others' numbers)."""


def lab_streams(seed: int, job_number: int | None = None) -> dict[str, np.random.Generator]:
    """role -> Generator (roles: STREAM_ROLES), spawned from `np.random.SeedSequence(seed)` for the
    lab as built, or from entropy (seed, job_number) for batch job `job_number` (its 0-based place
    in the queue): the one place that decides where the simulated lab's randomness comes from."""
    entropy = seed if job_number is None else (seed, job_number)
    children = np.random.SeedSequence(entropy).spawn(len(STREAM_ROLES))
    return {role: np.random.default_rng(child) for role, child in zip(STREAM_ROLES, children)}


class SimLab:
    """Every simulated instrument of one lab configuration, sharing one clock and one physics model."""

    def __init__(self, config: KmorConfig, *, speed: float | None = None) -> None:
        """`speed` overrides `sim.speed` (x real time; the config's 0 means full speed)."""
        sim = config.sim
        self.config = config
        self.clock = SimClock(speed=speed if speed is not None else (sim.speed or None))
        streams = lab_streams(sim.seed)
        self.physics = LabPhysics(sim.physics, streams["physics"],
                                  polarimeter_V_per_rad=config.polarimeter.calibration_V_per_rad)
        self.reference_connected = True
        """The SR620's external 10 MHz reference cable; set False to simulate losing it."""
        self.polarimeter_extra_V = 0.0
        """Extra in-phase signal (V) into the 1f lock-in: > 1 V overloads it (fault injection)."""

        self.rf_generator = HP8647AEmulator()
        self.counter = SR620Emulator(self.clock, input_freq_hz=self._rf_at_counter_hz,
                                     reference_present=lambda: self.reference_connected,
                                     rng=streams["counter"])
        self.lockin_polarimeter = SR830Emulator(
            self.clock, input_signal_V=self._polarimeter_input_V,
            input_noise_V_per_rtHz=lambda: self.physics.polarimeter_noise_V_per_rtHz(self.state()),
            rng=streams["lockin_polarimeter"])
        self.lockin_reference = SR830Emulator(
            self.clock, input_signal_V=self._reference_input_V,
            input_noise_V_per_rtHz=lambda: self.physics.reference_noise_V_per_rtHz(self.state()),
            rng=streams["lockin_reference"])
        self.laser = TLB6300Emulator(self.clock, power_factor=self.physics.laser.power_factor)
        self.current_sources = {axis: Keithley6221Emulator(clock=self.clock) for axis in COIL_AXES
                                if getattr(config.coils, axis).drive == "current_source"}
        self._field_from_ao: list | None = None
        self.daq = self._build_daq(streams["daq"])
        self._tell_lockins_of_input_changes()
        self.io_fault = self._config_io_fault()
        """The `[sim.faults.io]` fault (or None), installed on every VISA library and server."""
        schedule_lab_faults(self, self._config_lab_faults())

    # --- a batch job begins ---------------------------------------------------------------------
    def begin_job(self, job_number: int, planned_start_s: float) -> None:
        """Batch job `job_number` (0-based place in the queue) begins now, planned to begin
        `planned_start_s` (s) into the run (the estimates of the jobs before it): every noise
        stream starts again from entropy (seed, job_number), the laser keeps its frequency (the
        lock holds) and takes its future steps from its new stream, the slow drifts read their
        seeded paths from `planned_start_s`, the lock-ins' output noise is drawn afresh. What the
        job then measures depends only on the seed, the job and the apparatus state it starts from,
        not on what the process did before (decision 0104)."""
        streams = lab_streams(self.config.sim.seed, job_number)
        self.physics.reseed(streams["physics"], self.clock.now_s(), planned_start_s)   # first: the lock-ins sample it now
        self.counter.reseed(streams["counter"])
        self.lockin_polarimeter.reseed(streams["lockin_polarimeter"])
        self.lockin_reference.reseed(streams["lockin_reference"])
        self.daq.reseed(streams["daq"])

    # --- the lock-ins' inputs change when another instrument acts -----------------------------
    def _tell_lockins_of_input_changes(self) -> None:
        """Before every message to an instrument that moves the physics (rf, laser, coil sources)
        and every DAQ output write, the lock-ins bring their filters to that instant; the new
        input holds from it (decision 0120)."""
        self.daq.on_output_change = self.lockin_inputs_will_change
        for emulator in (self.rf_generator, self.laser, *self.current_sources.values()):
            handle = emulator.handle

            def notifying_handle(line: bytes, handle=handle) -> bytes | None:
                self.lockin_inputs_will_change()
                return handle(line)
            emulator.handle = notifying_handle  # type: ignore[method-assign]

    def lockin_inputs_will_change(self) -> None:
        """Something feeding the lock-ins is about to change now."""
        self.lockin_polarimeter.input_will_change()
        self.lockin_reference.input_will_change()

    # --- faults from [sim.faults] -------------------------------------------------------------
    def _config_io_fault(self) -> tuple[str, IOFault] | None:
        io = self.config.sim.faults.io
        if not io.enabled:
            return None
        fault = IOFault(io.kind, count=io.count, at_s=io.at_s, for_s=io.for_s, clock=self.clock)
        return io.instrument, fault

    def _config_lab_faults(self) -> LabFaultTimes:
        f = self.config.sim.faults
        return LabFaultTimes(
            mode_hop_at_s=f.mode_hop.at_s if f.mode_hop.enabled else None, mode_hop_MHz=f.mode_hop.jump_MHz,
            reference_off_at_s=f.reference.at_s if f.reference.enabled else None,
            reference_off_for_s=f.reference.for_s,
            overload_at_s=f.overload.at_s if f.overload.enabled else None, overload_for_s=f.overload.for_s,
            overload_V=f.overload.amplitude_V)

    def resource_of(self, role: str) -> str:
        """The VISA resource name of an instrument role ("rf_generator", "counter", ...)."""
        return getattr(self.config.instruments, role).resource

    # --- wiring -------------------------------------------------------------------------------
    def _build_daq(self, rng: np.random.Generator) -> SimDaq:
        d = self.config.daq
        ao = [d.laser_control_ao] + [d.attenuator_ao] * bool(d.attenuator_ao)
        ao += [getattr(self.config.coils, a).ao_channel for a in COIL_AXES
               if getattr(self.config.coils, a).drive == "daq_ao"]
        sources = {
            d.lock_error_ai: self.lockin_reference.channel1_output_V,
            d.light_monitor_ai: lambda: self.physics.light_monitor_V(self.state()),
            d.transmission_ai: lambda: self.physics.transmission_V(self.clock.now_s(), self.state()),
        }
        if d.polarimeter_ai:
            sources[d.polarimeter_ai] = self.lockin_polarimeter.channel1_output_V
        noise = {d.transmission_ai: lambda: self.physics.transmission_noise_V_per_rtHz(self.state())}
        return SimDaq(self.clock, d.device, sources, noise, rng, ao_channels=ao)

    def resources(self) -> dict[str, Emulator]:
        """VISA resource name -> emulator, as addressed in the config."""
        inst = self.config.instruments
        found: dict[str, Emulator] = {
            inst.rf_generator.resource: self.rf_generator,
            inst.counter.resource: self.counter,
            inst.lockin_polarimeter.resource: self.lockin_polarimeter,
            inst.lockin_reference.resource: self.lockin_reference,
            inst.laser.resource: self.laser,
        }
        for axis, source in self.current_sources.items():
            found[getattr(self.config.coils, axis).resource] = source
        return found

    def visa_library(self) -> SimVisaLibrary:
        """A pyvisa backend serving this lab's emulators: pass it to `pyvisa.ResourceManager`."""
        library = SimVisaLibrary.from_emulators(self.resources(), clock=self.clock)
        if self.io_fault is not None:
            role, fault = self.io_fault
            library.set_fault(self.resource_of(role), fault)
        return library

    # --- what the instruments apply -----------------------------------------------------------
    def coil_fields_uG(self) -> dict[str, float]:
        """Field (or gradient, uG/cm) each coil produces from its present drive."""
        return {axis: self._coil_field_uG(axis) for axis in COIL_AXES}

    def _coil_field_uG(self, axis: str) -> float:
        coil = getattr(self.config.coils, axis)
        if coil.drive == "daq_ao":
            return self.daq.ao_V(coil.ao_channel) * coil.calibration_uG_per_V
        return self.current_sources[axis].output_current_A * 1e3 * coil.calibration_uG_per_mA

    def _field_uG(self) -> tuple[float, float, float]:
        """(Bx, By, Bz) applied by the coils, uG. Reads the DAQ's output table directly for DAQ-driven
        coils: this runs at every lock-in read (twice per lock-servo step)."""
        if self._field_from_ao is None:
            self._field_from_ao = [(self.daq.ao_reader(c.ao_channel), c.calibration_uG_per_V)
                                   if c.drive == "daq_ao" else None
                                   for c in (getattr(self.config.coils, a) for a in FIELD_AXES)]
        out = []
        for axis, fast in zip(FIELD_AXES, self._field_from_ao):
            out.append(fast[0]() * fast[1] if fast is not None else self._coil_field_uG(axis))
        return (out[0], out[1], out[2])

    def state(self) -> ApparatusState:
        """The apparatus as the instruments have set it, for the physics model (built at every
        lock-in read: only the three field axes are read, not the gradient coils)."""
        d = self.config.daq
        laser, rf = self.laser, self.rf_generator
        return ApparatusState(
            laser_on=laser.output_on, wavelength_nm=laser.wavelength_nm, piezo_pct=laser.piezo_pct,
            diode_current_mA=laser.current_mA, control_V=self.daq.ao_V(d.laser_control_ao),
            attenuator_V=self.daq.ao_V(d.attenuator_ao) if d.attenuator_ao else None,
            field_uG=self._field_uG(),
            rf_on=rf.output_on, rf_freq_hz=rf.freq_hz, rf_amplitude_dBm=rf.amplitude_dBm,
            time_s=self.clock.now_s(),
        )

    def _rf_at_counter_hz(self) -> float | None:
        return self.rf_generator.freq_hz if self.rf_generator.output_on else None

    def _polarimeter_input_V(self, harmonic: int) -> complex:
        if harmonic != 1:
            return 0j
        return self.physics.polarimeter_signal_V(self.clock.now_s(), self.state()) + self.polarimeter_extra_V

    def _reference_input_V(self, harmonic: int) -> complex:
        if harmonic != 2:
            return 0j
        return self.physics.reference_2f_signal_V(self.clock.now_s(), self.state())


def emulators_by_name(lab: SimLab) -> dict[str, Emulator]:
    """`[sim.ports]` key -> emulator for every VISA instrument of the lab: the five instrument
    roles and the Keithley 6221 of each coil driven by a current source (keyed by coil name)."""
    found: dict[str, Emulator] = {role: getattr(lab, role) for role in INSTRUMENT_ROLES}
    found.update(lab.current_sources)
    return found


def emulators_by_port(lab: SimLab) -> Mapping[int, Emulator]:
    """TCP port -> emulator, from the `[sim.ports]` table (used by `kmor sim serve`)."""
    ports = lab.config.sim.ports
    return {getattr(ports, name): emulator for name, emulator in emulators_by_name(lab).items()}
