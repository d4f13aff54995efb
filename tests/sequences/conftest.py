"""Fixtures for the sequence tests: the simulated lab at full speed, an engine writing HDF5."""

from __future__ import annotations

import pytest

from kmor.config.files import load_config
from kmor.sequences.engine import Engine
from kmor.sequences.events import EventBus
from kmor.sequences.recorder import HDF5Recorder
from kmor.station import build_station


@pytest.fixture
def station():
    st = build_station(load_config())
    st.prepare()
    yield st
    st.close()


@pytest.fixture
def engine(station, tmp_path):
    bus = EventBus()
    eng = Engine(station, recorder=HDF5Recorder(tmp_path, config_text=station.config_text,
                                                kmor_version="test"), bus=bus)
    yield eng
    bus.close()
