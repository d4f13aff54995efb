"""Screenshots of the main views for the docs, from a real session on the simulated lab at full
speed (nothing is staged: the data are what the runs measured).

    QT_QPA_PLATFORM=offscreen python -m kmor.gui.screenshots docs/images
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SERIES = """
[batch]
name = "power-series"
description = "NMOR widths at four light powers and a small 0-0 grid (screenshots)"

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
kind = "zeroing"
light_power_uW = 3.0
trials = 5
bz_points = 21

[[steps]]
kind = "bscan_series"
light_powers_uW = [2.0, 4.0, 6.0, 8.0]
field_range_uG = 40.0
step_uG = 1.0
averages = 2
time_constant_s = 0.03

[[steps]]
kind = "rf_grid"
light_powers_uW = [3.0, 6.0, 9.0]
rf_powers_dBm = [-34.0, -31.0, -28.0]
center_hz = 461719711.0
span_hz = 100.0
step_hz = 2.0
repeats = 12
"""


def _wait(app, predicate: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def save_screenshots(out_dir: str | Path, size: tuple[int, int] = (1400, 860)) -> list[Path]:
    """Run a short session and save one PNG per main view into `out_dir`; returns the paths."""
    from PySide6.QtWidgets import QApplication

    from kmor.config.files import load_config
    from kmor.gui.mainwindow import MainWindow
    from kmor.gui.session import Session
    from kmor.station import build_station

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loaded = load_config()
    station = build_station(loaded)
    data = Path(tempfile.mkdtemp(prefix="kmor-screenshots-"))
    session = Session(loaded, station, data_dir=data)
    win = MainWindow(session)
    win.ask_abort_on_close = lambda: True  # type: ignore[method-assign]  # never ask: no one is there
    win.resize(*size)
    win.show()
    saved: list[Path] = []

    def idle() -> bool:
        return session.state == "idle" and not session.running

    def shot(panel, name: str) -> None:
        win.tabs.setCurrentWidget(panel)
        for _ in range(5):
            win.tick()
            app.processEvents()
        if panel.refresh():                     # the last redraw may still be waiting for its budget
            panel.repaint_now()
        app.processEvents()
        path = out / f"gui-{name}.png"
        win.grab().save(str(path))
        saved.append(path)

    def settle(panel) -> None:
        win.tabs.setCurrentWidget(panel)
        _wait(app, lambda: getattr(panel, "fitter", None) is None or panel.fitter.idle)
        win.tick()

    try:
        win.tabs.setCurrentWidget(win.bscan_panel)
        win.bscan_panel.start()
        _wait(app, idle)
        settle(win.bscan_panel)
        shot(win.bscan_panel, "bscan")

        win.tabs.setCurrentWidget(win.rf_panel)
        win.rf_panel.start()
        _wait(app, idle)
        settle(win.rf_panel)
        shot(win.rf_panel, "rfscan")

        batch_file = data / "power-series.toml"
        batch_file.write_text(SERIES)
        win.tabs.setCurrentWidget(win.batch_panel)
        win.results_panel.clear()              # the results of this power series only
        win.batch_panel.load(batch_file)
        win.batch_panel.start()
        _wait(app, idle, 900.0)                # minutes on a loaded machine
        shot(win.batch_panel, "batch")
        _wait(app, lambda: not win.results_panel.busy())
        shot(win.results_panel, "results")

        win.tabs.setCurrentWidget(win.lock_panel)
        win.lock_panel.start_hold()
        _wait(app, lambda: session.state == "locked")
        started = time.monotonic()
        _wait(app, lambda: time.monotonic() - started > 6.0)   # a few seconds of strip chart
        shot(win.lock_panel, "lock")
        session.stop_lock_hold()
        _wait(app, idle)

        browser = win.browser_panel
        win.tabs.setCurrentWidget(browser)
        browser.refresh_tree()
        run = session.last_run_dir
        if run is None:
            raise RuntimeError("screenshots: the demo batch left no run folder to browse")
        browser.select(run / "00003-bscan.h5")
        browser.analyse(run)
        _wait(app, lambda: not browser.busy())
        shot(browser, "browser")

        instruments = win.instruments_panel
        win.tabs.setCurrentWidget(instruments)
        instruments.poll(force=True)
        _wait(app, lambda: instruments.status is not None)
        shot(instruments, "instruments")
        shot(win.log_panel, "log")
    finally:
        win.close()
        _wait(app, lambda: not win.isVisible(), 60.0)
    return saved


if __name__ == "__main__":
    for p in save_screenshots(sys.argv[1] if len(sys.argv) > 1 else "docs/images"):
        print(p)
