"""Lab-limit checks shared by the step kinds: field, coil drive, light power, rf level.

A kind's `check_limits(params, check)` calls these with the parameter's key; a violation raises
ConfigError naming the batch file and the dotted key (`steps[2].field_range_uG`)."""

from __future__ import annotations

from typing import Any, NoReturn

from kmor.config.loader import ConfigError


class LimitCheck:
    """The lab config's limits and wiring, for the step at `key` of `file`."""

    def __init__(self, config: Any, *, file: str, key: str) -> None:
        self.config = config
        self.limits = config.limits
        self.file = file
        self.key = key

    def fail(self, field: str, message: str) -> NoReturn:
        """Refuse the value of `field` with `message`."""
        raise ConfigError(self.file, f"{self.key}.{field}" if self.key else field, message)

    def field(self, field: str, value_uG: float, axis: str) -> None:
        """A field of `value_uG` on coil `axis` is within max_field_uG and the coil drive limit."""
        limits = self.limits
        if abs(value_uG) > limits.max_field_uG:
            self.fail(field, f"{abs(value_uG):g} uG exceeds the lab limit limits.max_field_uG = {limits.max_field_uG:g} uG")
        coil = getattr(self.config.coils, axis)
        if coil.drive == "daq_ao":
            drive, limit, units, name = (abs(value_uG / coil.calibration_uG_per_V), limits.max_coil_voltage_V,
                                         "V", "limits.max_coil_voltage_V")
        else:
            drive, limit, units, name = (abs(value_uG / coil.calibration_uG_per_mA), limits.max_coil_current_mA,
                                         "mA", "limits.max_coil_current_mA")
        if drive > limit:
            self.fail(field, f"{abs(value_uG):g} uG on coil {axis} needs {drive:.4g} {units}, beyond {name} = {limit:g} {units}")

    def light(self, field: str, powers_uW: list[float]) -> None:
        """Light powers within max_light_power_uW, and settable (an attenuator is wired)."""
        limits = self.limits
        for power in powers_uW:
            if power > limits.max_light_power_uW:
                self.fail(field, f"{power:g} uW exceeds the lab limit limits.max_light_power_uW = {limits.max_light_power_uW:g} uW")
            if power > 0 and not self.config.daq.attenuator_ao:
                self.fail(field, "this lab has no attenuator (daq.attenuator_ao is empty), so the light power cannot be "
                                 "set; use 0 (leave it) and set the power by hand")

    def rf(self, field: str, levels_dBm: list[float]) -> None:
        """rf levels within max_rf_amplitude_dBm."""
        limit = self.limits.max_rf_amplitude_dBm
        for level in levels_dBm:
            if level > limit:
                self.fail(field, f"{level:g} dBm exceeds the lab limit limits.max_rf_amplitude_dBm = {limit:g} dBm")
