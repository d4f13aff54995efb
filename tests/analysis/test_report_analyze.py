"""`analyze` end to end on synthetic run folders made by the storage writer from the simulated lab's
physics: it must recover what the lab was given (DeltaB0 = 2.9 uG, 0-0 FWHM 10.6 Hz, shift -9.1 Hz)
within its stated errors, and write summary.json, report.md and the figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from test_report_synthetic_data import (LOW_POWERS_UW, RF_LIGHT_UW, RF_POWERS_DBM, TRUE_FWHM0_HZ,
                                        TRUE_SHIFT_HZ, TRUE_WIDTH0_UG, make_paper_runs)

from kmor.analysis import LARMOR_F2_HZ_PER_UG
from kmor.analysis.report import analyze, read_summary


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    nmor, rf = make_paper_runs(root / "data", seed=7)
    before = {p: p.stat().st_mtime_ns for p in (root / "data").rglob("*")}
    summary = analyze([nmor, rf], root / "report")
    return summary, nmor, rf, before, root


def test_zeeman_width_at_zero_light_is_the_labs_2_9_uG_within_its_error(paper):
    summary = paper[0]
    z = summary.zeeman["D1"]
    assert z.extrapolation.n_points == len(LOW_POWERS_UW)  # the 115 uW scan is above x_max
    assert z.delta_b0_err_uG < 0.9                          # no looser than the paper's 2.9(9)
    assert abs(z.delta_b0_uG - TRUE_WIDTH0_UG) < 2 * z.delta_b0_err_uG
    assert z.gamma_hz == pytest.approx(LARMOR_F2_HZ_PER_UG * z.delta_b0_uG)
    assert abs(z.gamma_hz - 2.03) < 2 * z.gamma_err_hz
    assert z.extrapolation.slope == pytest.approx(0.91, abs=4 * z.extrapolation.slope_err)


def test_hyperfine_fwhm_and_shift_at_zero_power_are_the_labs_within_their_errors(paper):
    hf = paper[0].hyperfine
    assert len(hf.files()) == len(RF_LIGHT_UW) * len(RF_POWERS_DBM)
    assert [round(g.rf_power_dBm) for g in hf.groups] == sorted(RF_POWERS_DBM)
    assert hf.fwhm_err_hz < 1.0 and hf.shift_err_hz < 0.3
    assert abs(hf.fwhm_hz - TRUE_FWHM0_HZ) < 2 * hf.fwhm_err_hz
    # the lab adds the +0.017 Hz second-order Zeeman shift at 1.4 mG to the -9.1 Hz wall shift
    assert abs(hf.shift_hz - hf.quadratic_zeeman_hz - TRUE_SHIFT_HZ) < 2 * hf.shift_err_hz
    model = hf.model.fit                                    # the labelled alternative agrees here
    assert abs(model.intercept - TRUE_FWHM0_HZ) < 2 * model.intercept_err
    assert hf.quadratic_zeeman_hz == pytest.approx(0.0167, abs=2e-4)


def test_high_power_scan_gets_the_nested_fit_with_the_labs_two_widths(paper):
    summary = paper[0]
    high = max(summary.zeeman["D1"].scans, key=lambda s: s.light_power_uW)
    assert high.light_power_uW == pytest.approx(115.0, rel=0.01)
    narrow, broad = high.nested.components
    # the lab: F=2 width 2.9 + 0.91 P, F=1 width 2.9 |g2/g1| + 0.91/3.6 P (physics.md, Fig. 5)
    assert broad.width_uG == pytest.approx(2.9 + 0.91 * 115.0, rel=0.02)
    assert narrow.width_uG == pytest.approx(2.9 * 0.99943 + 0.91 / 3.6 * 115.0, rel=0.03)
    assert narrow.amplitude * broad.amplitude < 0               # opposite signs
    low = [s for s in summary.zeeman["D1"].scans if s.light_power_uW < 80]
    assert all(s.nested is None for s in low)
    assert all(set(s.sweeps) == {"down", "up"} for s in summary.zeeman["D1"].scans)


def test_the_wide_scan_shows_the_zeeman_components_and_stays_out_of_the_extrapolation(paper):
    summary = paper[0]
    (wide,) = summary.hyperfine.wide_scans
    assert wide.file not in summary.hyperfine.files()
    offsets = sorted(line.center_hz - 461_719_720.1 - TRUE_SHIFT_HZ for line in wide.multi.lines)
    # at 1.4 mG: pi lines at +-1962 Hz, sigma lines at +-981 and +-2943 Hz, the 0-0 line at 0
    np.testing.assert_allclose(offsets, [-2942.5, -1961.8, -980.8, 0.0, 980.8, 1961.9, 2942.5], atol=3.0)
    assert wide.multi.lines[wide.zero_zero_index].center_hz == pytest.approx(461_719_711.0, abs=2.0)


def test_summary_json_round_trips_with_values_errors_units_and_files(paper):
    summary = paper[0]
    on_disk = read_summary(summary.summary_path)
    assert on_disk == summary.document
    assert json.loads(json.dumps(on_disk)) == on_disk
    z = on_disk["zeeman"]["D1"]
    assert z["delta_b0_uG"] == {"value": pytest.approx(summary.zeeman["D1"].delta_b0_uG),
                                "error": pytest.approx(summary.zeeman["D1"].delta_b0_err_uG), "units": "uG"}
    assert z["gamma_hz"]["units"] == "Hz"
    assert len(z["files"]) == len(LOW_POWERS_UW) and all(Path(f).exists() for f in z["files"])
    hf = on_disk["hyperfine"]
    assert hf["fwhm_hz"]["units"] == "Hz" and hf["shift_hz"]["error"] > 0
    assert sorted(hf["files"]) == sorted(summary.hyperfine.files())
    assert "model-based" in hf["model_based"]["label"]
    rows = {r["key"]: r for r in on_disk["budget"]["rows"]}
    assert rows["hf.measured_hz"]["value"] == pytest.approx(summary.hyperfine.fwhm_hz)
    assert rows["nmor.measured_hz"]["value"] == pytest.approx(summary.zeeman["D1"].gamma_hz)
    assert rows["hf.shift_hz"]["value"] == pytest.approx(summary.hyperfine.shift_hz)
    assert on_disk["failed"] == []
    assert {s["outcome"] for s in on_disk["scans"]} == {"used", "fitted"}


def test_figures_exist_are_real_pngs_and_the_report_embeds_them(paper):
    summary, _, _, _, root = paper
    report = summary.report_path.read_text()
    expected = {"fig3", "fig3_all", "fig4_D1", "fig5", "fig6", "fig7", "fig7_all", "fig9", "fig10"}
    assert expected <= set(summary.document["figures"])
    for key, rel in summary.document["figures"].items():
        path = root / "report" / rel
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = imread(path)
        assert image.shape[0] > 300 and image.shape[1] > 500
        assert image[..., :3].std() > 0.05                     # not a blank canvas
        assert f"]({rel})" in report                           # embedded by relative path
    for text in ("DeltaB0 (D1)", "0-0 intrinsic FWHM (paper procedure)", "model-based alternative",
                 "Relaxation budget", "## Scans"):
        assert text in report


def test_nothing_is_written_into_the_data_folders(paper):
    _, nmor, rf, before, root = paper
    after = {p: p.stat().st_mtime_ns for p in (root / "data").rglob("*")}
    assert after == before


def test_report_folder_inside_a_run_folder_is_refused(paper):
    from kmor.analysis.files import AnalysisInputError
    _, nmor, _, _, _ = paper
    with pytest.raises(AnalysisInputError, match="inside the data folder"):
        analyze([nmor], nmor / "report")
    assert not (nmor / "report").exists()


def test_rerunning_replaces_the_report_and_removes_figures_it_no_longer_makes(paper, tmp_path):
    _, nmor, _, _, _ = paper
    out = tmp_path / "rep"
    first = analyze([nmor], out)
    assert first.zeeman["D1"].extrapolation.n_points == 5
    assert (out / "figures" / "fig05_nested_curve.png").exists()
    (out / "figures" / "fig99_stale.png").write_bytes(b"x")
    second = analyze([nmor], out, figures=False, x_max_uW=6.0)
    assert second.figures == () and list((out / "figures").glob("*.png")) == []
    assert read_summary(out / "summary.json")["zeeman"]["D1"]["n_points"] == 3
    assert "fig05" not in (out / "report.md").read_text()


def test_unknown_options_and_bad_values_are_refused(paper, tmp_path):
    _, nmor, _, _, _ = paper
    with pytest.raises(ValueError, match="unknown analysis option.*x_max_uw"):
        analyze([nmor], tmp_path / "r", x_max_uw=5)
    with pytest.raises(ValueError, match="x_max_uW must be a number > 0"):
        analyze([nmor], tmp_path / "r", x_max_uW=-1)
    with pytest.raises(ValueError, match="unknown relaxation-budget inputs"):
        analyze([nmor], tmp_path / "r", budget={"radius_m": 0.015})


def test_headline_names_the_numbers_for_the_command_line(paper):
    lines = paper[0].headline()
    assert lines[0].startswith("Zeeman (D1): DeltaB0 = ")
    assert any(line.startswith("0-0 line: FWHM = ") for line in lines)
    assert lines[-1] == f"report: {paper[0].report_path}"
