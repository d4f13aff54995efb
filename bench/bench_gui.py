"""Benchmark of the lab window (a script, not a test): QT_QPA_PLATFORM=offscreen python bench/bench_gui.py [--quick]

1. Acquisition rate with the window attached versus headless. The same batch (laser, lock, one
   stepped B scan of 4002 points) runs on the simulated lab at full speed, alternately headless
   (run_batch, nothing subscribed) and from the window (Session.start_batch with the main window
   shown, its B-field tab visible: every point goes through the event bus to the window, which
   redraws at up to 10 Hz and fits live at most twice a second). Points per second of the scan (from its
   scan_started to its scan_finished event), median of the runs, and the ratio. Full speed is the
   worst case (the engine is CPU-bound and shares the GIL with the GUI); the same comparison at
   20x real time, where the engine mostly waits for settling as in the lab, follows.
2. Redraw time of 10,000-point curves: one curve (setData + a synchronous repaint of the plot
   widget, 1000 x 600 px), and the B-field tab with two 10,000-point sweeps (refresh + repaint),
   median over repeated redraws with new data each time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

import kmor.gui  # noqa: E402,F401  (before Qt: see kmor/gui/immortal.py)
from kmor.config.files import load_config  # noqa: E402
from kmor.sequences import events as ev  # noqa: E402
from kmor.sequences.runner import run_batch  # noqa: E402

BATCH = """
[batch]
name = "bench-gui"

[[steps]]
kind = "laser"
piezo_pct = 47.5
settle_s = 0.1

[[steps]]
kind = "lock"

[[steps]]
kind = "bscan"
field_range_uG = {range_uG}
step_uG = 0.5
averages = 1
time_constant_s = 0.01
sensitivity_V = 1e-4
light_power_uW = 5.0
"""


class ScanClock:
    """Bus subscriber (synchronous, in the acquisition thread): wall time of the B scan."""

    def __init__(self) -> None:
        self.start = self.end = None
        self.points = 0

    def __call__(self, event: ev.Event) -> None:
        if event.kind == ev.SCAN_STARTED and "bscan" in event.scan:
            self.start, self.points = time.perf_counter(), 0
        elif event.kind == ev.POINT and self.start is not None and self.end is None:
            self.points += 1
        elif event.kind == ev.SCAN_FINISHED and self.start is not None and self.end is None:
            self.end = time.perf_counter()

    @property
    def rate(self) -> float:
        return self.points / (self.end - self.start)


def loaded_at(speed: float | None):
    """The simulated lab's config at `speed` x real time (None: full speed)."""
    import dataclasses

    from kmor.config.files import LoadedConfig
    loaded = load_config()
    if speed is None:
        return loaded
    cfg = dataclasses.replace(loaded.config, sim=dataclasses.replace(loaded.config.sim, speed=speed))
    return LoadedConfig(cfg, loaded.source, loaded.text)


def headless(batch: Path, data: Path, speed: float | None = None) -> float:
    clock = ScanClock()
    result = run_batch(batch, loaded_at(speed), data_dir=data, subscribers=[clock])
    assert result.status == "complete", result
    return clock.rate


def with_window(app, batch: Path, data: Path, speed: float | None = None) -> tuple[float, int]:
    from kmor.gui.mainwindow import MainWindow
    from kmor.gui.session import Session
    from kmor.station import build_station

    loaded = loaded_at(speed)
    station = build_station(loaded)
    session = Session(loaded, station, data_dir=data)
    window = MainWindow(session)
    window.resize(1400, 860)
    window.show()
    clock = ScanClock()
    original = run_batch

    def timed_run_batch(*args, **kwargs):
        kwargs["subscribers"] = [clock, *kwargs.get("subscribers", [])]
        return original(*args, **kwargs)

    import kmor.gui.session as session_module
    session_module.run_batch = timed_run_batch
    from PySide6.QtCore import QEventLoop
    try:
        loop = QEventLoop()
        session.run_ended.connect(lambda report: loop.quit())
        session.start_batch(batch)
        loop.exec()                       # the window's own event loop, as in `kmor gui`
        window.tick()
        shown = window.bscan_panel.n_points()
    finally:
        session_module.run_batch = original
        window.ask_abort_on_close = lambda: True
        window.close()
        app.processEvents()
    return clock.rate, shown


def redraw_times(app, n_points: int, repeats: int) -> dict[str, float]:
    from kmor.gui.plots import DOWN_COLOR, make_curve, make_plot, set_curve

    plot = make_plot("bench", "Bz", "µG", "X", "V")
    curve = make_curve(plot, DOWN_COLOR, "curve")
    plot.resize(1000, 600)
    plot.show()
    app.processEvents()
    rng = np.random.default_rng(1)
    x = np.linspace(-800, 800, n_points)
    one = []
    for k in range(repeats):
        y = x / (x * x + 9.0) + 1e-3 * rng.standard_normal(n_points)
        t = time.perf_counter()
        set_curve(curve, x, y)
        plot.viewport().repaint()                    # the scene is painted in the viewport
        one.append(time.perf_counter() - t)
    plot.close()

    from kmor.config.files import load_config as lc
    from kmor.gui.panels.bscan import BScanPanel
    from kmor.gui.session import Session
    from kmor.sequences.events import Event
    from kmor.station import build_station

    loaded = lc()
    station = build_station(loaded)
    session = Session(loaded, station, data_dir=tempfile.mkdtemp())
    panel = BScanPanel(session, lambda mode: [])
    panel.resize(1400, 860)
    panel.show()
    app.processEvents()
    panel.on_events([Event(kind=ev.SCAN_STARTED, time_s=0.0, scan="x/00001-bscan.h5", total=2 * n_points)])
    for sweep, fields in (("down", x[::-1]), ("up", x)):
        panel.on_events([Event(kind=ev.POINT, time_s=0.0, scan="x/00001-bscan.h5", index=i,
                               row={"field_uG": b, "x_V": b / (b * b + 9.0), "sweep": sweep})
                         for i, b in enumerate(fields)])
    panel.fitter.request = lambda *a, **k: None      # time the drawing only
    panel.refresh()
    app.processEvents()
    both = []
    for k in range(repeats):
        panel.data["up"].view("x_V")[:] += 1e-6      # new data each redraw
        panel._dirty = True
        t = time.perf_counter()
        panel.refresh()
        panel.repaint_now()
        both.append(time.perf_counter() - t)
    panel.close()
    session.shutdown()
    return {"one_curve_ms": 1e3 * statistics.median(one), "one_curve_max_ms": 1e3 * max(one),
            "bscan_tab_ms": 1e3 * statistics.median(both), "bscan_tab_max_ms": 1e3 * max(both),
            "points": panel.n_points()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    rounds = 2 if args.quick else 4
    range_uG = 250.0 if args.quick else 1000.0           # 2002 or 8002 points
    n_scan = 2 * int(2 * range_uG / 0.5 + 1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        batch = tmp / "bench.toml"
        batch.write_text(BATCH.format(range_uG=range_uG))
        bare, gui = [], []
        for k in range(rounds):
            bare.append(headless(batch, tmp / f"headless{k}"))
            rate, shown = with_window(app, batch, tmp / f"window{k}")
            assert shown == n_scan, (shown, n_scan)
            gui.append(rate)
            print(f"round {k + 1}: headless {bare[-1]:7.1f} points/s, window {gui[-1]:7.1f} points/s "
                  f"({n_scan} points, all {shown} drawn)", flush=True)
    b, g = statistics.median(bare), statistics.median(gui)
    print(f"\n1. acquisition, {n_scan}-point B scan at full simulated speed (median of {rounds}):")
    print(f"   headless   {b:8.1f} points/s")
    print(f"   with GUI   {g:8.1f} points/s")
    print(f"   ratio      {g / b:8.3f}  (GUI slows acquisition by {100 * (1 - g / b):.1f} %)")
    speed = 20.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        batch = tmp / "bench.toml"
        batch.write_text(BATCH.format(range_uG=50.0 if args.quick else 125.0))
        slow_bare = headless(batch, tmp / "h", speed)
        slow_gui, shown = with_window(app, batch, tmp / "w", speed)
    print(f"\n   at {speed:g}x real time ({shown}-point scan, the engine waits on settling):")
    print(f"   headless {slow_bare:8.1f} points/s, with GUI {slow_gui:8.1f} points/s, ratio {slow_gui / slow_bare:.3f}")
    r = redraw_times(app, 10_000, 20 if args.quick else 50)
    print("\n2. redraw of 10,000-point curves (median / max):")
    print(f"   one curve, setData + repaint          {r['one_curve_ms']:6.1f} / {r['one_curve_max_ms']:.1f} ms")
    print(f"   B-field tab, 2 x 10,000 points        {r['bscan_tab_ms']:6.1f} / {r['bscan_tab_max_ms']:.1f} ms"
          f"   (frame time at 10 Hz: 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
