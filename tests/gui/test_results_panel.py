"""The Results tab's 0-0 panel: the widths per rf power fill in as rf scans finish, each with its
line to zero light, and the zero-light widths with their line to zero rf power."""

from __future__ import annotations

from gui_helpers import click, wait_idle

RF_GRID = """
[batch]
name = "rf-grid"

[[steps]]
kind = "laser"
settle_s = 0.1

[[steps]]
kind = "lock_point_search"
piezo_start_pct = 44.0
piezo_stop_pct = 51.0
piezo_step_pct = 0.5
field_uG = 6.0
light_power_uW = 10.0

[[steps]]
kind = "lock"

[[steps]]
kind = "rf_grid"
light_powers_uW = [4.0, 6.0, 8.0]
rf_powers_dBm = [-34.0, -31.0, -28.0]
center_hz = 461719711.0
span_hz = 100.0
step_hz = 2.0
repeats = 10
"""


def test_the_0_0_widths_per_rf_power_and_their_extrapolations(qtbot, window, tmp_path):
    path = tmp_path / "rf-grid.toml"
    path.write_text(RF_GRID)
    assert window.batch_panel.load(path)
    click(qtbot, window.batch_panel.buttons.start_button)
    wait_idle(qtbot, window)
    results = window.results_panel
    qtbot.waitUntil(lambda: len(results.rfscans) == 9 and not results.busy(), timeout=60_000)
    h = results.hyperfine
    assert [g.rf_power_dBm for g in h.groups] == [-34.0, -31.0, -28.0]
    assert all(g.fwhm_fit is not None for g in h.groups)      # each rf power: a line to zero light
    assert h.fwhm_fit is not None and 0 < h.fwhm_hz < 40       # the zero-rf line through them
    drawn = [item for item in results.rf_zero_plot.getPlotItem().listDataItems()]
    assert len(drawn) >= 4                                     # 3 zero-light widths + the line
    text = results.rf_label.text()
    assert "zero-light FWHM: -34 dBm:" in text and "zero light and rf power: FWHM =" in text
