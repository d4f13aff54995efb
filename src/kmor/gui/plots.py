"""pyqtgraph set-up shared by the panels: white background (readable screenshots), axes with
names and units, the sweep colours of the analysis figures, and curves that stay fast at 10,000+
points (symbols only while there are few points, clip to view, automatic peak downsampling)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

pg.setConfigOptions(background="w", foreground="k", antialias=False)

DOWN_COLOR = "#1f77b4"   # matplotlib tab:blue, as in kmor.analysis.figures
UP_COLOR = "#ff7f0e"     # tab:orange
FIT_COLOR = "#d62728"    # tab:red
AVERAGE_COLOR = "#2ca02c"
GREY = "#7f7f7f"
SYMBOL_LIMIT = 500
"""Above this many points a curve is drawn as a line only: pyqtgraph rebuilds every symbol in
Python at each setData, which at full simulated speed takes the GIL from the acquisition."""


def make_plot(title: str, x_label: str, x_units: str, y_label: str, y_units: str, *,
              si_x: bool = False, si_y: bool = True, grid: bool = False) -> pg.PlotWidget:
    """A PlotWidget with labelled axes. SI prefixes are automatic for V (shown as uV, mV) and
    off for units such as uG or Hz offsets, which are already in the unit people read.

    No grid by default: pyqtgraph's grid is most of the cost of a repaint (measured 9 of 12 ms for
    a 1000 x 600 plot), and repaints of live plots take the GIL from the acquisition thread.
    """
    widget = pg.PlotWidget(title=title)
    item = widget.getPlotItem()
    if grid:
        item.showGrid(x=True, y=True, alpha=0.25)
    item.setLabel("bottom", x_label, units=x_units)
    item.setLabel("left", y_label, units=y_units)
    item.getAxis("bottom").enableAutoSIPrefix(si_x)
    item.getAxis("left").enableAutoSIPrefix(si_y)
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    return widget


def make_curve(plot: pg.PlotWidget, color: str, name: str | None = None, *, symbol: str | None = "o",
               width: float = 1.0) -> pg.PlotDataItem:
    """A curve with a thin line and (while it is small) symbols."""
    curve = plot.plot([], [], pen=pg.mkPen(color, width=width), name=name,
                      symbol=symbol, symbolSize=5, symbolPen=None, symbolBrush=color)
    curve._kmor_symbol = symbol
    return curve


def set_curve(curve: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """setData once, dropping the symbols of a curve that has grown past SYMBOL_LIMIT."""
    symbol = getattr(curve, "_kmor_symbol", None)
    wanted = symbol if x.size <= SYMBOL_LIMIT else None
    if curve.opts.get("symbol") != wanted:
        curve.setSymbol(wanted)
    curve.setData(x, y)


def status_light(color: str) -> str:
    """Style sheet of a round status light of `color`."""
    return (f"background-color: {color}; border-radius: 7px; min-width: 14px; max-width: 14px; "
            f"min-height: 14px; max-height: 14px; border: 1px solid #555;")


LIGHT_COLORS = {"ok": "#2ca02c", "warn": "#ffbf00", "bad": "#d62728", "off": "#c8c8c8"}
