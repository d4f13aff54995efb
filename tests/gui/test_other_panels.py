"""rf scan, laser lock, data browser, instruments, log, and closing the window during a run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
from gui_helpers import click, is_safe, type_into, wait_idle

from kmor.analysis.constants import K39_HFS_REFERENCE_HZ
from kmor.storage import list_scans, read_scan


def test_rf_scan_by_clicking_shows_repeats_average_and_the_lorentzian_fit(qtbot, window):
    panel = window.rf_panel
    window.tabs.setCurrentWidget(panel)
    type_into(panel.form, "repeats", "2")
    click(qtbot, panel.buttons.start_button)
    wait_idle(qtbot, window)
    panel.refresh()
    run_dir = window.session.last_run_dir
    scan = read_scan(run_dir / list_scans(run_dir)[-1].name)
    assert scan.kind == "rfscan" and scan.status == "complete" and scan.n_points == 2 * 101
    f, mean = panel.spectrum.sorted()
    np.testing.assert_allclose(mean, scan.arrays["average_transmission_V"], rtol=1e-12)
    assert panel.average_curve.getData()[0].size == 101
    qtbot.waitUntil(lambda: panel.last_fit_n == 2 * 101, timeout=30_000)   # the fit of the whole scan
    fit = panel.last_fit
    assert 10.0 < fit.fwhm_hz < 90.0                  # the 0-0 line, broadened by light and rf power
    assert abs(fit.center_hz - K39_HFS_REFERENCE_HZ + 9.1) < 3 * fit.center_err_hz + 1.0   # wall shift -9.1 Hz
    assert "from 461,719,720.1 Hz" in panel.result.text()


def test_lock_on_shows_the_error_and_control_strip_chart_then_lock_off(qtbot, window, lab):
    panel = window.lock_panel
    window.tabs.setCurrentWidget(panel)
    click(qtbot, panel.lock_on)
    qtbot.waitUntil(lambda: window.session.state == "locked", timeout=30_000)
    qtbot.waitUntil(lambda: panel.strip.n > 40, timeout=30_000)   # the last 20 well past a gap marker
    window.tick()
    t, error, control = panel.strip.series()
    assert np.all(np.diff(t) >= 0) and np.isfinite(error[-20:]).all()
    readout = window.session.servo_readout()
    assert readout is not None and not readout.lost
    assert abs(error[-1] - readout.setpoint_V) < 0.3                   # within the lock band
    assert "locked" in panel.state_label.text()
    assert window.instruments_panel.light_text("lock").startswith("locked")
    click(qtbot, panel.lock_off)
    wait_idle(qtbot, window)
    assert window.session.servo_readout() is None
    assert "lock" in window.session.context


def test_closing_during_a_run_asks_then_stops_safely_with_data_saved(qtbot, window, lab):
    _, station = lab
    asked = []
    window.ask_abort_on_close = lambda: asked.append(True) or True
    panel = window.bscan_panel
    panel.prepare_mode.setCurrentIndex(panel.prepare_mode.findData("none"))
    type_into(panel.form, "light_power_uW", "0")
    type_into(panel.form, "field_range_uG", "400")
    click(qtbot, panel.buttons.start_button)
    qtbot.waitUntil(lambda: panel.n_points() >= 3, timeout=30_000)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert asked == [True]
    scan = read_scan(panel._scan)
    assert scan.status == "aborted" and scan.n_points >= 3
    assert is_safe(station)


def test_refusing_to_close_keeps_the_run_going(qtbot, window):
    window.ask_abort_on_close = lambda: False
    panel = window.bscan_panel
    panel.prepare_mode.setCurrentIndex(panel.prepare_mode.findData("none"))
    type_into(panel.form, "light_power_uW", "0")
    type_into(panel.form, "field_range_uG", "400")
    click(qtbot, panel.buttons.start_button)
    qtbot.waitUntil(lambda: panel.n_points() >= 3, timeout=30_000)
    window.close()
    assert window.isVisible() and window.session.state in ("running", "paused")
    click(qtbot, panel.buttons.abort_button)
    wait_idle(qtbot, window)


def test_data_browser_plots_a_past_scan_and_shows_the_report_figures(qtbot, window):
    bscan = window.bscan_panel
    type_into(bscan.form, "field_range_uG", "20")
    click(qtbot, bscan.buttons.start_button)
    wait_idle(qtbot, window)
    browser = window.browser_panel
    window.tabs.setCurrentWidget(browser)
    browser.refresh_tree()
    run_dir = window.session.last_run_dir
    scan_path = run_dir / "00002-bscan.h5"
    assert browser.select(scan_path)
    assert browser.scan is not None and browser.scan.n_points == 82
    x, _ = browser.curves["down"].getData()
    assert x.size == 41
    assert browser.x_combo.currentData() == "field_uG" and browser.y_combo.currentData() == "x_V"
    click(qtbot, browser.analyse_button)
    qtbot.waitUntil(lambda: not browser.busy(), timeout=60_000)
    assert browser.summary is not None, browser.message.text()
    assert browser.figure_list.count() >= 1
    assert not browser.figure.pixmap().isNull()
    assert browser.summary.out_dir == window.session.data_dir / "reports" / run_dir.name


def test_instruments_show_identity_settings_and_lights(qtbot, window):
    panel = window.instruments_panel
    window.tabs.setCurrentWidget(panel)
    assert panel.poll(force=True)
    qtbot.waitUntil(lambda: panel.status is not None, timeout=10_000)
    assert "SR830" in panel.table.item(2, 3).text()
    assert "harmonic" in panel.table.item(2, 4).text()
    assert panel.light_text("reference") == "present"
    assert panel.light_text("overload_pol") == "no overload"


def test_counter_reference_lost_is_shown_in_words(qtbot, window, lab):
    _, station = lab
    station.prepare()                       # the counter on its external 10 MHz reference
    station.sim.reference_connected = False
    panel = window.instruments_panel
    qtbot.waitUntil(lambda: panel.poll(force=True), timeout=10_000)   # a timer poll may be in flight
    qtbot.waitUntil(lambda: panel.light_text("reference").startswith("missing"), timeout=10_000)
    assert "10 MHz reference" in panel.errors.toPlainText()


def test_log_filters_by_level_and_text(qtbot, window):
    log = window.log_panel
    import logging
    logging.getLogger("kmor.test").warning("coil bz ramp slower than asked")
    logging.getLogger("kmor.test").info("laser emission on")
    qtbot.waitUntil(lambda: len(log.records) >= 2, timeout=5_000)
    log.filter.setText("coil")
    assert [line.split(": ", 1)[1] for line in log.visible_lines()] == ["coil bz ramp slower than asked"]
    log.filter.setText("")
    log.level.setCurrentIndex(log.level.findData(logging.WARNING))
    assert all("WARNING" in line or "ERROR" in line for line in log.visible_lines())
    assert not any("laser emission on" in line for line in log.visible_lines())


def test_many_signals_and_redraws_do_not_crash_the_interpreter():
    """PySide6 wheels that drop references to True/None abort CPython 3.11 after a few thousand
    signals; kmor.gui guards against it (docs/decisions/0071)."""
    code = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        import kmor.gui
        import numpy as np
        import pyqtgraph as pg
        from PySide6.QtCore import QObject, Signal
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        class Source(QObject):
            ping = Signal()
        s = Source()
        for _ in range(3 * sys.getrefcount(True) % (1 << 20) + 20000):
            s.ping.emit()
        w = pg.PlotWidget(); c = w.plot()
        x = np.arange(100.0)
        for _ in range(3000):
            c.setData(x, x)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
