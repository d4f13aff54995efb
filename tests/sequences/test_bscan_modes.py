"""B scans: stepped and hardware-timed give the same curve; overloads range up and re-take."""

from __future__ import annotations

import numpy as np
import pytest

from kmor.analysis import fit_nmor
from kmor.sequences.bscan import BScanParams, run_bscan
from kmor.storage import read_scan

from seq_helpers import laser_and_lock

BASE = dict(field_range_uG=30.0, step_uG=1.0, light_power_uW=6.0, time_constant_s=0.003,
            filter_slope_dB_per_oct=12)


def test_hardware_timed_sweep_matches_the_stepped_scan(engine, station):

    def plan(e):
        laser_and_lock(e)
        residual = station.config.sim.physics.fields.residual_uG
        station.coils.set_fields_uG({"bx": -residual[0], "by": -residual[1]})   # as zeroed
        stepped = run_bscan(e, BScanParams(**BASE, averages=2))
        timed = run_bscan(e, BScanParams(**BASE, hardware_timed=True, signal_ai="ai3",
                                         sweep_rate_hz=1000.0, samples_per_point=40))
        return stepped, timed
    outcome = engine.run(plan)
    widths = []
    for summary in outcome.result:
        scan = read_scan(summary["scan"])
        assert scan.status == "complete" and scan.n_points == 122
        c = scan.columns
        widths.append(fit_nmor(c["field_set_uG"], c["x_V"]).width_uG)
    expected = 2.9 + 0.91 * 6.0      # intrinsic + power broadening of the simulated cell
    assert abs(widths[0] - expected) < 0.6 and abs(widths[1] - widths[0]) < 0.4


@pytest.mark.parametrize("mode", [{}, {"hardware_timed": True, "signal_ai": "ai3", "sweep_rate_hz": 1000.0,
                                       "samples_per_point": 40},
                                  {"readout": "lockin_buffer", "averages": 8, "buffer_rate_hz": 512.0}],
                         ids=["stepped", "hardware_timed", "lockin_buffer"])
def test_overload_ranges_up_and_records_the_sensitivity(engine, station, mode):
    def plan(e):
        laser_and_lock(e)
        return run_bscan(e, BScanParams(**{**BASE, "averages": 1, **mode}, sensitivity_V=5e-6))
    scan = read_scan(engine.run(plan).result["scan"])
    assert scan.status == "complete"
    sens = scan.columns["sensitivity_V"]
    assert sens.min() >= 5e-6 and sens.max() > 5e-6
    assert scan.parameters["sensitivity_start_V"] == 5e-6
    assert np.all(np.diff(sens) >= 0)        # ranged up where the signal grew, never down
    x = scan.columns["x_V"]
    assert np.all(np.abs(x) < 0.98 * sens)   # no reading was kept beyond its range
