"""The simulated lab's noise budget, computed from its physics model and config (every number of
docs/noise.md's tables comes from here):

    PYTHONPATH=src python bench/noise_budget.py

1. polarimeter: transmitted power, photon shot noise, x excess, in rad/sqrt(Hz) and V/sqrt(Hz) at the
   lock-in input; the rotation amplitude; the point error of the paper.toml B scans;
2. drifts: each source's rms, correlation time, short-time random-walk rate and change over a scan;
   the lock-point wander that the reference-cell temperature drift causes through the 2f lock;
3. rf: the noiseless bias of the paper's two straight-line extrapolations (light, then rf power) of
   the 0-0 width and centre, for the rf powers of paper.toml and for -30..-24 dBm.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np

from kmor.config.files import load_config
from kmor.sequences.common import settle_time_s_for
from kmor.sim.instruments.sr830 import ENBW_TIMES_TAU
from kmor.sim.physics import double_resonance as dr
from kmor.sim.physics import noise, reference_cell, vapor
from kmor.sim.physics.constants import LINES
from kmor.sim.physics.model import ApparatusState, LabPhysics
from kmor.sim.physics.params import without_drifts

PAPER = Path(__file__).resolve().parents[1] / "config" / "sequences" / "paper.toml"


def polarimeter(physics: LabPhysics, cal_V_per_rad: float) -> None:
    p = physics.params
    det = physics.best_detuning_MHz("D1")
    steps = [s for s in tomllib.loads(PAPER.read_text())["steps"] if s["kind"] == "bscan_series"]
    print("1. Polarimeter (D1, laser at the largest-rotation detuning "
          f"{det:.0f} MHz, cell transmission {physics._cell_dc['D1'](det):.3f})")
    print(f"   gain {cal_V_per_rad:g} V/rad ([polarimeter] calibration_V_per_rad); excess factor "
          f"{p.polarimeter.excess_noise_factor:g}; quantum efficiency {p.polarimeter.quantum_efficiency:g}")
    print("   P_in uW | P_det uW | shot rad/rtHz | x excess rad/rtHz | V/rtHz at input | peak rotation urad "
          "| point error urad | peak/point error")
    for step in steps:
        tau = step.get("time_constant_s", 0.1)
        averages = step.get("averages", 4)
        enbw = ENBW_TIMES_TAU[3] / tau                      # 24 dB/oct, the B-scan default
        for power in step["light_powers_uW"]:
            state = ApparatusState(attenuator_V=None, control_V=det / p.laser.control_MHz_per_V)
            physics_p = LabPhysics(without_drifts(_with_power(p, power)), np.random.default_rng(0),
                                   polarimeter_V_per_rad=cal_V_per_rad)
            p_det = power * physics_p._cell_dc["D1"](det)
            shot = noise.polarimeter_shot_noise_rad_per_rtHz(p_det * 1e-6, LINES["D1"].wavelength_nm,
                                                             p.polarimeter.quantum_efficiency)
            rad = physics_p.polarimeter_rotation_noise_rad_per_rtHz(state)
            volts = physics_p.polarimeter_noise_V_per_rtHz(state)
            a2, _ = physics_p.nmor.amplitudes_rad("D1", power, det)
            peak_urad = 0.5e6 * a2
            # X (rms) noise per reading: e_n sqrt(ENBW); readings 5 tau apart are nearly independent;
            # in rotation-amplitude units multiply by sqrt 2 (X = gain x amplitude / sqrt 2).
            point_urad = 1e6 * math.sqrt(2.0) * rad * math.sqrt(enbw) / math.sqrt(averages)
            print(f"   {power:7.1f} | {p_det:8.2f} | {shot:13.3g} | {rad:17.3g} | {volts:15.3g} | "
                  f"{peak_urad:18.1f} | {point_urad:16.3f} | {peak_urad / point_urad:6.0f}")
        settle = settle_time_s_for(tau, 24)
        print(f"   (scan step: tau {tau:g} s, 24 dB/oct, ENBW {enbw:.2f} Hz, {averages} readings 5 tau apart after "
              f"a {settle:.2f} s settle)")


def _with_power(p, power_uW: float):
    import dataclasses
    return dataclasses.replace(p, optics=dataclasses.replace(p.optics, default_power_uW=power_uW))


def drifts(physics: LabPhysics) -> None:
    p = physics.params
    print("\n2. Slow drifts (Ornstein-Uhlenbeck: rms, correlation time tau; short-time walk rms sqrt(2/tau) "
          "per sqrt(s))")
    rows = [("residual field, each axis", physics.field_drifts[0], 1.0, "uG"),
            ("light power into the cell", physics.power_drift, 100.0, "%"),
            ("monitor reading / light in cell", physics.monitor_drift, 100.0, "%"),
            ("reference-cell temperature", physics.reference_temperature_drift, 1.0, "C"),
            ("polarimeter 1f offset", physics.polarimeter_offset_drift, 1e6, "urad")]
    for name, d, scale, units in rows:
        change_20 = d.rms * math.sqrt(2.0 * (1.0 - math.exp(-1200.0 / d.correlation_s)))
        change_4 = d.rms * math.sqrt(2.0 * (1.0 - math.exp(-240.0 / d.correlation_s)))
        print(f"   {name:28s} rms {d.rms * scale:6.3g} {units:4s} tau {d.correlation_s:6.0f} s   "
              f"rms change over 4 min {change_4 * scale:6.3g}, over 20 min {change_20 * scale:6.3g} {units}")
    ref = p.reference_cell
    amp = p.laser.modulation_amplitude_MHz
    n0 = vapor.number_density_cm3(ref.temperature_C)
    n1 = vapor.number_density_cm3(ref.temperature_C + 1.0)
    cold = reference_cell.tables("D1", ref.temperature_C, n0, ref.length_cm, amp)[1]
    hot = reference_cell.tables("D1", ref.temperature_C + 1.0, n1, ref.length_cm, amp)[1]
    det = physics.best_detuning_MHz("D1")
    slope = (cold(det + 1.0) - cold(det - 1.0)) / 2.0
    shift_per_C = -(hot(det) - cold(det)) / slope
    print(f"   lock point: the 2f level at {det:.0f} MHz changes by {hot(det) - cold(det):.3g} per C "
          f"(density +{100 * (n1 / n0 - 1):.0f} %/C), the flank slope is {slope:.3g} per MHz: the lock moves "
          f"{shift_per_C:.1f} MHz/C, i.e. {abs(shift_per_C) * ref.temperature_drift_rms_C:.1f} MHz rms")
    grid = det + np.array([-1.0, 0.0, 1.0]) * abs(shift_per_C) * ref.temperature_drift_rms_C
    factors = [physics.nmor.spectral_factor("D1", d) for d in grid]
    print(f"   NMOR spectral factor there: {factors[0]:.4f} {factors[1]:.4f} {factors[2]:.4f} "
          "(the lock sits at the largest rotation: the wander changes the amplitude only to second order)")


def rf_bias(physics: LabPhysics) -> None:
    rf = physics.params.rf
    grid = next(s for s in tomllib.loads(PAPER.read_text())["steps"] if s["kind"] == "rf_grid")
    light = np.asarray(grid["light_powers_uW"], float)
    print("\n3. rf: noiseless bias of the paper's procedure (0-0 FWHM straight in light power to zero "
          "light at each rf power, then those straight in rf power (mW) to zero), model widths only")
    for levels in (grid["rf_powers_dBm"], [-30.0, -27.0, -24.0], [-40.0, -37.0, -34.0]):
        mw = np.array([dr.rf_power_mW(level) for level in levels])
        zero_light = []
        for level in levels:
            widths = [dr.fwhm_hz(rf, p_uW, level) for p_uW in light]
            zero_light.append(np.polyfit(light, widths, 1)[1])
        intercept = np.polyfit(mw, zero_light, 1)[1]
        exact = [dr.fwhm_hz(rf, 0.0, level) for level in levels]
        print(f"   rf {levels[0]:g}..{levels[-1]:g} dBm, light {light.min():g}..{light.max():g} uW: zero-light widths "
              + ", ".join(f"{w:.2f}" for w in zero_light) + " Hz (exact "
              + ", ".join(f"{w:.2f}" for w in exact) + f" Hz); extrapolated FWHM {intercept:.2f} Hz, "
              f"bias {intercept - rf.intrinsic_fwhm_hz:+.2f} Hz against {rf.intrinsic_fwhm_hz:g} Hz")
    print("   centre: the model's 0-0 centre has no light or rf-power dependence (light_shift_hz_per_uW = "
          f"{rf.light_shift_hz_per_uW:g}), so the straight lines in the centre are unbiased.")


def main() -> None:
    loaded = load_config()
    cal = loaded.config.polarimeter.calibration_V_per_rad
    physics = LabPhysics(loaded.config.sim.physics, np.random.default_rng(loaded.config.sim.seed),
                         polarimeter_V_per_rad=cal)
    polarimeter(physics, cal)
    drifts(physics)
    rf_bias(physics)


if __name__ == "__main__":
    main()
