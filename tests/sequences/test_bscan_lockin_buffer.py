"""B scan read through the lock-in's own buffer: the same curve as the stepped scan, in less lab
time, with the estimate matching the lab time it took."""

from __future__ import annotations

import pytest
from seq_helpers import laser_and_lock

from kmor.analysis import fit_nmor
from kmor.sequences.bscan import BScanParams, estimate_s, run_bscan
from kmor.storage import read_scan

BASE = dict(field_range_uG=30.0, step_uG=1.0, light_power_uW=6.0, time_constant_s=0.003,
            filter_slope_dB_per_oct=12)


def test_buffered_sweep_matches_the_stepped_scan_and_its_estimate(engine, station):
    buffered = BScanParams(**BASE, averages=8, readout="lockin_buffer", buffer_rate_hz=512.0)
    assert buffered.problems() == []

    def plan(e):
        laser_and_lock(e)
        residual = station.config.sim.physics.fields.residual_uG
        station.coils.set_fields_uG({"bx": -residual[0], "by": -residual[1]})   # as zeroed
        stepped = run_bscan(e, BScanParams(**BASE, averages=2))
        t0 = e.now_s()
        fast = run_bscan(e, buffered)
        return stepped, fast, e.now_s() - t0
    outcome = engine.run(plan)
    stepped, fast, took_s = outcome.result
    widths = []
    for summary in (stepped, fast):
        scan = read_scan(summary["scan"])
        assert scan.status == "complete" and scan.n_points == 122
        widths.append(fit_nmor(scan.columns["field_set_uG"], scan.columns["x_V"]).width_uG)
    c = read_scan(fast["scan"]).columns
    assert (c["x_err_V"] > 0).all() and (c["y_err_V"] > 0).all()
    assert abs(widths[1] - widths[0]) < 0.4
    ramp = station.config.limits.max_ramp_uG_per_s
    print(f"buffered B scan: {took_s:.2f} s of lab time, estimate {estimate_s(buffered, ramp):.2f} s")
    assert took_s == pytest.approx(estimate_s(buffered, ramp), rel=0.25)


def test_buffer_too_small_for_a_sweep_is_refused_by_name():
    p = BScanParams(**BASE, averages=400, readout="lockin_buffer", buffer_rate_hz=512.0)
    assert [key for key, _ in p.problems()] == ["buffer_rate_hz"]
    both = BScanParams(**BASE, readout="lockin_buffer", hardware_timed=True, signal_ai="ai3")
    assert [key for key, _ in both.problems()] == ["readout"]
