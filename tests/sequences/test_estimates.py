"""`kmor check`'s lab-time estimate of each step kind is within 5 % of the time the step takes on
the simulated lab (short steps, so the suite stays fast; the estimate formulas are per point, so
short steps test the same terms as long ones)."""

from __future__ import annotations

import pytest
from seq_helpers import laser_and_lock

from kmor.sequences import zeroing
from kmor.sequences.batch import expand, params_from_dict
from kmor.sequences.runner import _run_job

TOLERANCE = 0.05


def estimate_and_run(engine, kind: str, params: dict) -> tuple[float, float]:
    """(estimated lab time, lab time the step took), both in s, through the batch's expansion."""
    p = params_from_dict(kind, params)
    jobs = expand([(kind, p)], engine.station.config)
    estimate = sum(j.estimate_s for j in jobs)
    t0 = engine.now_s()
    for job in jobs:
        _run_job(engine, job.kind, job.params, job.label)
    return estimate, engine.now_s() - t0


def test_laser_setup_estimate(engine):
    estimate, took = estimate_and_run(engine, "laser", {"line": "D1", "piezo_pct": 47.5})
    assert took == pytest.approx(estimate, rel=TOLERANCE)


def test_lock_estimate(engine):
    from kmor.sequences.laser import LaserSetupParams, setup_laser
    setup_laser(engine, LaserSetupParams(piezo_pct=47.5, settle_s=0.1))
    estimate, took = estimate_and_run(engine, "lock", {})
    assert took == pytest.approx(estimate, rel=TOLERANCE)


def test_lock_point_search_estimate(engine):
    from kmor.sequences.laser import LaserSetupParams, setup_laser
    setup_laser(engine, LaserSetupParams(piezo_pct=47.0, settle_s=0.1))
    estimate, took = estimate_and_run(engine, "lock_point_search", {
        "piezo_start_pct": 46.0, "piezo_stop_pct": 48.0, "piezo_step_pct": 0.5, "field_uG": 6.0,
        "light_power_uW": 10.0, "averages": 2})
    assert took == pytest.approx(estimate, rel=TOLERANCE)


def test_zeroing_estimate(engine):
    """Per pass the estimate is within 5 %; the number of passes depends on the noise (2 assumed,
    up to max_passes when it does not converge), so the test counts the passes the run made."""
    laser_and_lock(engine)
    params = {"light_power_uW": 3.0, "span_uG": 6.0, "tolerance_uG": 0.3, "bz_range_uG": 15.0,
              "bz_points": 11, "averages": 4}
    estimate, took = estimate_and_run(engine, "zeroing", params)
    passes = engine.context["zeroing"]["passes"]
    p = params_from_dict("zeroing", params)
    per_pass = zeroing.estimate_s(p, engine.station.config.limits.max_ramp_uG_per_s, passes=passes)
    assert took == pytest.approx(per_pass, rel=TOLERANCE)
    longest = sum(j.longest_s for j in expand([("zeroing", p)], engine.station.config))
    assert took <= longest * (1 + TOLERANCE)
    if passes == 2:
        assert took == pytest.approx(estimate, rel=TOLERANCE)


@pytest.mark.parametrize("averages", [1, 4])
def test_bscan_estimate(engine, averages):
    laser_and_lock(engine)
    estimate, took = estimate_and_run(engine, "bscan", {
        "light_power_uW": 10.0, "field_range_uG": 20.0, "step_uG": 1.0, "averages": averages,
        "time_constant_s": 0.03})
    assert took == pytest.approx(estimate, rel=TOLERANCE)


def test_hardware_timed_bscan_estimate(engine):
    """A sweep long against its auto-range preview, whose number of passes the noise decides."""
    laser_and_lock(engine)
    estimate, took = estimate_and_run(engine, "bscan", {
        "light_power_uW": 10.0, "field_range_uG": 40.0, "step_uG": 1.0, "hardware_timed": True,
        "signal_ai": "ai3", "sweep_rate_hz": 200.0, "samples_per_point": 60, "time_constant_s": 0.01})
    assert took == pytest.approx(estimate, rel=TOLERANCE)


def test_rfscan_estimate(engine):
    laser_and_lock(engine)
    estimate, took = estimate_and_run(engine, "rfscan", {
        "light_power_uW": 6.0, "rf_power_dBm": -30.0, "span_hz": 20.0, "repeats": 3,
        "transmission_samples": 100})
    assert took == pytest.approx(estimate, rel=TOLERANCE)
