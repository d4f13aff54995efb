"""`LabPhysics`: every signal the instrument emulators read from the simulated potassium lab, computed
from what the instruments currently apply (`ApparatusState`) and the simulated time.

Deterministic for a given Generator and sequence of queries: the randomness is the laser's random-walk
drift and the slow drifts of `drift.py` (residual field, light power, reference-cell temperature,
polarimeter offset), each from its own stream spawned from the Generator; `reseed` starts them all
again from a new Generator (a batch job's own, decision 0104). Measurement noise is returned
as densities (V/sqrt(Hz)) for the emulators to turn into samples with their own bandwidths and time
constants. The noise budget and where each value comes from: docs/noise.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kmor.sim.physics import double_resonance as dr
from kmor.sim.physics import noise, reference_cell, vapor
from kmor.sim.physics.drift import OUDrift
from kmor.sim.physics.constants import LARMOR_F1_HZ_PER_UG, LARMOR_F2_HZ_PER_UG, LINES, MASS_39K_U
from kmor.sim.physics.laser import Laser
from kmor.sim.physics.nmor import NmorModel, widths_uG
from kmor.sim.physics.params import PhysicsParams

_SQRT2 = math.sqrt(2.0)
_REF_DT_C = 1.0   # the reference cell is tabulated at temperature_C and 1 C above, for its drift


@dataclass
class ApparatusState:
    """What the instruments currently apply; the lead fills this from the emulators."""

    laser_on: bool = True
    wavelength_nm: float = 770.108385     # picks D1 (770.108 nm) or D2 (766.701 nm), else off-resonant
    piezo_pct: float = 50.0               # 0-100
    diode_current_mA: float = 50.0
    control_V: float = 0.0                # DAQ AO into the laser's frequency-control input
    attenuator_V: float | None = None     # DAQ AO driving the attenuator; None = no attenuator
    field_uG: tuple[float, float, float] = (0.0, 0.0, 0.0)   # applied by the coils; residual added here
    rf_on: bool = False
    rf_freq_hz: float = 461_719_711.0
    rf_amplitude_dBm: float = -20.0
    time_s: float = 0.0                   # lab time the state describes (the drifts are read at it)


class LabPhysics:
    """Physics of the coated cell, optics, laser and reference cell (see the package docs)."""

    def __init__(self, params: PhysicsParams, rng: np.random.Generator, *, polarimeter_V_per_rad: float) -> None:
        """`polarimeter_V_per_rad`: the polarimeter's gain, the lab config's `polarimeter.calibration_V_per_rad`
        (the simulated polarimeter is exactly as calibrated)."""
        self.params = params
        self.polarimeter_V_per_rad = polarimeter_V_per_rad
        self.laser = Laser(params.laser, rng)
        self._init_drifts(rng)
        cell = params.cell
        self.cell_density_cm3 = (cell.density_override_cm3 if cell.density_override_cm3 > 0.0
                                 else vapor.number_density_cm3(cell.temperature_C))
        ref = params.reference_cell
        self.reference_density_cm3 = vapor.number_density_cm3(ref.temperature_C)
        hot_density = vapor.number_density_cm3(ref.temperature_C + _REF_DT_C)
        amp = params.laser.modulation_amplitude_MHz
        self._cell_dc = {}
        self._ref = {}
        self._ref_hot = {}
        self._rf_detuning = {}
        for name in LINES:
            self._cell_dc[name] = reference_cell.tables(name, cell.temperature_C, self.cell_density_cm3,
                                                        2.0 * cell.radius_cm, amp)[0]
            self._ref[name] = reference_cell.tables(name, ref.temperature_C, self.reference_density_cm3,
                                                    ref.length_cm, amp)
            self._ref_hot[name] = reference_cell.tables(name, ref.temperature_C + _REF_DT_C, hot_density,
                                                        ref.length_cm, amp)
            self._rf_detuning[name] = dr.detuning_table(name, cell.temperature_C, amp)
        self.nmor = NmorModel(params.nmor, cell.temperature_C, amp)

    def reseed(self, rng: np.random.Generator, now_s: float, path_s: float) -> None:
        """A batch job begins at lab time `now_s` (s), planned to begin `path_s` (s) into the run:
        the laser's random walk keeps its present frequency and takes its future steps from `rng`;
        the slow drifts go on along their seeded paths from `path_s` (drift.py, decision 0104)."""
        self.laser.reseed(rng, now_s)
        for drift in self.drifts:
            drift.start_path_at(now_s, path_s)

    @property
    def drifts(self) -> tuple[OUDrift, ...]:
        """Every slow drift of the apparatus."""
        return (*self.field_drifts, self.power_drift, self.monitor_drift, self.reference_temperature_drift,
                self.polarimeter_offset_drift)

    def _init_drifts(self, rng: np.random.Generator) -> None:
        p = self.params
        streams = rng.spawn(7)
        f = p.fields
        self.field_drifts = tuple(OUDrift(f.drift_rms_uG, f.drift_correlation_s, streams[i]) for i in range(3))
        o = p.optics
        self.power_drift = OUDrift(o.power_drift_rms_fraction, o.power_drift_correlation_s, streams[3])
        self.monitor_drift = OUDrift(o.monitor_drift_rms_fraction, o.monitor_drift_correlation_s, streams[6])
        r = p.reference_cell
        self.reference_temperature_drift = OUDrift(r.temperature_drift_rms_C, r.temperature_drift_correlation_s,
                                                   streams[4])
        pol = p.polarimeter
        self.polarimeter_offset_drift = OUDrift(pol.offset_drift_rms_urad * 1e-6, pol.offset_drift_correlation_s,
                                                streams[5])

    # --- light -------------------------------------------------------------------------------------
    def light_power_uW(self, state: ApparatusState) -> float:
        """Light power into the coated cell, uW: attenuator transfer (sin^2 of the drive, with a small
        extinction floor) times the laser's power factor from its diode current, times (1 + the slow
        power drift at the state's time)."""
        if not state.laser_on:
            return 0.0
        o = self.params.optics
        if state.attenuator_V is None:
            base = o.default_power_uW
        else:
            frac = min(max(state.attenuator_V / o.attenuator_full_scale_V, 0.0), 1.0)
            base = o.max_power_uW * (o.attenuator_extinction
                                     + (1.0 - o.attenuator_extinction) * math.sin(0.5 * math.pi * frac) ** 2)
        drift = 1.0 + self.power_drift.value(state.time_s)
        return base * self.laser.power_factor(state.diode_current_mA) * max(drift, 0.0)

    def light_monitor_V(self, state: ApparatusState) -> float:
        """Light-power monitor photodiode, V (its ratio to the light in the cell drifts slowly)."""
        ratio = 1.0 + self.monitor_drift.value(state.time_s)
        return self.params.optics.monitor_V_per_uW * self.light_power_uW(state) * ratio

    def laser_detuning_MHz(self, t_s: float, state: ApparatusState) -> float:
        """Laser centre frequency minus the selected line's 39K centre of gravity, MHz, drift included."""
        return self.laser.detuning_MHz(t_s, state.wavelength_nm, state.piezo_pct, state.control_V,
                                       state.diode_current_mA)[1]

    def mode_hop(self, jump_MHz: float) -> None:
        """Sudden laser frequency jump, for fault tests."""
        self.laser.mode_hop(jump_MHz)

    def field_in_cell_uG(self, state: ApparatusState) -> tuple[float, float, float]:
        """Coil field plus the residual field and its drift at the state's time, uG."""
        r = self.params.fields.residual_uG
        a = state.field_uG
        d = [drift.value(state.time_s) for drift in self.field_drifts]
        return (a[0] + r[0] + d[0], a[1] + r[1] + d[1], a[2] + r[2] + d[2])

    def _line_and_detuning(self, t_s: float, state: ApparatusState) -> tuple[str | None, float]:
        return self.laser.detuning_MHz(t_s, state.wavelength_nm, state.piezo_pct, state.control_V,
                                       state.diode_current_mA)

    def cell_transmission(self, t_s: float, state: ApparatusState) -> float:
        """Cycle-averaged transmission of the coated cell (weak probe), dimensionless."""
        line, det = self._line_and_detuning(t_s, state)
        return 1.0 if line is None else self._cell_dc[line](det)

    # --- NMOR polarimeter ----------------------------------------------------------------------------
    def nmor_rotation_rad(self, t_s: float, state: ApparatusState) -> float:
        """In-phase first-harmonic optical rotation amplitude, rad (peak of the cos(w_m t) part)."""
        line, det = self._line_and_detuning(t_s, state)
        power = self.light_power_uW(state)
        if line is None or power <= 0.0:
            return 0.0
        return self.nmor.rotation_at(self.field_in_cell_uG(state), power, det, line)

    def polarimeter_signal_V(self, t_s: float, state: ApparatusState) -> complex:
        """1f lock-in input, rms V; in-phase (X) on the real axis, a small Y from the reference phase."""
        line, det = self._line_and_detuning(t_s, state)
        power = self.light_power_uW(state)
        if line is None or power <= 0.0:
            return 0j
        pol = self.params.polarimeter
        angle = self.nmor.rotation_at(self.field_in_cell_uG(state), power, det, line)
        angle += self.polarimeter_offset_drift.value(t_s)
        x = self.polarimeter_V_per_rad * angle / _SQRT2
        return complex(x, pol.quadrature_fraction * x)

    def polarimeter_rotation_noise_rad_per_rtHz(self, state: ApparatusState) -> float:
        """Rotation noise density of the polarimeter: excess factor x photon shot noise of the light
        leaving the cell, 1/(2 sqrt(eta P / h nu)) rad/sqrt(Hz); inf without light."""
        pol = self.params.polarimeter
        line, det = self._line_and_detuning(state.time_s, state)
        power_W = self.light_power_uW(state) * 1e-6
        if line is not None:
            power_W *= self._cell_dc[line](det)
        shot = noise.polarimeter_shot_noise_rad_per_rtHz(power_W, state.wavelength_nm, pol.quantum_efficiency)
        return pol.excess_noise_factor * shot

    def polarimeter_noise_V_per_rtHz(self, state: ApparatusState) -> float:
        """Noise density at the 1f lock-in input: the polarimeter's rotation noise (excess factor x
        photon shot noise) times its gain in V/rad, in quadrature with the lock-in's input floor."""
        floor = self.params.polarimeter.electronic_noise_V_per_rtHz
        if not state.laser_on or self.light_power_uW(state) <= 0.0:
            return floor
        optical = self.polarimeter_V_per_rad * self.polarimeter_rotation_noise_rad_per_rtHz(state)
        return noise.quadrature_sum(optical, floor)

    # --- reference cell (2f lock) ---------------------------------------------------------------------
    def _reference_full_V(self, state: ApparatusState) -> float:
        if not state.laser_on:
            return 0.0
        ref = self.params.reference_cell
        return ref.photodiode_V_per_uW * ref.probe_power_uW * self.laser.power_factor(state.diode_current_mA)

    def _reference_harmonic(self, t_s: float, line: str, det: float, k: int) -> float:
        """DC (k=0) or S_2 (k=1) of the reference cell at its drifting temperature: linear in the
        temperature between the tables at temperature_C and temperature_C + 1 C (the vapour density
        rises ~10 %/C at 100 C, so +-0.1 C moves the 2f level and with it the lock point)."""
        cold = self._ref[line][k](det)
        dT = self.reference_temperature_drift.value(t_s)
        if dT == 0.0:
            return cold
        return cold + (dT / _REF_DT_C) * (self._ref_hot[line][k](det) - cold)

    def reference_dc_V(self, t_s: float, state: ApparatusState) -> float:
        """DC level of the reference-cell photodiode, V (divide the 2f signal by it to normalise)."""
        line, det = self._line_and_detuning(t_s, state)
        full = self._reference_full_V(state)
        return full if line is None else full * self._reference_harmonic(t_s, line, det, 0)

    def reference_2f_signal_V(self, t_s: float, state: ApparatusState) -> complex:
        """Reference-cell photodiode at 2f, rms V, in phase (real): V_full S_2 / sqrt 2."""
        line, det = self._line_and_detuning(t_s, state)
        if line is None:
            return 0j
        return complex(self._reference_full_V(state) * self._reference_harmonic(t_s, line, det, 1) / _SQRT2, 0.0)

    def reference_noise_V_per_rtHz(self, state: ApparatusState) -> float:
        """Reference photodiode noise density near 2f: RIN and shot noise of the DC level, plus the floor."""
        ref = self.params.reference_cell
        dc = self._reference_full_V(state)
        resp_A_per_W = noise.photocurrent_A(1.0, state.wavelength_nm, 0.8)
        gain_V_per_A = ref.photodiode_V_per_uW * 1e6 / resp_A_per_W
        shot = gain_V_per_A * noise.shot_noise_A_per_rtHz(dc / gain_V_per_A)
        return noise.quadrature_sum(ref.rin_per_rtHz * dc, shot, ref.electronic_noise_V_per_rtHz)

    # --- rf double resonance ------------------------------------------------------------------------
    def transmission_V(self, t_s: float, state: ApparatusState) -> float:
        """DC photodiode after the coated cell, V: P T_cell (1 + dT/T), dT/T from the rf lines."""
        line, det = self._line_and_detuning(t_s, state)
        power = self.light_power_uW(state)
        if power <= 0.0:
            return 0.0
        o = self.params.optics
        if line is None:
            return o.transmission_V_per_uW * power
        level = o.transmission_V_per_uW * power * self._cell_dc[line](det)
        if not state.rf_on:
            return level
        rf = self.params.rf
        contrast = rf.contrast * dr.pumping_factor(rf, power) * self._rf_detuning[line](det)
        field_G = math.sqrt(sum(b * b for b in self.field_in_cell_uG(state))) * 1e-6
        change = dr.transmission_change(rf, state.rf_freq_hz, state.rf_amplitude_dBm, power, field_G, contrast)
        return level * (1.0 + change)

    def transmission_noise_V_per_rtHz(self, state: ApparatusState) -> float:
        """Transmission photodiode noise density: laser RIN on the DC level plus the amplifier floor."""
        o = self.params.optics
        level = o.transmission_V_per_uW * self.light_power_uW(state)
        return noise.quadrature_sum(o.transmission_rin_per_rtHz * level,
                                    o.transmission_electronic_noise_V_per_rtHz)

    def rf_line_centre_hz(self, state: ApparatusState) -> float:
        """Centre of the 0-0 line for this light power and field, Hz."""
        field_G = math.sqrt(sum(b * b for b in self.field_in_cell_uG(state))) * 1e-6
        return dr.zero_zero_centre_hz(self.params.rf, self.light_power_uW(state), field_G)

    # --- summary -------------------------------------------------------------------------------------
    def best_detuning_MHz(self, line_name: str = "D1") -> float:
        """Detuning (MHz) at which the NMOR rotation is largest."""
        grid = np.arange(-1500.0, 1500.0, 1.0)
        table = self.nmor._spectral[line_name]
        return float(grid[np.argmax(table.at(grid))])

    def describe(self) -> list[tuple[str, float, str]]:
        """Derived quantities a physicist checks first: (quantity, value, units)."""
        p = self.params
        d1, d2 = LINES["D1"], LINES["D2"]
        cell_T, cell_n, cell_L = p.cell.temperature_C, self.cell_density_cm3, 2.0 * p.cell.radius_cm
        ref_T, ref_n, ref_L = p.reference_cell.temperature_C, self.reference_density_cm3, p.reference_cell.length_cm
        det = self.best_detuning_MHz("D1")
        out: list[tuple[str, float, str]] = [
            ("coated-cell density", cell_n, "cm^-3"),
            ("saturated density at cell temperature", vapor.number_density_cm3(cell_T), "cm^-3"),
            ("Doppler FWHM D1 (39K, cell)", vapor.doppler_fwhm_MHz(cell_T, d1.freq_MHz, MASS_39K_U), "MHz"),
            ("peak optical depth D1 (cell)", vapor.peak_optical_depth(d1, cell_T, cell_n, cell_L), ""),
            ("peak optical depth D2 (cell)", vapor.peak_optical_depth(d2, cell_T, cell_n, cell_L), ""),
            ("Larmor frequency F=2", LARMOR_F2_HZ_PER_UG, "Hz/uG"),
            ("Larmor frequency F=1", LARMOR_F1_HZ_PER_UG, "Hz/uG"),
            ("intrinsic Zeeman rate gamma/2pi", LARMOR_F2_HZ_PER_UG * p.nmor.intrinsic_width_uG, "Hz"),
            ("largest-rotation detuning D1", det, "MHz"),
            ("cell transmission at that detuning", self._cell_dc["D1"](det), ""),
        ]
        for power in (2.0, 10.7, 115.0):
            w2, w1 = widths_uG(p.nmor, "D1", power)
            a2, _ = self.nmor.amplitudes_rad("D1", power, det)
            out.append((f"NMOR F=2 width at {power:g} uW", w2, "uG"))
            out.append((f"NMOR F=1 width at {power:g} uW", w1, "uG"))
            out.append((f"peak F=2 rotation at {power:g} uW", 0.5e6 * a2, "urad"))
        s0, s2 = self._ref["D1"]

        def normalised_2f(d: float) -> float:
            return s2(d) / s0(d)
        centre_offset = dr.zero_zero_centre_hz(p.rf, 0.0, 1.4e-3) - p.rf.nu_ref_hz
        shot = noise.polarimeter_shot_noise_rad_per_rtHz(10e-6, d1.wavelength_nm, p.polarimeter.quantum_efficiency)
        out += [
            ("reference-cell density", ref_n, "cm^-3"),
            ("reference-cell peak OD D1", vapor.peak_optical_depth(d1, ref_T, ref_n, ref_L), ""),
            ("reference 2f/DC at -250 MHz", normalised_2f(-250.0), ""),
            ("reference 2f/DC slope at -250 MHz", (normalised_2f(-249.0) - normalised_2f(-251.0)) / 2.0, "1/MHz"),
            ("0-0 centre minus nu_ref at 1.4 mG, zero light", centre_offset, "Hz"),
            ("0-0 FWHM at zero light and rf", dr.fwhm_hz(p.rf, 0.0, -300.0), "Hz"),
            ("0-0 FWHM at 12 uW, -20 dBm", dr.fwhm_hz(p.rf, 12.0, -20.0), "Hz"),
            ("polarimeter shot noise at 10 uW", shot, "rad/Hz^0.5"),
        ]
        return out
