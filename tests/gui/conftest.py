"""Fixtures for the GUI tests: the window on the simulated lab at full speed, data in tmp_path."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from kmor.config.files import load_config  # noqa: E402
from kmor.station import build_station  # noqa: E402


@pytest.fixture
def lab():
    """(LoadedConfig, Station) of the simulated lab at full speed."""
    loaded = load_config()
    station = build_station(loaded)
    yield loaded, station
    station.close()


@pytest.fixture
def window(qtbot, lab, tmp_path):
    """The main window over a Session writing to tmp_path/data; closing never asks."""
    from kmor.gui.mainwindow import MainWindow
    from kmor.gui.session import Session

    loaded, station = lab
    session = Session(loaded, station, data_dir=tmp_path / "data", own_station=False)
    win = MainWindow(session)
    win.ask_abort_on_close = lambda: True
    qtbot.addWidget(win)
    win.show()
    yield win
    session.shutdown()
    for panel in win.panels:
        panel.shutdown()
