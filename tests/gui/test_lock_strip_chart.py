"""The laser-lock strip chart's x axis follows the data: a few seconds of samples fill the width
instead of sitting at the right edge of an empty 30 s window."""

from __future__ import annotations

import numpy as np
from gui_helpers import click, wait_idle

from kmor.gui.panels.lock import STRIP_WINDOW_S, strip_x_range


def test_the_range_is_the_data_up_to_the_window():
    assert strip_x_range(np.array([100.0, 103.0, 106.0]), np.ones(3)) == (100.0, 106.0)
    t = np.linspace(0.0, 100.0, 101)
    assert strip_x_range(t, np.ones_like(t)) == (100.0 - STRIP_WINDOW_S, 100.0)
    assert strip_x_range(np.array([5.0]), np.ones(1)) == (3.0, 5.0)   # one sample: a 2 s span, not a point


def test_a_run_that_moved_the_clock_on_leaves_no_empty_stretch():
    """Samples from before a batch (t = 10..20 s), the gap marker, then a lock 1200 s later."""
    t = np.array([10.0, 20.0, 1277.0, 1277.0, 1280.0, 1284.0])
    error = np.array([1.0, 1.0, np.nan, 2.8, 2.8, 2.8])
    assert strip_x_range(t, error) == (1277.0, 1284.0)


def test_a_few_seconds_of_lock_fill_the_chart(qtbot, window):
    panel = window.lock_panel
    window.tabs.setCurrentWidget(panel)
    click(qtbot, panel.lock_on)
    qtbot.waitUntil(lambda: window.session.state == "locked", timeout=30_000)
    qtbot.waitUntil(lambda: panel.strip.n > 20, timeout=30_000)
    panel._dirty = True
    window.tick()
    panel.refresh()
    t, error, _ = panel.strip.series()
    t = t[np.isfinite(error)]
    lo, hi = panel.error_plot.getPlotItem().viewRange()[0]
    span = t[-1] - max(t[0], t[-1] - STRIP_WINDOW_S)
    assert hi - lo < 1.2 * max(span, 2.0)                     # no empty stretch on the left
    assert lo <= max(t[0], t[-1] - STRIP_WINDOW_S) and hi >= t[-1] - 1e-9
    click(qtbot, panel.lock_off)
    wait_idle(qtbot, window)
