"""Laser set-up: emission on, diode current, the line (D1 or D2), piezo start position."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kmor.config.schema import param

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine

LINE_WAVELENGTH_NM = {"D1": 770.108385, "D2": 766.700922}
"""Vacuum wavelengths of the 39K D lines (Tiecke)."""


@dataclass(frozen=True, kw_only=True)
class LaserSetupParams:
    """Switch the laser on and tune it to a line."""

    line: str = param("D1", choices=tuple(LINE_WAVELENGTH_NM), doc="potassium line: D1 (770.1 nm) or D2 (766.7 nm)")
    current_mA: float = param(50.0, units="mA", min=0.0, max=500.0, doc="diode current")
    piezo_pct: float = param(50.0, units="%", min=-1.0, max=100.0, doc="piezo start setting; -1 keeps it")
    motor_timeout_s: float = param(60.0, units="s", min=0.1, max=3600.0, doc="longest wait for the wavelength motor")
    settle_s: float = param(1.0, units="s", min=0.0, max=3600.0, doc="wait after tuning (diode temperature)")


TYPICAL_MOTOR_MOVE_S = 0.6
"""Lab time of a typical wavelength move, s: ~3 nm (the head's mid-range to a D line) at the motor's
~5 nm/s, polled every 0.1 s. The estimate cannot know where the motor starts."""


def estimate_s(p: LaserSetupParams) -> float:
    """Lab time (s): a typical motor move, then the settle."""
    return TYPICAL_MOTOR_MOVE_S + p.settle_s


def setup_laser(engine: Engine, p: LaserSetupParams) -> dict[str, Any]:
    """Emission on at `current_mA`, wavelength of `line` (waiting for the motor), piezo set,
    track mode off, control input at 0 V. Stores and returns the record in context["laser"]."""
    st = engine.station
    engine.release()
    laser = st.laser
    laser.track_mode_off()
    laser.current_mA = p.current_mA
    laser.output_on = True
    laser.wavelength_nm = LINE_WAVELENGTH_NM[p.line]
    laser.wait_complete(engine.wait, timeout_s=p.motor_timeout_s)
    if p.piezo_pct >= 0:
        laser.piezo_pct = p.piezo_pct
    st.daq.write_ao_V(st.laser_control_ao, 0.0)
    engine.wait(p.settle_s)
    record = {"params": dataclasses.asdict(p), "wavelength_nm": LINE_WAVELENGTH_NM[p.line]}
    engine.context["laser"] = record
    return record
