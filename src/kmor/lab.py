"""`kmor.connect()`: open a lab session (kmor.sequences.session.Lab) on the lab of a config file,
or on the simulated lab when no file is given.

    import kmor
    with kmor.connect() as lab:          # or kmor.connect("mylab.toml")
        lab.step("laser")
        ...

This module builds the station (kmor.station) and, on the simulated lab, the disk-fault wrapper
of the recorder (kmor.sim.faults); the session itself knows neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kmor.config.files import LoadedConfig, load_config
from kmor.sequences.recorder import Recorder
from kmor.sequences.session import Lab, RecorderWrapper


def connect(config: str | Path | LoadedConfig | None = None, *, data_dir: str | Path | None = None,
            name: str = "session") -> Lab:
    """A lab session on the lab described by `config` (a TOML file, an already loaded config,
    or None for the simulated lab). The session owns the station: closing it (or leaving the
    `with` block, or the interpreter exiting) makes the apparatus safe and closes the station."""
    from kmor.station import build_station
    loaded = config if isinstance(config, LoadedConfig) else load_config(config)
    station = build_station(loaded)
    return Lab(loaded, station, data_dir=data_dir, own_station=True, name=name,
               wrap_recorder=recorder_faults(loaded, station))


def open_lab(loaded: LoadedConfig, station: Any = None, *, data_dir: str | Path | None = None) -> Lab:
    """A session on `station` (not owned: the caller closes it) or, if None, on a station built
    from `loaded` (owned)."""
    if station is None:
        return connect(loaded, data_dir=data_dir)
    return Lab(loaded, station, data_dir=data_dir, own_station=False,
               wrap_recorder=recorder_faults(loaded, station))


def recorder_faults(loaded: LoadedConfig, station: Any) -> RecorderWrapper | None:
    """The simulated disk fault (config sim.faults.disk) as a recorder wrapper, on a simulated
    station with the fault enabled; None otherwise."""
    disk = loaded.config.sim.faults.disk
    if getattr(station, "sim", None) is None or not disk.enabled:
        return None
    from kmor.sim.faults import FaultyRecorder

    def wrap(recorder: Recorder) -> Recorder:
        return FaultyRecorder(recorder, disk.after_points)
    return wrap
