"""What the sequences need from the apparatus, as small Protocols.

Sequences never import a concrete driver: they see the station through these protocols, whose
attribute names match the drivers (`kmor.drivers.*`) and `kmor.station.Station`. A fake station in
the tests, the simulated lab and the real instruments all satisfy them. Units are in the names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np


class Clock(Protocol):
    """The station's clock: the simulated lab's SimClock or real time."""

    def now_s(self) -> float:
        """Seconds since an arbitrary origin (monotonic)."""

    def sleep(self, dt_s: float) -> None:
        """Let `dt_s` seconds pass (at full simulated speed: at once)."""


class RfGenerator(Protocol):
    """HP 8647A: CW frequency (Hz, 1 Hz resolution), level (dBm), output on/off."""

    freq_hz: float
    amplitude_dBm: float
    rf_on: bool

    def modulation_off(self) -> None:
        """AM, FM and PM off (a clean CW carrier)."""


class Counter(Protocol):
    """SR620 measuring the rf frequency against the lab's 10 MHz reference."""

    def configure_frequency(self, *, gate_s: float = 1.0, sample_size: int = 1,
                            external_reference: bool = True) -> None:
        """Frequency of input A, `sample_size` gates of `gate_s` each."""

    def measure_frequency(self, *, timeout_s: float | None = None) -> tuple[float, float]:
        """(mean_hz, jitter_hz); raises ReferenceClockMissing without the 10 MHz reference."""

    def check_status(self, command: str) -> None:
        """Raise ReferenceClockMissing / InstrumentStatusError if the counter reports a fault."""


class LockinStatusLike(Protocol):
    @property
    def overloaded(self) -> bool: ...


class Lockin(Protocol):
    """SR830: settings by value, outputs at one instant, status, settling time, and the data
    storage buffer (CH1 and CH2 stored at a sample rate on the lock-in's own clock)."""

    harmonic: int
    sensitivity_V: float
    time_constant_s: float
    filter_slope_dB_per_oct: int
    ch1_display: str              # what buffer channel 1 stores, e.g. "X"
    ch2_display: str              # what buffer channel 2 stores, e.g. "Y"
    buffer_sample_rate_hz: float | str  # 62.5 mHz .. 512 Hz, or "trigger"
    buffer_mode: str              # "one_shot" or "loop"

    def snap(self, *names: str) -> dict[str, float]:
        """2-6 outputs at one instant, e.g. snap("x_V", "y_V")."""

    def status(self) -> LockinStatusLike:
        """Read and clear the status byte (overloads, reference unlock)."""

    def settle_time_s(self, fraction: float = 0.99) -> float:
        """Time for the output filter to reach `fraction` of a step."""

    def reset_buffer(self) -> None:
        """Erase both buffer channels and stop storage (REST)."""

    def start_buffer(self) -> None:
        """Start (or resume) storing CH1 and CH2 at the sample rate (STRT)."""

    def pause_buffer(self) -> None:
        """Pause storage (PAUS)."""

    def read_buffer(self, channel: int, first: int = 0, count: int | None = None) -> np.ndarray:
        """`count` points (default: all from `first`) of buffer channel 1 or 2, in the units of
        that channel's display."""


class Laser(Protocol):
    """TLB-6300: emission, diode current (mA), wavelength (nm, the motor: picks the line) and
    the external-cavity piezo (% of its range)."""

    output_on: bool
    current_mA: float
    wavelength_nm: float
    piezo_pct: float

    def track_mode_off(self) -> None:
        """Stop following the wavelength setpoint continuously (frees the piezo)."""

    def wait_complete(self, sleep: Callable[[float], None], *, poll_s: float = 0.1,
                      timeout_s: float = 30.0) -> None:
        """Wait (with `sleep`) until the last operation, e.g. a wavelength move, is done."""


class Daq(Protocol):
    """Analog I/O by full channel name ("Dev1/ai0"), volts."""

    def read_ai_V(self, channel: str) -> float: ...

    def write_ao_V(self, channel: str, value_V: float) -> None: ...

    def ao_V(self, channel: str) -> float: ...

    def sweep(self, ao_channel: str, waveform_V: np.ndarray, ai_channels: list[str],
              rate_hz: float) -> np.ndarray: ...


class Coils(Protocol):
    """CoilSet: fields in uG, ramped at the allowed rate, refused beyond the limits."""

    def set_field_uG(self, axis: str, value_uG: float) -> None: ...

    def set_fields_uG(self, targets_uG: Mapping[str, float]) -> None: ...

    def field_uG(self, axis: str) -> float: ...

    def fields_uG(self) -> dict[str, float]: ...

    def drive(self, axis: str) -> float:
        """Drive applied to `axis` in `drive_units(axis)` (V or mA)."""

    def drive_units(self, axis: str) -> str: ...

    def ramp_all_to_zero(self) -> None: ...


@runtime_checkable
class Station(Protocol):
    """Everything a sequence may touch (see kmor.station.Station)."""

    # read-only members: a station may give them as attributes or properties
    @property
    def config(self) -> Any: ...  # KmorConfig: limits, daq and coil wiring
    @property
    def config_text(self) -> str: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def rf(self) -> RfGenerator: ...
    @property
    def counter(self) -> Counter: ...
    @property
    def lockin_polarimeter(self) -> Lockin: ...
    @property
    def lockin_reference(self) -> Lockin: ...
    @property
    def laser(self) -> Laser: ...
    @property
    def daq(self) -> Daq: ...
    @property
    def coils(self) -> Coils: ...
    @property
    def lock_error_ai(self) -> str: ...
    @property
    def light_monitor_ai(self) -> str: ...
    @property
    def transmission_ai(self) -> str: ...
    @property
    def laser_control_ao(self) -> str: ...
    @property
    def attenuator_ao(self) -> str | None: ...
    @property
    def light_monitor_uW_per_V(self) -> float: ...
    @property
    def sim(self) -> Any: ...

    def light_power_uW(self) -> float:
        """Light into the cell from the monitor photodiode (uW)."""

    def set_light_power_uW(self, power_uW: float) -> Any:
        """Set the light through the attenuator (raises if the lab has none)."""

    def begin_job(self, job_number: int, planned_start_s: float) -> None:
        """A batch job (0-based place in the queue), planned to begin `planned_start_s` (s) into
        the run, begins (the simulated lab re-seeds; real hardware does nothing)."""

    def snapshot(self) -> dict[str, Any]:
        """Every instrument setting (for the data files)."""

    def make_safe(self) -> list[str]:
        """rf off, coils ramped to zero at the allowed rate; idempotent; never raises; returns
        the problems met (empty if none)."""

    def close(self) -> None: ...
