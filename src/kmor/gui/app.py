"""`kmor gui`: open the lab window.

    main(None, None)            # the simulated lab, in real time (speed 1)
    main("lab.toml", None)      # a lab config (the simulated lab then runs at its sim.speed)
    main(None, 20.0)            # the simulated lab 20x faster than real time (0 = full speed)
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from pathlib import Path

from kmor.config.files import LoadedConfig, load_config
from kmor.config.loader import ConfigError

EXIT_USER_ERROR = 2


def _with_speed(loaded: LoadedConfig, config_path: str | None, speed: float | None) -> tuple[LoadedConfig, float | None]:
    """The station's sim_speed: None keeps the config's (full speed when it says 0); without a
    config the simulated lab runs in real time; speed 0 asks for full speed."""
    if not loaded.config.lab.simulated:
        return loaded, None
    if speed is None:
        return loaded, (1.0 if config_path is None else None)
    if speed < 0:
        raise ConfigError("--speed", "", f"must be >= 0 (x real time; 0 = full speed), got {speed:g}")
    if speed == 0:
        cfg = loaded.config
        cfg = dataclasses.replace(cfg, sim=dataclasses.replace(cfg.sim, speed=0.0))
        return LoadedConfig(config=cfg, source=loaded.source, text=loaded.text), None
    return loaded, float(speed)


def _no_qt_application_yet() -> bool:
    """No QApplication yet (a test or the screenshot script may have made one on its own platform)."""
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() is None


def main(config_path: str | None = None, speed: float | None = None, *,
         data_dir: str | Path | None = None) -> int:
    """Open the window on the lab of `config_path` (default: the simulated lab at speed 1) and run
    until it is closed. Returns the exit status (2 for a bad config, an unreachable instrument, or
    no display / a missing system library Qt needs: checked first, said in one line each)."""
    from kmor.gui.display import display_problems

    problems = display_problems(os.environ) if _no_qt_application_yet() else []
    for problem in problems:
        print(f"kmor gui: error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USER_ERROR
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("kmor")
    try:
        loaded, sim_speed = _with_speed(load_config(config_path), config_path, speed)
    except ConfigError as exc:
        print(f"kmor gui: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    from kmor.drivers.errors import InstrumentError
    from kmor.station import build_station
    try:
        station = build_station(loaded, sim_speed=sim_speed)
    except (InstrumentError, OSError) as exc:
        print(f"kmor gui: cannot connect the instruments: {exc}", file=sys.stderr)
        QMessageBox.critical(None, "kmor", f"Cannot connect the instruments:\n\n{exc}")
        return EXIT_USER_ERROR
    from kmor.gui.mainwindow import MainWindow
    from kmor.gui.session import Session

    session = Session(loaded, station, data_dir=data_dir)
    window = MainWindow(session)
    window.show()
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())  # Ctrl-C: close safely
    keepalive = QTimer()
    keepalive.timeout.connect(lambda: None)                    # lets Python see the signal
    keepalive.start(250)
    try:
        status = app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        keepalive.stop()
        session.shutdown()
        window.deleteLater()
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
