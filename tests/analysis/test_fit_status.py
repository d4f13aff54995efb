"""Every fit says how good it is (docs/decisions/0110): synthetic scans written to real HDF5 files
get "fitted", "model mismatch" or "no signal" from stated tests, with chi2_red against the recorded
errors and the ratio of the residual scatter to them; mismatched scans stay out of the
extrapolations unless asked, and a scan without a resonance never gets a width."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_report_synthetic_data import SyntheticLab, bscan_rows, write_bscan, write_rfscan

from kmor.analysis import analyze
from kmor.analysis.files import load_scan
from kmor.analysis.hyperfine import fit_rfscan
from kmor.analysis.quality import FITTED, MISMATCH, NO_SIGNAL
from kmor.analysis.zeeman import fit_bscan
from kmor.storage import new_run_dir


def bscan(tmp_path, rows=None, power_uW=6.0, seed=2, **kw):
    run = new_run_dir(tmp_path / "data", f"s{seed}")
    lab = SyntheticLab(seed)
    return fit_bscan(load_scan(write_bscan(run, lab, power_uW, range_uG=40.0, rows=rows, **kw)))


def noise_only_rows(seed: int, power_uW: float = 6.0, noise_factor: float = 8.0):
    """A scan as with the light blocked: the rows of a real scan with the resonance removed,
    leaving the noise and the recorded errors."""
    lab = SyntheticLab(seed)
    rows = bscan_rows(lab, power_uW, 40.0, 1.0, noise_factor)
    clean = bscan_rows(SyntheticLab(seed), power_uW, 40.0, 1.0, 0.0)
    for r, c in zip(rows, clean):
        r["x_V"] -= c["x_V"]
    return rows


def test_a_good_scan_is_fitted_with_chi2_red_near_one(tmp_path):
    b = bscan(tmp_path, noise_factor=8.0)
    q = b.quality
    assert q.status == FITTED and b.has_width
    assert 0.7 < q.chi2_red < 1.4 and 0.8 < q.scatter_ratio < 1.2
    assert q.error_scale == pytest.approx(math.sqrt(max(1.0, q.chi2_red)))
    assert "pooled recorded error (2 readings" in b.sigma_rule
    assert b.as_dict()["fit_status"] == FITTED and b.as_dict()["quality"]["chi2_red"] == q.chi2_red


def test_noise_twenty_times_the_recorded_errors_shows_and_scales_the_errors(tmp_path):
    """White noise 20x the stated errors is not a mismatch (both sweeps scatter alike), but
    chi2_red ~ 400 and a scatter ratio ~ 20 say so, and the width error grows by ~20."""
    rows = bscan_rows(SyntheticLab(3), 6.0, 40.0, 1.0, noise_factor=20.0)
    for r in rows:
        r["x_err_V"] /= 20.0                   # the recorded errors claim 20x less noise
    b = bscan(tmp_path, rows=rows, seed=3)
    q = b.quality
    assert q.status == FITTED
    assert 250 < q.chi2_red < 600 and 16 < q.scatter_ratio < 24
    assert b.width_err_uG == pytest.approx(b.fit.width_err_uG * math.sqrt(q.chi2_red))
    clean = bscan(tmp_path, noise_factor=1.0, seed=4)
    assert abs(b.fit.width_uG - clean.fit.width_uG) < 3 * b.width_err_uG
    assert abs(b.fit.width_uG - clean.fit.width_uG) > 0.5 * b.fit.width_err_uG   # the unscaled error is too small


def test_a_shape_the_model_does_not_describe_is_a_model_mismatch(tmp_path):
    """An absorptive component as large as the peak, which the dispersive curve cannot follow."""
    rows = bscan_rows(SyntheticLab(5), 6.0, 40.0, 1.0, noise_factor=4.0)
    peak = max(abs(r["x_V"]) for r in rows)
    for r in rows:
        r["x_V"] += peak / (1.0 + (r["field_set_uG"] / 4.0) ** 2)
    b = bscan(tmp_path, rows=rows, seed=5)
    q = b.quality
    assert q.status == MISMATCH and q.mismatch_fraction > 0.05 and q.lack_of_fit_p < 1e-6
    assert "does not describe" in q.reason and b.has_width


@pytest.mark.parametrize("seed", range(6))
def test_pure_noise_is_no_signal_and_has_no_width(tmp_path, seed):
    b = bscan(tmp_path, rows=noise_only_rows(seed), seed=seed)
    assert b.quality.status == NO_SIGNAL and not b.has_width
    assert b.quality.signal_p >= 1e-6 and "F-test against a straight line" in b.quality.reason
    d = b.as_dict()
    assert d["width_uG"] is None and d["gamma_hz"] is None and d["rotation_amplitude"] is None


def test_a_field_range_without_the_resonance_is_no_signal(tmp_path):
    rows = noise_only_rows(6)
    clean = bscan_rows(SyntheticLab(6), 6.0, 40.0, 1.0, 0.0)
    peak = max(abs(r["x_V"]) for r in clean)
    for r in rows:                              # a scan from 260 to 340 uG: only the far wing
        r["field_set_uG"] += 300.0
        r["field_uG"] += 300.0
        r["x_V"] += peak * 8.0 / r["field_set_uG"]
    b = bscan(tmp_path, rows=rows, seed=6)
    assert b.quality.status == NO_SIGNAL and not b.has_width


def test_mismatched_and_no_signal_scans_stay_out_of_the_extrapolation_unless_asked(tmp_path):
    run = new_run_dir(tmp_path / "data", "mixed")
    lab = SyntheticLab(8)
    for p in (2.0, 4.0, 6.0, 8.0):
        write_bscan(run, lab, p, range_uG=40.0, noise_factor=6.0)
    rows = bscan_rows(lab, 10.0, 40.0, 1.0, noise_factor=4.0)
    peak = max(abs(r["x_V"]) for r in rows)
    for r in rows:
        r["x_V"] += peak / (1.0 + (r["field_set_uG"] / 5.0) ** 2)
    bad = write_bscan(run, lab, 10.0, range_uG=40.0, rows=rows)
    dark = write_bscan(run, lab, 3.0, range_uG=40.0, rows=noise_only_rows(9, 3.0))
    summary = analyze([run], tmp_path / "report", figures=False)
    outcome = {s.file: s.outcome for s in summary.scans}
    assert outcome[str(bad.resolve())] == MISMATCH and outcome[str(dark.resolve())] == NO_SIGNAL
    z = summary.zeeman["D1"]
    assert z.extrapolation.n_points == 4
    assert str(dark.resolve()) not in [s.file for s in z.scans]          # no width: not even shown
    assert any("1 scan(s) model mismatch" in line for line in summary.headline())
    report = summary.report_path.read_text()
    assert "**model mismatch**" in report and "chi2_red" in report and "scatter / errors" in report

    put_back = analyze([run], tmp_path / "report2", figures=False, include_mismatched=True)
    assert put_back.zeeman["D1"].extrapolation.n_points == 5
    assert {s.file: s.outcome for s in put_back.scans}[str(bad.resolve())] == "used"
    assert put_back.zeeman["D1"].delta_b0_uG != z.delta_b0_uG


def test_rf_scans_get_the_same_statuses(tmp_path):
    run = new_run_dir(tmp_path / "data", "rf")
    lab = SyntheticLab(11)
    good = fit_rfscan(load_scan(write_rfscan(run, lab, 6.0, -34.0, noise_V=4e-6, repeats=6)))
    assert good.fit_status == FITTED and good.fit is not None
    assert 0.6 < good.quality.chi2_red < 1.6 and 0.7 < good.quality.scatter_ratio < 1.3
    assert good.fit.fwhm_err_hz == pytest.approx(good.unscaled_errors_hz["fwhm_hz"] * good.quality.error_scale)

    noise = fit_rfscan(load_scan(write_rfscan(run, lab, 6.0, -120.0, noise_V=4e-6, repeats=6)))
    assert noise.fit_status == NO_SIGNAL and noise.fit is None       # rf practically off: no line

    path = write_rfscan(run, lab, 6.0, -34.0, noise_V=1e-6, repeats=6)
    import h5py
    with h5py.File(path, "r+") as f:                                  # a dispersive distortion of the line
        freq = f["columns/freq_set_hz"][:]
        n = int(f.attrs["n_points"])
        u = (freq[:n] - 461_719_711.0) / 6.0
        peak = float(np.ptp(f["columns/transmission_V"][:n]))
        f["columns/transmission_V"][:n] += peak * u / (1.0 + u * u)
    bad = fit_rfscan(load_scan(path))
    assert bad.fit_status == MISMATCH and "does not describe" in bad.quality.reason
