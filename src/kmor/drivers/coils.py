"""The magnetic-field coils inside the shield, spoken to in microgauss.

Axes (names used everywhere in kmor, config included):

    bx, by, bz   uniform field along x, y, z                     [uG]
    dbz_dz       gradient coil dBz/dz                            [uG/cm]
    gxy          gradient coil dBx/dx - dBy/dy                   [uG/cm]

For the gradient axes "field" means the gradient in uG/cm and the calibration is per cm; the API
is the same. A lab may have any subset of the axes.

Each axis is driven either by a DAQ analog output (calibration in uG per V) or by a current
source such as the Keithley 6221 (calibration in uG per mA). Every change is ramped: steps of at
most `max_step_uG`, the i-th step sent only after i * dt has passed on the injected `sleep`
(simulated or real clock), so the field never moves faster than `max_ramp_rate_uG_per_s`.
Targets beyond the axis limits (field, coil current or voltage) are refused before anything is
sent. The present field is read back from the drive, never assumed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kmor.drivers.daq import DaqBoard
from kmor.drivers.errors import CoilLimitError, InstrumentError

AXES = ("bx", "by", "bz", "dbz_dz", "gxy")
AXIS_UNITS = {"bx": "uG", "by": "uG", "bz": "uG", "dbz_dz": "uG/cm", "gxy": "uG/cm"}
_REL_SLACK = 1e-12


class CoilDrive(Protocol):
    """What drives one coil: applies and reports a drive value in `units` ("V" or "mA")."""

    units: str
    label: str

    def apply(self, value: float) -> None:
        """Set the drive (V or mA)."""

    def applied(self) -> float:
        """The drive presently applied (V or mA)."""


class DaqCoilDrive:
    """A coil on a DAQ analog output (through a resistor or a V-to-I converter); units V."""

    units = "V"

    def __init__(self, daq: DaqBoard, channel: str) -> None:
        self.daq, self.channel = daq, channel
        self.label = f"DAQ {channel}"

    def apply(self, value: float) -> None:
        self.daq.write_ao_V(self.channel, value)

    def applied(self) -> float:
        return float(self.daq.ao_V(self.channel))


class CurrentSourceCoilDrive:
    """A coil on a programmable current source with a `current_A` setting (Keithley 6221);
    units mA. Switching the source output on/off is left to the station."""

    units = "mA"

    def __init__(self, source: Any) -> None:
        self.source = source
        self.label = getattr(source, "label", "current source")

    def apply(self, value: float) -> None:
        self.source.current_A = value * 1e-3

    def applied(self) -> float:
        return float(self.source.current_A) * 1e3


@dataclass(frozen=True)
class CoilAxis:
    """One coil: its drive, calibration and limits (all plain numbers).

    uG_per_unit:  field per unit drive: uG/V for a DAQ drive, uG/mA for a current source
                  (uG/cm per V or mA for gradient coils); the sign is the coil's polarity.
    max_field_uG: largest |field| allowed (uG, or uG/cm for gradients).
    max_drive:    largest |drive| allowed, in the drive's units (V or mA).
    """

    drive: CoilDrive
    uG_per_unit: float
    max_field_uG: float
    max_drive: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.uG_per_unit) and self.uG_per_unit != 0):
            raise ValueError(f"coil calibration must be finite and non-zero, "
                             f"got {self.uG_per_unit}")
        if not (self.max_field_uG > 0 and self.max_drive > 0):
            raise ValueError(f"coil limits must be positive, got max_field_uG="
                             f"{self.max_field_uG}, max_drive={self.max_drive}")


class CoilSet:
    """The coils as one object: set fields in uG with ramps and limits, read them back."""

    def __init__(self, axes: Mapping[str, CoilAxis], *, max_ramp_rate_uG_per_s: float,
                 max_step_uG: float, sleep: Callable[[float], None]) -> None:
        """`axes`: name (see AXES) -> CoilAxis. `max_ramp_rate_uG_per_s`: fastest allowed field
        change per axis. `max_step_uG`: largest single step. `sleep(dt_s)`: waits dt_s seconds
        (SimClock.sleep in the simulated lab, time.sleep in the lab)."""
        unknown = sorted(set(axes) - set(AXES))
        if unknown:
            raise ValueError(f"unknown coil axes {unknown}; known: {list(AXES)}")
        if not axes:
            raise ValueError("a CoilSet needs at least one axis")
        if not (max_ramp_rate_uG_per_s > 0 and max_step_uG > 0):
            raise ValueError(f"ramp rate and step must be positive, got "
                             f"{max_ramp_rate_uG_per_s} uG/s, {max_step_uG} uG")
        self.axes = dict(axes)
        self.max_ramp_rate_uG_per_s = float(max_ramp_rate_uG_per_s)
        self.max_step_uG = float(max_step_uG)
        self._sleep = sleep

    # ------------------------------------------------------------------ reading
    def field_uG(self, axis: str) -> float:
        """Present field of `axis` (uG; uG/cm for gradients), from the drive's applied value."""
        coil = self._axis(axis)
        return coil.drive.applied() * coil.uG_per_unit

    def drive(self, axis: str) -> float:
        """Drive presently applied to `axis`, in `drive_units(axis)` (mA or V)."""
        return self._axis(axis).drive.applied()

    def drive_units(self, axis: str) -> str:
        """"mA" (current source) or "V" (DAQ output)."""
        return self._axis(axis).drive.units

    def fields_uG(self) -> dict[str, float]:
        """Every axis' present field (for snapshots)."""
        return {axis: self.field_uG(axis) for axis in self.axes}

    # ------------------------------------------------------------------ setting
    def set_field_uG(self, axis: str, value_uG: float) -> None:
        """Ramp `axis` to `value_uG` (uG; uG/cm for gradients). Refused before anything is sent
        if beyond the axis' field or drive limit."""
        self.set_fields_uG({axis: value_uG})

    def set_fields_uG(self, targets_uG: Mapping[str, float]) -> None:
        """Ramp several axes together (each no faster than the ramp rate); all targets are
        checked against the limits before anything is sent."""
        drives = {axis: self._checked_drive(axis, value) for axis, value in targets_uG.items()}
        self._ramp(drives)

    def ramp_all_to_zero(self) -> None:
        """Ramp every axis to zero, one after another; an axis that fails does not stop the
        others. Raises InstrumentError listing the failures at the end (safe shutdown)."""
        failures = []
        for axis in self.axes:
            try:
                self._ramp({axis: 0.0})
            except (InstrumentError, OSError) as exc:
                failures.append(f"{axis}: {exc}")
        if failures:
            raise InstrumentError("coils: ramp to zero failed on " + "; ".join(failures),
                                  instrument="coils")

    # ------------------------------------------------------------------ internals
    def _axis(self, axis: str) -> CoilAxis:
        try:
            return self.axes[axis]
        except KeyError:
            raise CoilLimitError(f"coils: unknown axis {axis!r}; this lab has {list(self.axes)}",
                                 instrument="coils") from None

    def _checked_drive(self, axis: str, value_uG: Any) -> float:
        coil = self._axis(axis)
        units = AXIS_UNITS[axis]
        if isinstance(value_uG, bool) or not isinstance(value_uG, (int, float)) or \
                not math.isfinite(value_uG):
            raise CoilLimitError(f"coil {axis}: {value_uG!r} {units} is not a finite number. "
                                 f"Nothing was sent.", instrument="coils")
        if abs(value_uG) > coil.max_field_uG * (1 + _REL_SLACK):
            raise CoilLimitError(
                f"coil {axis}: {value_uG:g} {units} refused, beyond the field limit "
                f"+-{coil.max_field_uG:g} {units}. Nothing was sent.", instrument="coils")
        drive = value_uG / coil.uG_per_unit
        if abs(drive) > coil.max_drive * (1 + _REL_SLACK):
            kind = "coil current" if coil.drive.units == "mA" else "coil voltage"
            raise CoilLimitError(
                f"coil {axis}: {value_uG:g} {units} needs {drive:g} {coil.drive.units}, beyond "
                f"the {kind} limit +-{coil.max_drive:g} {coil.drive.units}. Nothing was sent.",
                instrument="coils")
        return drive

    def _ramp(self, target_drives: Mapping[str, float]) -> None:
        start = {axis: self.drive(axis) for axis in target_drives}
        change_uG = {axis: abs((target_drives[axis] - start[axis]) * self.axes[axis].uG_per_unit)
                     for axis in target_drives}
        biggest_uG = max(change_uG.values(), default=0.0)
        if biggest_uG == 0.0:
            return
        n_steps = max(1, math.ceil(biggest_uG / self.max_step_uG * (1 - 1e-12)))
        dt_s = biggest_uG / n_steps / self.max_ramp_rate_uG_per_s
        for k in range(1, n_steps + 1):
            self._sleep(dt_s)
            for axis, target in target_drives.items():
                if change_uG[axis] == 0.0:
                    continue
                step = (target - start[axis]) * k / n_steps
                self.axes[axis].drive.apply(target if k == n_steps else start[axis] + step)
