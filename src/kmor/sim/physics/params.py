"""Parameters of the simulated lab's physics, one frozen dataclass per `[sim.physics.<section>]` TOML
table. Defaults put the model in the seed paper's regime (D1 line, 3 cm paraffin-coated 39K cell at
47 C, 2-115 uW, 400 MHz frequency modulation at 1 kHz, reference cell at 100 C).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kmor.config.schema import param, section


@dataclass(frozen=True)
class CellParams:
    """Paraffin-coated potassium cell inside the magnetic shield."""

    temperature_C: float = param(47.0, units="C", min=0.0, max=200.0,
                                 doc="cell temperature (Doppler width, saturated density if no override)")
    density_override_cm3: float = param(5.0e9, units="cm^-3", min=0.0, max=1e14,
                                        doc="atom density; 0 = saturated vapour at temperature_C "
                                            "(the paper's 5e9 came from ~10% D1 absorption)")
    radius_cm: float = param(1.5, units="cm", min=0.1, max=10.0,
                             doc="inner radius of the spherical cell; the beam crosses a diameter")


@dataclass(frozen=True)
class LaserParams:
    """New Focus Velocity external-cavity diode laser: tuning coefficients, drift and modulation."""

    piezo_MHz_per_pct: float = param(100.0, units="MHz/%", min=-10000.0, max=10000.0,
                                     doc="frequency change per percent of piezo voltage")
    piezo_center_pct: float = param(50.0, units="%", min=0.0, max=100.0,
                                    doc="piezo setting at which the laser sits at initial_offset_MHz")
    control_MHz_per_V: float = param(100.0, units="MHz/V", min=-10000.0, max=10000.0,
                                     doc="frequency change per volt at the frequency-control input")
    current_MHz_per_mA: float = param(-20.0, units="MHz/mA", min=-10000.0, max=10000.0,
                                      doc="frequency change per mA of diode current away from nominal")
    nominal_current_mA: float = param(50.0, units="mA", min=0.0, max=500.0,
                                      doc="diode current at which the light power is the nominal one")
    threshold_current_mA: float = param(20.0, units="mA", min=0.0, max=500.0,
                                        doc="lasing threshold: no light below it, power linear above")
    initial_offset_MHz: float = param(0.0, units="MHz", min=-1e5, max=1e5,
                                      doc="detuning from the line's centre of gravity at t=0 with piezo "
                                          "at centre, 0 V control, nominal current")
    line_capture_nm: float = param(0.05, units="nm", min=0.0, max=5.0,
                                   doc="a set wavelength this close to D1/D2 puts the laser on that line")
    drift_random_walk_MHz_per_rtS: float = param(0.2, units="MHz/s^0.5", min=0.0, max=100.0,
                                                 doc="random-walk frequency drift (rms after 1 s)")
    drift_linear_MHz_per_h: float = param(20.0, units="MHz/h", min=-1e4, max=1e4,
                                          doc="steady frequency drift")
    modulation_freq_hz: float = param(1000.0, units="Hz", min=1.0, max=1e6,
                                      doc="frequency-modulation rate (lock-in reference)")
    modulation_amplitude_MHz: float = param(400.0, units="MHz", min=0.0, max=2000.0,
                                            doc="frequency-modulation amplitude A in nu0 + A cos(wt)")


@dataclass(frozen=True)
class ReferenceCellParams:
    """Heated uncoated reference cell and its photodiode, used for the 2f laser lock."""

    temperature_C: float = param(100.0, units="C", min=0.0, max=250.0, doc="reference-cell temperature")
    length_cm: float = param(0.1, units="cm", min=0.001, max=20.0,
                             doc="optical path; 1 mm at 100 C gives peak D1 OD ~0.45, so -250 MHz is on "
                                 "a monotonic 2f flank")
    probe_power_uW: float = param(100.0, units="uW", min=0.0, max=1e5,
                                  doc="light on the reference cell at nominal laser current")
    photodiode_V_per_uW: float = param(0.02, units="V/uW", min=0.0, max=100.0,
                                       doc="reference photodiode + amplifier responsivity")
    rin_per_rtHz: float = param(1e-6, units="1/Hz^0.5", min=0.0, max=1.0,
                                doc="relative intensity noise near 2 kHz")
    electronic_noise_V_per_rtHz: float = param(2e-8, units="V/Hz^0.5", min=0.0, max=1.0,
                                               doc="amplifier + lock-in input noise")
    temperature_drift_rms_C: float = param(0.1, units="C", min=0.0, max=50.0,
                                           doc="slow wander of the reference-cell temperature about temperature_C "
                                               "(a regulated oven, +-0.1 C: assumed). The vapour density and so the "
                                               "2f level change, and the lock follows: the lock point wanders")
    temperature_drift_correlation_s: float = param(1200.0, units="s", min=1.0, max=1e7,
                                                   doc="correlation time of that wander (oven thermal time; assumed)")


@dataclass(frozen=True)
class NmorParams:
    """Zero-field FM NMOR resonance of the coated cell (alignment model, F=2 plus nested F=1)."""

    intrinsic_width_uG: float = param(2.9, units="uG", min=0.01, max=1e4,
                                      doc="peak-to-peak width of the F=2 curve at zero light power")
    broadening_D1_uG_per_uW: float = param(0.91, units="uG/uW", min=0.0, max=1e3,
                                           doc="F=2 width growth per uW on D1 (linear power broadening)")
    broadening_D2_uG_per_uW: float = param(1.5, units="uG/uW", min=0.0, max=1e3,
                                           doc="F=2 width growth per uW on D2")
    saturation_power_D1_uW: float = param(400.0, units="uW", min=0.001, max=1e6,
                                          doc="power at which the D1 rotation reaches half its maximum (with "
                                              "max_rotation_D1_urad: ~12 urad at 2 uW, the paper's 'as low as 10 "
                                              "urad', Sec. II, and ~0.5 mrad at 115 uW, physics.md)")
    saturation_power_D2_uW: float = param(3.0, units="uW", min=0.001, max=1e6,
                                          doc="power at which the D2 rotation reaches half its maximum")
    max_rotation_D1_urad: float = param(2400.0, units="urad", min=0.0, max=1e6,
                                        doc="peak in-phase 1f rotation of the F=2 curve, saturated, best detuning "
                                            "(see saturation_power_D1_uW)")
    max_rotation_D2_urad: float = param(40.0, units="urad", min=0.0, max=1e6,
                                        doc="the same on D2 (strongly suppressed, unresolved 4P3/2)")
    f1_pump_ratio: float = param(3.6, units="", min=1e-3, max=1e3,
                                 doc="F=2 over F=1 optical pumping rate: the F=1 curve broadens this much slower")
    f1_relative_amplitude: float = param(1.0, units="", min=0.0, max=100.0,
                                         doc="F=1 over F=2 amplitude at high power (the nested feature)")
    f1_onset_power_uW: float = param(100.0, units="uW", min=0.001, max=1e6,
                                     doc="power where the F=1 amplitude reaches half of its high-power ratio")
    f1_onset_exponent: float = param(3.0, units="", min=1.0, max=8.0,
                                     doc="the F=1 ratio grows as P^n well below the onset power")
    fm_probe_phase_deg: float = param(70.0, units="deg", min=-180.0, max=180.0,
                                      doc="mix of dispersive (90) and absorptive (0) probe response in the FM "
                                          "signal; 70 puts the largest rotation ~250 MHz below the D1 centre")
    transit_amplitude_fraction: float = param(0.5, units="", min=-100.0, max=100.0,
                                              doc="amplitude of the broad transit-effect curve over F=2's")
    transit_width_uG: float = param(40000.0, units="uG", min=1.0, max=1e8,
                                    doc="peak-to-peak width of the transit-effect curve (linear over a uG scan)")
    offset_fraction: float = param(0.01, units="", min=-100.0, max=100.0,
                                   doc="constant rotation offset over the F=2 amplitude")


@dataclass(frozen=True)
class RfParams:
    """rf-optical double resonance on the 39K ground hyperfine transitions."""

    nu_ref_hz: float = param(461_719_720.1, units="Hz", min=1e8, max=1e9,
                             doc="free-atom 0-0 frequency at zero field")
    intrinsic_fwhm_hz: float = param(10.6, units="Hz", min=0.01, max=1e5,
                                     doc="0-0 FWHM at zero light and rf power (G2_0 = pi * this)")
    wall_shift_hz: float = param(-9.1, units="Hz", min=-1e4, max=1e4, doc="0-0 shift from wall collisions")
    light_broadening_hz_per_uW: float = param(2.0, units="Hz/uW", min=0.0, max=1e4,
                                              doc="FWHM added per uW of light (G2 = G2_0 + pi * this * P)")
    light_shift_hz_per_uW: float = param(0.0, units="Hz/uW", min=-1e3, max=1e3,
                                         doc="centre shift per uW (the paper saw none)")
    population_to_coherence_rate_ratio: float = param(1.0, units="", min=1e-3, max=1e3,
                                                      doc="G1/G2, held constant as light power changes")
    rabi_hz_per_sqrt_mW: float = param(160.0, units="Hz/mW^0.5", min=0.0, max=1e6,
                                       doc="0-0 Rabi frequency Omega_R/2pi per sqrt(mW) of generator power")
    sigma_weight: float = param(0.3, units="", min=0.0, max=100.0,
                                doc="rf power fraction driving sigma lines relative to pi lines (loop geometry)")
    contrast: float = param(1e-2, units="", min=0.0, max=1.0,
                            doc="largest fractional transmission change (full pumping, saturated rf, best detuning)")
    pumping_power_uW: float = param(10.0, units="uW", min=1e-3, max=1e6,
                                    doc="light power at which the pumped population difference is half its maximum")


@dataclass(frozen=True)
class PolarimeterParams:
    """Balanced polarimeter after the coated cell, into the 1f lock-in (its gain in V/rad is the lab's
    `[polarimeter] calibration_V_per_rad`, read from there: one number, one place)."""

    quantum_efficiency: float = param(0.8, units="", min=0.01, max=1.0,
                                      doc="photodiode quantum efficiency at 770 nm (silicon, ~0.8: physics.md; "
                                          "Hamamatsu S-series large-area Si PIN datasheets give 0.5 A/W = 0.8)")
    excess_noise_factor: float = param(3.0, units="", min=1.0, max=1e4,
                                       doc="rotation noise over the photon shot noise 1/(2 sqrt(N/s)) (paper, Sec. II: "
                                           "'exceeded the shot-noise limit by a factor of a few')")
    electronic_noise_V_per_rtHz: float = param(6e-9, units="V/Hz^0.5", min=0.0, max=1.0,
                                               doc="lock-in input noise floor (SR830 manual, specifications: 6 nV/rtHz "
                                                   "at 1 kHz)")
    quadrature_fraction: float = param(0.05, units="", min=-1.0, max=1.0,
                                       doc="Y/X of the signal (lock-in phase set slightly off; assumed)")
    offset_drift_rms_urad: float = param(3.0, units="urad", min=0.0, max=1e6,
                                         doc="slow drift of the 1f rotation offset (the FM's residual amplitude "
                                             "modulation on a polarimeter whose balance drifts thermally): assumed, "
                                             "sized so that 20-min scans at 2-4 uW (10-20 urad signals) scatter "
                                             "beyond their statistics as in the paper's Fig. 4 (errors x2)")
    offset_drift_correlation_s: float = param(600.0, units="s", min=1.0, max=1e7,
                                              doc="correlation time of that drift (thermal time of optics mounts, "
                                                  "minutes to tens of minutes; assumed)")


@dataclass(frozen=True)
class OpticsParams:
    """Light delivery to the coated cell and the photodiodes around it."""

    max_power_uW: float = param(140.0, units="uW", min=0.0, max=1e5,
                                doc="light into the coated cell with the attenuator fully open (headroom over "
                                    "the paper's 115 uW for the power drift)")
    default_power_uW: float = param(10.0, units="uW", min=0.0, max=1e5,
                                    doc="light into the coated cell when there is no attenuator")
    attenuator_full_scale_V: float = param(5.0, units="V", min=0.01, max=100.0,
                                           doc="attenuator drive for full transmission (sin^2 transfer)")
    attenuator_extinction: float = param(0.002, units="", min=0.0, max=1.0,
                                         doc="fraction of max_power left at 0 V")
    monitor_V_per_uW: float = param(0.04, units="V/uW", min=0.0, max=100.0,
                                    doc="light-power monitor photodiode per uW into the cell")
    transmission_V_per_uW: float = param(0.3, units="V/uW", min=0.0, max=100.0,
                                         doc="transmission photodiode per uW leaving the cell")
    transmission_rin_per_rtHz: float = param(3e-5, units="1/Hz^0.5", min=0.0, max=1.0,
                                             doc="relative intensity noise of the transmitted light (low f)")
    transmission_electronic_noise_V_per_rtHz: float = param(1e-7, units="V/Hz^0.5", min=0.0, max=1.0,
                                                            doc="photodiode amplifier noise")
    power_drift_rms_fraction: float = param(0.001, units="", min=0.0, max=0.5,
                                            doc="slow relative drift of the light into the cell after it was set "
                                                "(diode-laser power and polarisation through the attenuator: "
                                                "assumed). The monitor and the rf transmission signal see it; kept "
                                                "small (1.7e-5/sqrt(s) short-time walk) because the rf scans read "
                                                "the un-normalised transmission, whose 0-0 dip is ~0.05 %: 0.5 % "
                                                "made the 0-0 errors 10x the paper's")
    power_drift_correlation_s: float = param(7200.0, units="s", min=1.0, max=1e7,
                                             doc="correlation time of the power drift (assumed: thermal, hours)")
    monitor_drift_rms_fraction: float = param(0.03, units="", min=0.0, max=0.5,
                                              doc="slow drift of the monitor photodiode's reading relative to the "
                                                  "light in the cell (the pick-off ratio follows the laser's "
                                                  "polarisation and etalon fringes in the sampler: assumed, sized "
                                                  "with offset_drift_rms_urad for the paper's Fig. 4 scatter). Light "
                                                  "powers set and recorded through the monitor are off by it, so "
                                                  "widths scatter about their line in power (the paper's Fig. 4)")
    monitor_drift_correlation_s: float = param(1800.0, units="s", min=1.0, max=1e7,
                                               doc="correlation time of the monitor drift (assumed: thermal)")


@dataclass(frozen=True)
class FieldParams:
    """Magnetic field inside the shield apart from what the coils apply."""

    residual_uG: tuple[float, float, float] = param((2.5, -1.8, 0.3), units="uG", min=-1e5, max=1e5,
                                                    doc="residual field (Bx, By, Bz); light along z, "
                                                        "polarisation along x")
    drift_rms_uG: float = param(0.2, units="uG", min=0.0, max=1e4,
                                doc="slow drift of each residual-field component about residual_uG (shield "
                                    "magnetisation follows temperature; the paper nulled Bx, By to ~0.5 uG, Sec. II, "
                                    "so drifts of a few tenths of a uG over an hour are at that level: assumed)")
    drift_correlation_s: float = param(7200.0, units="s", min=1.0, max=1e7,
                                       doc="correlation time of the residual-field drift (shield thermal time; assumed)")


@dataclass(frozen=True)
class PhysicsParams:
    """Physics of the simulated potassium lab."""

    cell: CellParams = section(CellParams)
    laser: LaserParams = section(LaserParams)
    reference_cell: ReferenceCellParams = section(ReferenceCellParams)
    nmor: NmorParams = section(NmorParams)
    rf: RfParams = section(RfParams)
    polarimeter: PolarimeterParams = section(PolarimeterParams)
    optics: OpticsParams = section(OpticsParams)
    fields: FieldParams = section(FieldParams)


def without_drifts(params: PhysicsParams) -> PhysicsParams:
    """The same physics without the apparatus drifts of `drift.py` (residual field, light power,
    reference-cell temperature, polarimeter offset; the laser's own drift, which the lock removes, is
    kept): for tests of the deterministic model and noise measurements that must not see them."""
    r = dataclasses.replace
    return r(params,
             reference_cell=r(params.reference_cell, temperature_drift_rms_C=0.0),
             polarimeter=r(params.polarimeter, offset_drift_rms_urad=0.0),
             optics=r(params.optics, power_drift_rms_fraction=0.0, monitor_drift_rms_fraction=0.0),
             fields=r(params.fields, drift_rms_uG=0.0))
