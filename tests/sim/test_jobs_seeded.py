"""A batch job's simulated measurement depends only on the seed and the job (decision 0104): after
`begin_job(k, planned start)` two labs with the same seed read the same numbers, whatever each did before (reads,
waits, other settings, a different lab time), so a job re-run after `kmor run --resume` repeats
what the uninterrupted run measured."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kmor.config.files import load_config
from kmor.sim.lab import SimLab
from kmor.sim.physics.constants import LINES
from kmor.sim.physics.drift import OUDrift


def _lab(*, quiet_laser: bool) -> SimLab:
    """The default lab with the laser on D1 at the lock point, a few uW into the cell, the rf on
    the counter, lock-ins at 10 us (their filters forget the past at once: what is left to differ
    is the random draws, not the lab's memory of its past inputs). With
    `quiet_laser` the laser does not drift: its frequency carries over into a job by design (the
    lock holds it), so labs with different pasts agree only when there is no walk to carry."""
    cfg = load_config().config
    physics = cfg.sim.physics
    if quiet_laser:
        laser = dataclasses.replace(physics.laser, drift_random_walk_MHz_per_rtS=0.0, drift_linear_MHz_per_h=0.0)
        physics = dataclasses.replace(physics, laser=laser)
    cfg = dataclasses.replace(cfg, sim=dataclasses.replace(cfg.sim, physics=physics))
    lab = SimLab(cfg)
    laser = lab.laser
    laser.output_on = True
    laser.current_setpoint_mA = 50.0
    laser.wavelength_setpoint_nm = LINES["D1"].wavelength_nm
    laser._move_from_nm = laser.wavelength_setpoint_nm
    lab.daq.write_ao_V(cfg.daq.attenuator_ao, 0.55)
    lab.daq.write_ao_V(cfg.daq.laser_control_ao, -2.5)
    lab.rf_generator.handle(b"FREQ:CW 461.7197 MHZ;:OUTP ON")
    lab.lockin_polarimeter.handle(b"OFLT 0")
    lab.lockin_reference.handle(b"OFLT 0;HARM 2")
    lab.counter.handle(b"MODE 3")
    return lab


def _busy_past(lab: SimLab) -> None:
    """Everything a lab may have done before a job: lab time passing, reads of every instrument
    (random draws), other outputs set and set back (the last just now: the lock-ins are up to
    date at the job's start here, and a second behind in the fresh lab)."""
    d = lab.config.daq
    for _ in range(7):
        lab.clock.advance(37.3)
        lab.lockin_polarimeter.handle(b"SNAP? 1,2")
        lab.lockin_reference.handle(b"OUTP? 1")
        lab.counter.handle(b"MEAS? 0")
        for ai in (d.transmission_ai, d.light_monitor_ai, d.lock_error_ai):
            lab.daq.read_ai_V(ai)
    lab.daq.write_ao_V(d.attenuator_ao, 2.0)
    lab.clock.advance(0.123)
    lab.daq.write_ao_V(d.attenuator_ao, 0.55)


def _job_readings(lab: SimLab) -> list[object]:
    """What a job reads, as the instruments report it: at its first instant it sets the light
    and asks the counter for its result (a new measurement, not one from before the job), then
    reads both lock-ins, every DAQ input and the counter every second for 15 s, and the lock error
    every 0.1 s as a servo does (the drifts move, the noise is drawn; the lab times are sums of
    steps that differ in their last bits from one lab to the other). (A lock-in read at the first instant itself would show the input before
    the job: a filter's memory, however short, is of the past.)"""
    d = lab.config.daq
    lab.daq.write_ao_V(d.attenuator_ao, 0.55)
    readings: list[object] = [lab.counter.handle(b"XAVG?")]
    for _ in range(15):
        for _ in range(10):
            lab.clock.advance(0.1)
            readings.append(lab.daq.read_ai_V(d.lock_error_ai))
        readings.append(lab.lockin_polarimeter.handle(b"SNAP? 1,2"))
        readings.append(lab.lockin_reference.handle(b"SNAP? 1,2"))
        readings += [lab.daq.read_ai_V(ai) for ai in (d.transmission_ai, d.light_monitor_ai, d.lock_error_ai)]
        readings.append(lab.counter.handle(b"MEAS? 0"))
    return readings


def test_a_job_reads_the_same_whatever_the_lab_did_before():
    fresh, busy = _lab(quiet_laser=True), _lab(quiet_laser=True)
    fresh.clock.advance(1.0)
    _busy_past(busy)
    fresh.begin_job(3, 900.0)
    busy.begin_job(3, 900.0)
    assert _job_readings(fresh) == _job_readings(busy)


def test_another_job_reads_other_numbers():
    three, four = _lab(quiet_laser=True), _lab(quiet_laser=True)
    three.begin_job(3, 900.0)
    four.begin_job(4, 1200.0)
    a, b = _job_readings(three), _job_readings(four)
    assert sum(x != y for x, y in zip(a, b)) > len(a) // 2


def test_the_laser_keeps_its_frequency_and_takes_the_jobs_own_steps():
    fresh, busy = _lab(quiet_laser=False), _lab(quiet_laser=False)
    fresh.clock.advance(1.0)
    _busy_past(busy)
    steps = []
    for lab in (fresh, busy):
        laser, t0 = lab.physics.laser, lab.clock.now_s()
        before = laser.drift_MHz(t0)
        lab.begin_job(2, 600.0)
        assert laser.drift_MHz(t0) == before                 # no jump: a locked laser stays locked
        steps.append([laser.drift_MHz(t0 + dt) - before for dt in (0.01, 0.5, 3.0, 20.0)])
    assert steps[0] == pytest.approx(steps[1], rel=1e-9, abs=1e-12)
    assert steps[0][-1] != 0.0


def test_a_drift_steps_at_its_hold_time_even_a_rounding_error_early():
    """Lab times reached by different sums of waits differ in their last bits (SAME_INSTANT_S):
    a query a hair before a grid point of the path reads that grid point, as one exactly at it does."""
    exact = OUDrift(1.0, 100.0, np.random.default_rng(5))
    early = OUDrift(1.0, 100.0, np.random.default_rng(5))
    early.start_path_at(261.223, 1.0)
    assert early.value(261.223) == exact.value(1.0)
    assert early.value(262.223 - 1e-12) == exact.value(2.0) != exact.value(1.0)


def test_the_drifts_carry_on_from_one_job_to_the_next():
    """Job 1 planned to start 1200 s into the run, begun at 1250 s of lab time (job 0 took 4 %
    longer than its estimate), meets the drifts where job 0 left them, up to 50 s of drift."""
    lab = _lab(quiet_laser=True)
    lab.begin_job(0, 0.0)
    lab.clock.advance(1250.0)
    monitor = lab.physics.monitor_drift
    end_of_job0 = monitor.value(lab.clock.now_s())
    lab.begin_job(1, 1200.0)
    start_of_job1 = monitor.value(lab.clock.now_s())
    assert start_of_job1 == monitor.value(lab.clock.now_s() + 0.0)
    assert abs(start_of_job1 - end_of_job0) < 4 * monitor.rms * np.sqrt(2 * 50.0 / monitor.correlation_s)
    assert start_of_job1 != end_of_job0
