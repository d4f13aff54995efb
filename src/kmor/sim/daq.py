"""The simulated NI DAQ: same calls as the nidaqmx-based driver, on the sim clock.

Analog inputs read callables (the physics, or a lock-in's rear CH1 output) and add white noise of a
given density over the sampling bandwidth (Nyquist: rate/2; `single_point_rate_hz` for untimed
reads), then quantize like a 16-bit converter on the +-10 V range and clip there. Analog outputs
hold their last value, which the physics reads through `ao_V`. A hardware-timed `sweep` steps the
AO and samples the AIs on one sample clock, advancing the sim clock sample by sample, so coupled
physics (a lock-in filter, the laser lock) sees the sweep as it happens. See docs/decisions/0024.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable

import numpy as np

RANGE_V = 10.0
BITS = 16
LSB_V = 2 * RANGE_V / 2**BITS
MAX_RATE_HZ = 2e6


class SimDaq:
    """A DAQ device ("Dev1") with analog inputs fed by callables and analog outputs."""

    def __init__(
        self,
        clock,
        device: str,
        ai_sources: dict[str, Callable[[], float]],
        ai_noise_V_per_rtHz: dict[str, Callable[[], float]] | None,
        rng: np.random.Generator,
        *,
        ao_channels: Iterable[str] = ("ao0", "ao1", "ao2", "ao3"),
        single_point_rate_hz: float = 1000.0,
    ) -> None:
        """Channel names may be given as "ai0" or "Dev1/ai0"; both address the same channel.
        `single_point_rate_hz`: the bandwidth (rate/2) an untimed read's noise is taken over."""
        self.clock = clock
        self.device = device
        self.rng = rng
        self.single_point_rate_hz = single_point_rate_hz
        self._names: dict[str, str] = {}   # channel name as given -> "Dev1/ai0" (read per servo step: cached)
        self._ai = {self._full(name): source for name, source in ai_sources.items()}
        self._noise = {self._full(name): density
                       for name, density in (ai_noise_V_per_rtHz or {}).items()}
        unknown = sorted(set(self._noise) - set(self._ai))
        if unknown:
            raise ValueError(f"noise given for channels without a source: {unknown}")
        self._ao = {self._full(name): 0.0 for name in ao_channels}
        self._lock = threading.RLock()
        self._closed = False
        self.on_output_change: Callable[[], None] | None = None
        """Called just before every analog output write, also of the value it holds (the lab tells
        the lock-ins, so their filters see a step at its time; that a write happens, not its value,
        decides when they update, so a job's random draws come at the same steps whatever the
        servo's output, decision 0104)."""

    # --- names ----------------------------------------------------------------------------
    def _full(self, name: str) -> str:
        full = self._names.get(name)
        if full is None:
            stripped = name.strip().lstrip("/")
            full = stripped if "/" in stripped else f"{self.device}/{stripped}"
            self._names[name] = full
        return full

    def _ai_channel(self, channel: str) -> str:
        full = self._full(channel)
        if full not in self._ai:
            raise ValueError(f"unknown analog input {channel!r} on simulated {self.device}; "
                             f"known: {', '.join(sorted(self._ai))}")
        return full

    def _ao_channel(self, channel: str) -> str:
        full = self._full(channel)
        if full not in self._ao:
            raise ValueError(f"unknown analog output {channel!r} on simulated {self.device}; "
                             f"known: {', '.join(sorted(self._ao))}")
        return full

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"simulated DAQ {self.device} is closed")

    @staticmethod
    def _check_ao_value(channel: str, value_V: float) -> float:
        value = float(value_V)
        if not math.isfinite(value) or abs(value) > RANGE_V:
            raise ValueError(f"{channel}: {value_V!r} V is outside the +-{RANGE_V:g} V output range")
        return value

    # --- sampling -------------------------------------------------------------------------
    def _sample(self, full: str, rate_hz: float) -> float:
        value = float(self._ai[full]())
        density = self._noise.get(full)
        if density is not None:
            value += float(density()) * math.sqrt(rate_hz / 2.0) * self.rng.standard_normal()
        if not math.isfinite(value):
            return RANGE_V if value > 0 else -RANGE_V
        clipped = min(RANGE_V - LSB_V, max(-RANGE_V, value))
        return round(clipped / LSB_V) * LSB_V

    def reseed(self, rng: np.random.Generator) -> None:
        """Draw the input noise from `rng` from now on (a batch job's own stream, decision 0104)."""
        with self._lock:
            self.rng = rng

    # --- public interface (same as the nidaqmx driver) -------------------------------------
    def read_ai_V(self, channel: str) -> float:
        """One untimed sample of an analog input, volts."""
        with self._lock:
            self._check_open()
            return self._sample(self._ai_channel(channel), self.single_point_rate_hz)

    def write_ao_V(self, channel: str, value_V: float) -> None:
        """Set an analog output (+-10 V); NaN or out-of-range values raise ValueError."""
        with self._lock:
            self._check_open()
            full = self._ao_channel(channel)
            self._set_ao(full, self._check_ao_value(full, value_V))

    def _set_ao(self, full: str, value_V: float) -> None:
        if self.on_output_change is not None:
            self.on_output_change()
        self._ao[full] = value_V

    def ao_V(self, channel: str) -> float:
        """The value an analog output holds now, volts (what the physics reads; a dict read, atomic
        without the lock, and called several times per lock-servo step)."""
        value = self._ao.get(self._full(channel))
        return value if value is not None else self._ao[self._ao_channel(channel)]

    def ao_reader(self, channel: str) -> Callable[[], float]:
        """A callable returning what an analog output holds now (V): `ao_V` without the name lookup."""
        full = self._ao_channel(channel)
        table = self._ao
        return lambda: table[full]

    def sweep(self, ao_channel: str, waveform_V: np.ndarray, ai_channels: list[str],
              rate_hz: float) -> np.ndarray:
        """Hardware-timed: output `waveform_V` on `ao_channel` at `rate_hz` and sample the
        `ai_channels` on the same clock; returns shape (len(ai_channels), len(waveform_V)).
        Sample k: the AO takes waveform_V[k], one sample period passes on the sim clock, then
        every AI is read. The AO keeps the last value afterwards, as the hardware does."""
        with self._lock:
            self._check_open()
            ao = self._ao_channel(ao_channel)
            ais = [self._ai_channel(c) for c in ai_channels]
            wave = np.asarray(waveform_V, dtype=float).ravel()
            if not (math.isfinite(rate_hz) and 0 < rate_hz <= MAX_RATE_HZ):
                raise ValueError(f"sample rate {rate_hz!r} Hz outside (0, {MAX_RATE_HZ:g}] Hz")
            if wave.size == 0:
                raise ValueError("empty waveform")
            if not np.all(np.isfinite(wave)) or np.max(np.abs(wave)) > RANGE_V:
                raise ValueError(f"{ao}: waveform leaves the +-{RANGE_V:g} V output range or is not finite")
            period_s = 1.0 / rate_hz
            data = np.empty((len(ais), wave.size))
            for k, value in enumerate(wave):
                self._set_ao(ao, float(value))
                self.clock.sleep(period_s)
                for i, full in enumerate(ais):
                    data[i, k] = self._sample(full, rate_hz)
            return data

    def close(self) -> None:
        """Release the device; later calls raise RuntimeError. Closing twice is harmless."""
        with self._lock:
            self._closed = True

    @property
    def ai_channels(self) -> list[str]:
        return sorted(self._ai)

    @property
    def ao_channels(self) -> list[str]:
        return sorted(self._ao)
