"""Helpers shared by the sequence tests (imported as a plain module: tests have no packages)."""

from __future__ import annotations

from kmor.sequences.engine import Engine
from kmor.sequences.laser import LaserSetupParams, setup_laser
from kmor.sequences.lock import LockParams, acquire_lock


def laser_and_lock(engine: Engine) -> dict:
    """Laser on D1 at the lock point (-250 MHz: piezo 47.5 %) and locked there."""
    setup_laser(engine, LaserSetupParams(piezo_pct=47.5, settle_s=0.1))
    return acquire_lock(engine, LockParams())


def is_safe(station) -> bool:
    """rf output off and every coil at zero field."""
    sim = station.sim
    return (not sim.rf_generator.output_on
            and all(abs(v) < 1e-9 for v in sim.coil_fields_uG().values()))
