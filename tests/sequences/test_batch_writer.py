"""The batch writer and the parser agree: write -> parse gives the same steps."""

from __future__ import annotations

import dataclasses

from kmor.config.files import load_config
from kmor.sequences import steps
from kmor.sequences.batch import parse_batch_text
from kmor.sequences.batch_writer import batch_text
from kmor.sequences.compose import PREPARE_LOCK, lock_hold_steps, preparation_steps
from kmor.sequences.laser import LaserSetupParams
from kmor.sequences.lock import LockParams
from kmor.sequences.lockpoint import LockPointParams

CONFIG = load_config().config
EXAMPLES = {"bscan_series": {"light_powers_uW": [2.0, 4.5]},
            "rf_grid": {"light_powers_uW": [5.0], "rf_powers_dBm": [-30.0, -26.5]},
            "hold": {"duration_s": 12.5}}


def test_every_kind_round_trips_through_a_batch_file():
    written = []
    for name, kind in steps.all_kinds().items():
        params = kind.params(**EXAMPLES.get(name, {}))
        written.append((name, params))
    text = batch_text("round trip", 'quotes " and unicode \u00b5', written)
    batch = parse_batch_text(text, "rt.toml", CONFIG)
    assert batch.section.name == "round trip"
    assert batch.section.description == 'quotes " and unicode \u00b5'
    assert [(k, dataclasses.asdict(p)) for k, p in batch.steps] == \
           [(k, dataclasses.asdict(p)) for k, p in written]


def test_preparation_holds_the_recorded_lock_level_again():
    context = {"laser": {}, "lock": {"piezo_pct": 48.0, "setpoint_V": 1.25}}
    laser, search, lock = LaserSetupParams(), LockPointParams(), LockParams()
    assert preparation_steps(PREPARE_LOCK, context, laser=laser, search=search, lock=lock) == \
        [("lock", dataclasses.replace(lock, piezo_pct=48.0, setpoint_from="value", setpoint_V=1.25))]
    first = preparation_steps(PREPARE_LOCK, {}, laser=laser, search=search, lock=lock)
    assert [k for k, _ in first] == ["laser", "lock_point_search", "lock"]
    assert lock_hold_steps({}, laser=laser, lock=lock) == (lock, laser)
    held, no_laser = lock_hold_steps(context, laser=laser, lock=lock)
    assert held.piezo_pct == 48.0 and no_laser is None
