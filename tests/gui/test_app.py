"""`kmor gui` entry point: a bad config is one line and exit status 2; the window opens on the
simulated lab and closes cleanly."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kmor.gui.app import main
from kmor.gui.mainwindow import MainWindow


def test_a_missing_config_is_refused_with_status_2(capsys, qapp, tmp_path):
    assert main(str(tmp_path / "nope.toml"), None) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "file not found" in err


def test_a_negative_speed_is_refused(capsys, qapp):
    assert main(None, -1.0) == 2
    assert "--speed" in capsys.readouterr().err


def test_the_window_opens_on_the_simulated_lab_and_closes(qapp, tmp_path):
    seen = []

    def close_windows() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow):
                seen.append(w.windowTitle())
                w.close()

    QTimer.singleShot(500, close_windows)
    assert main(None, 0.0, data_dir=tmp_path) == 0
    assert seen and "simulated lab, full speed" in seen[0]
