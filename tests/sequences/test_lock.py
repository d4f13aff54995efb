"""The laser lock: the servo runs during every wait, pulls back small jumps, reports a loss."""

from __future__ import annotations

import pytest

from kmor.sequences import events as ev
from kmor.sequences.errors import LockFailed
from kmor.sequences.laser import LaserSetupParams, setup_laser
from kmor.sequences.lock import LockParams, acquire_lock
from kmor.storage import read_scan

from seq_helpers import laser_and_lock

PIEZO_MHZ_PER_PCT = 100.0
CONTROL_MHZ_PER_V = 100.0   # the simulated laser's tuning coefficients


def test_servo_steps_at_its_period_during_waits(engine):
    def plan(e):
        laser_and_lock(e)
        before = e.servo.steps
        e.wait(1.0)
        return e.servo.steps - before
    assert engine.run(plan).result in (99, 100, 101)


def test_servo_pulls_a_40_MHz_jump_back_and_stays_locked(engine, station):
    def plan(e):
        laser_and_lock(e)
        e.wait(2.0)
        control_before = e.servo.control_V
        station.sim.physics.mode_hop(40.0)
        e.wait(3.0)
        return control_before, e.servo.control_V, e.servo.last_error_V, e.servo.lost
    before, after, error, lost = engine.run(plan).result
    assert not lost
    assert abs(error) < 0.02
    assert after - before == pytest.approx(-40.0 / CONTROL_MHZ_PER_V, abs=0.03)


def test_lock_record_has_the_setpoint_and_both_slopes(engine):
    lock = engine.run(lambda e: laser_and_lock(e)).result
    assert lock["piezo_pct"] == 47.5
    # the 2f flank: same sign versus the control input and the piezo, 100 MHz per V and per %
    assert lock["slope_V_per_V"] > 0.1
    assert lock["piezo_slope_V_per_pct"] == pytest.approx(
        lock["slope_V_per_V"] * PIEZO_MHZ_PER_PCT / CONTROL_MHZ_PER_V, rel=0.2)


def test_no_light_no_lock(engine):
    def plan(e):
        setup_laser(e, LaserSetupParams(current_mA=0.0, settle_s=0.1))
        return acquire_lock(e, LockParams(capture_timeout_s=1.0, max_relock_attempts=1))
    with pytest.raises(LockFailed):
        engine.run(plan)


def test_an_instrument_timeout_is_retried_not_fatal(engine, station):
    """Three lost replies (the driver tries 3 times) suspend the point and measure it again."""
    library = station.lockin_polarimeter._resource.visalib
    resource = station.config.instruments.lockin_polarimeter.resource
    lost = {"n": 0}

    def lose_three_replies(direction, data):
        if direction == "read" and b"," in data and lost["n"] < 3:
            lost["n"] += 1
            return None
        return data
    suspended = []
    engine.bus.subscribe(lambda e: suspended.append(e.message) if e.kind == ev.SUSPENDED else None,
                         synchronous=True)

    def arm(event):
        if event.kind == ev.POINT and event.index == 3:
            library.set_fault(resource, lose_three_replies)
    engine.bus.subscribe(arm, synchronous=True)
    columns = {"index": ("", "i8"), "x_V": "V"}

    def plan(e):
        with e.scan("test", columns, {}, expected_points=8) as scan:
            for i in range(8):
                scan.point(lambda i=i: {"index": i, "x_V": station.lockin_polarimeter.snap("x_V", "y_V")["x_V"]})
            return scan.path
    outcome = engine.run(plan)
    assert outcome.status == "complete"
    assert len(suspended) == 1 and "timeout" in suspended[0]
    scan = read_scan(outcome.result)
    assert scan.n_points == 8 and len(scan.suspensions) == 1
