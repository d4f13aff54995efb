"""The paper's units and figures: numbers with two-digit errors, rotation in urad from the
polarimeter calibration stored with every scan (V of lock-in X, labelled, without one), and a wide
rf scan's Zeeman components in a table of their own with Fig. 6."""

from __future__ import annotations

import h5py
import pytest
from test_report_synthetic_data import SyntheticLab, write_bscan, write_rfscan

from kmor.analysis import analyze
from kmor.analysis.files import load_scan
from kmor.analysis.numbers import format_p, format_pm
from kmor.analysis.zeeman import fit_bscan
from kmor.storage import new_run_dir


@pytest.mark.parametrize("value, error, text", [
    (11.934012, 0.0068, "11.9340 +- 0.0068 uG"),
    (11.934012, 0.068, "11.934 +- 0.068 uG"),
    (-9.1312, 0.21, "-9.13 +- 0.21 uG"),
    (1.5, 0.996, "1.5 +- 1.0 uG"),          # the error rounds up to 1.0: one decimal, not two
    (2903.3, 134.2, "2900 +- 130 uG"),
    (0.00612, 390.2, "0 +- 390 uG"),
    (5.0, None, "5 uG"),
    (None, 0.1, "-"),
])
def test_errors_have_two_significant_digits_and_values_match(value, error, text):
    assert format_pm(value, error, "uG") == text


def test_p_values_that_underflow_read_as_a_bound():
    assert format_p(0.0) == "< 1e-16" and format_p(3.2e-7) == "= 3.2e-07"


def _with_config(path, text: str) -> None:
    with h5py.File(path, "r+") as f:
        del f["meta/config_text"]
        f["meta/config_text"] = text


def test_rotation_is_in_urad_with_a_calibration_and_in_labelled_volts_without(tmp_path):
    run = new_run_dir(tmp_path / "data", "cal")
    lab = SyntheticLab(4)
    calibrated = write_bscan(run, lab, 6.0, range_uG=40.0, noise_factor=4.0)
    _with_config(calibrated, "[lab]\nname = 'x'\n\n[polarimeter]\ncalibration_V_per_rad = 0.5\n")
    plain = write_bscan(run, lab, 6.0, range_uG=40.0, noise_factor=4.0)
    b = fit_bscan(load_scan(calibrated))
    assert b.calibration_V_per_rad == 0.5 and b.rotation_units == "urad"
    rot = b.as_dict()["rotation_amplitude"]
    assert rot["units"] == "urad" and rot["value"] == pytest.approx(1e6 * b.fit.peak_signal / 0.5)
    u = fit_bscan(load_scan(plain))
    assert u.calibration_V_per_rad is None and u.rotation_units == "uV lock-in X, no calibration"
    summary = analyze([calibrated], tmp_path / "report")
    assert "| rotation (urad) |" in summary.report_path.read_text()
    assert (tmp_path / "report" / "figures" / "fig03_rotation_vs_field.png").stat().st_size > 10_000


def test_a_wide_scan_gets_fig6_and_a_table_of_its_zeeman_components(tmp_path):
    run = new_run_dir(tmp_path / "data", "wide")
    lab = SyntheticLab(12)
    write_rfscan(run, lab, 6.0, -34.0, repeats=3)
    write_rfscan(run, lab, 30.0, -10.0, span_hz=7000.0, step_hz=20.0, repeats=2, noise_V=1e-6)
    summary = analyze([run], tmp_path / "report")
    report = summary.report_path.read_text()
    assert "fig6" in summary.document["figures"]
    table = report.split("### Zeeman components of the wide scans")[1].split("\n\n")[1]
    rows = [line for line in table.splitlines() if line.startswith("|") and "---" not in line][1:]
    assert len(rows) == 7 and sum("| 0-0 |" in r for r in rows) == 1
    assert "wide:" not in report                 # no component list in the FWHM column any more
