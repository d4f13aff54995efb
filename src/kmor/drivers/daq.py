"""Analog I/O: the `DaqBoard` protocol and `NiDaq`, its implementation on an NI card via `nidaqmx`.

The DAQ carries the slow signals of the apparatus: photodiode and lock-in CH1 voltages in, the
laser's frequency-control voltage, coil drives (when coils hang on DAQ outputs), light-power
monitor and attenuator out. Everything is a named channel ("Dev1/ai0", "Dev1/ao1") through the
five methods of `DaqBoard`; the simulated lab's DAQ has exactly the same methods.

`import nidaqmx` works without NI's driver, but the first `Task()` raises
`nidaqmx.errors.DaqNotFoundError`, which is NOT a `DaqError`: `NiDaq` turns it into
`DaqUnavailable` at construction, with a message that says what to do. nidaqmx itself is
imported only when a `NiDaq` is built, so code that merely speaks `DaqBoard` (coils, sequences,
the simulated lab) does not load it.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kmor.drivers.errors import DaqOperationError, DaqUnavailable, SettingOutOfRange

_CHANNEL = re.compile(r"^/?(?P<device>[^/\s]+)/(?P<kind>ai|ao)(?P<index>\d+)$")
TERMINAL_CONFIGS = ("RSE", "NRSE", "DIFF", "PSEUDO_DIFF", "DEFAULT")
UNAVAILABLE_HINT = ("The NI-DAQmx driver (NI's C library behind the nidaqmx package) is not "
                    "installed on this computer, so no NI DAQ can be used. Install NI-DAQmx from "
                    "ni.com to run the real apparatus, or start kmor without --config to use the "
                    "simulated lab (config/sim.toml), which has its own simulated DAQ.")


@runtime_checkable
class DaqBoard(Protocol):
    """Analog in/out by channel name, single point or hardware-timed sweep, in volts."""

    def read_ai_V(self, channel: str) -> float:
        """One reading of analog input `channel` ("Dev1/ai0")."""

    def write_ao_V(self, channel: str, value_V: float) -> None:
        """Set analog output `channel` to `value_V` (single point)."""

    def ao_V(self, channel: str) -> float:
        """The last value written to `channel` by this object."""

    def sweep(self, ao_channel: str, waveform_V: np.ndarray, ai_channels: list[str],
              rate_hz: float) -> np.ndarray:
        """Play `waveform_V` on `ao_channel` at `rate_hz` while sampling `ai_channels` on the same
        clock; returns an array of shape (len(ai_channels), len(waveform_V))."""

    def close(self) -> None:
        """Release the hardware."""


class NiDaq:
    """`DaqBoard` on an NI multifunction card through NI-DAQmx.

    Single-point reads/writes use one on-demand task per channel, kept between calls (creating a
    task costs milliseconds, and the lock servo reads and writes continuously). A sweep releases
    those tasks for its channels, then runs AO and AI as two finite tasks at `rate_hz` with the
    AO start-triggered by the AI start trigger ("/Dev1/ai/StartTrigger"), AO started first, so
    sample k of the output and sample k of every input belong together.
    """

    def __init__(self, device: str = "Dev1", *, ai_terminal_config: str = "DIFF",
                 ai_range_V: float = 10.0, ao_range_V: float = 10.0,
                 task_factory: Callable[[], Any] | None = None) -> None:
        """`device`: the NI device name (as in NI MAX). `ai_terminal_config`: one of RSE, NRSE,
        DIFF, PSEUDO_DIFF, DEFAULT. Ranges in volts (symmetric). `task_factory()` makes a task
        (default `nidaqmx.Task`, NI names it; replaced in tests). Raises DaqUnavailable if
        NI-DAQmx is not installed."""
        if ai_terminal_config not in TERMINAL_CONFIGS:
            raise ValueError(f"ai_terminal_config must be one of {list(TERMINAL_CONFIGS)}, "
                             f"got {ai_terminal_config!r}")
        import nidaqmx
        import nidaqmx.constants
        import nidaqmx.errors

        self._errors = nidaqmx.errors
        self._finite = nidaqmx.constants.AcquisitionType.FINITE
        self.device = device
        self.label = f"NI DAQ {device}"
        self._terminal_config = getattr(nidaqmx.constants.TerminalConfiguration,
                                        ai_terminal_config)
        self.ai_range_V = float(ai_range_V)
        self.ao_range_V = float(ao_range_V)
        self._task_factory = task_factory or nidaqmx.Task
        self._ai_tasks: dict[str, Any] = {}
        self._ao_tasks: dict[str, Any] = {}
        self._ao_last_V: dict[str, float] = {}
        with self._daq_call("opening a task"):
            self._task_factory().close()

    # ------------------------------------------------------------------ single point
    def read_ai_V(self, channel: str) -> float:
        """One reading of analog input `channel` (V)."""
        self._check_channel(channel, "ai")
        with self._daq_call(f"reading {channel}"):
            task = self._ai_tasks.get(channel)
            if task is None:
                task = self._new_task(lambda t: t.ai_channels.add_ai_voltage_chan(
                    channel, terminal_config=self._terminal_config,
                    min_val=-self.ai_range_V, max_val=self.ai_range_V))
                self._ai_tasks[channel] = task
            return float(task.read())

    def write_ao_V(self, channel: str, value_V: float) -> None:
        """Set analog output `channel` to `value_V` (V); refused before sending if out of range."""
        self._check_channel(channel, "ao")
        value = self._check_ao_value(channel, value_V)
        with self._daq_call(f"writing {value} V to {channel}"):
            task = self._ao_tasks.get(channel)
            if task is None:
                task = self._new_task(lambda t: t.ao_channels.add_ao_voltage_chan(
                    channel, min_val=-self.ao_range_V, max_val=self.ao_range_V))
                self._ao_tasks[channel] = task
            task.write(value, auto_start=True)
        self._ao_last_V[channel] = value

    def ao_V(self, channel: str) -> float:
        """Last value written to `channel` by this object (0 V, the power-up state, if none)."""
        self._check_channel(channel, "ao")
        return self._ao_last_V.get(channel, 0.0)

    def _new_task(self, add_channel: Callable[[Any], Any]) -> Any:
        task = self._task_factory()
        try:
            add_channel(task)
        except BaseException:
            task.close()
            raise
        return task

    # ------------------------------------------------------------------ sweep
    def sweep(self, ao_channel: str, waveform_V: np.ndarray, ai_channels: list[str],
              rate_hz: float) -> np.ndarray:
        """Hardware-timed: `waveform_V` out on `ao_channel`, `ai_channels` sampled on the same
        clock at `rate_hz`; returns shape (len(ai_channels), len(waveform_V)) in volts."""
        wave = self._check_sweep(ao_channel, waveform_V, ai_channels, rate_hz)
        n = wave.size
        for channel in [ao_channel, *ai_channels]:
            self._release(channel)
        with self._daq_call(f"sweep of {ao_channel} with {ai_channels}"):
            ao = self._task_factory()
            try:
                ai = self._task_factory()
                try:
                    data = self._run_sweep(ao, ai, ao_channel, wave, ai_channels, float(rate_hz))
                finally:
                    ai.close()
            finally:
                ao.close()
        self._ao_last_V[ao_channel] = float(wave[-1])
        return np.asarray(data, dtype=float).reshape(len(ai_channels), n)

    def _run_sweep(self, ao: Any, ai: Any, ao_channel: str, wave: np.ndarray,
                   ai_channels: list[str], rate_hz: float) -> Any:
        n = wave.size
        ao.ao_channels.add_ao_voltage_chan(ao_channel, min_val=-self.ao_range_V,
                                           max_val=self.ao_range_V)
        for channel in ai_channels:
            ai.ai_channels.add_ai_voltage_chan(channel, terminal_config=self._terminal_config,
                                               min_val=-self.ai_range_V, max_val=self.ai_range_V)
        ai.timing.cfg_samp_clk_timing(rate_hz, sample_mode=self._finite,
                                      samps_per_chan=n)
        ao.timing.cfg_samp_clk_timing(rate_hz, sample_mode=self._finite,
                                      samps_per_chan=n)
        ao.triggers.start_trigger.cfg_dig_edge_start_trig(f"/{self._device_of(ao_channel)}"
                                                          f"/ai/StartTrigger")
        ao.write(wave, auto_start=False)
        ao.start()              # armed, waits for the AI start trigger
        ai.start()
        duration_s = n / rate_hz
        data = ai.read(number_of_samples_per_channel=n, timeout=duration_s + 10.0)
        ao.wait_until_done(timeout=10.0)
        return data

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close every task this object holds (outputs keep their last value)."""
        for channel in list(self._ai_tasks) + list(self._ao_tasks):
            self._release(channel)

    def _release(self, channel: str) -> None:
        task = self._ai_tasks.pop(channel, None) or self._ao_tasks.pop(channel, None)
        if task is not None:
            with contextlib.suppress(self._errors.Error):
                task.close()

    # ------------------------------------------------------------------ checks
    def _check_channel(self, channel: str, kind: str) -> None:
        match = _CHANNEL.match(channel) if isinstance(channel, str) else None
        if not match or match["kind"] != kind:
            raise SettingOutOfRange(f"{self.label}: {channel!r} is not an analog "
                                    f"{'input' if kind == 'ai' else 'output'} channel name like "
                                    f"'{self.device}/{kind}0'", instrument=self.label)

    def _device_of(self, channel: str) -> str:
        match = _CHANNEL.match(channel)
        assert match is not None
        return match["device"]

    def _check_ao_value(self, channel: str, value_V: Any) -> float:
        ok = (not isinstance(value_V, bool) and isinstance(value_V, (int, float, np.number))
              and math.isfinite(float(value_V)) and abs(float(value_V)) <= self.ao_range_V)
        if not ok:
            raise SettingOutOfRange(f"{self.label}: {channel} = {value_V!r} V refused; allowed "
                                    f"-{self.ao_range_V:g} .. {self.ao_range_V:g} V. Nothing was "
                                    f"sent.", instrument=self.label)
        return float(value_V)

    def _check_sweep(self, ao_channel: str, waveform_V: Any, ai_channels: list[str],
                     rate_hz: float) -> np.ndarray:
        self._check_channel(ao_channel, "ao")
        if isinstance(ai_channels, str) or not ai_channels:
            raise SettingOutOfRange(f"{self.label}: ai_channels must be a non-empty list of "
                                    f"channel names, got {ai_channels!r}", instrument=self.label)
        for channel in ai_channels:
            self._check_channel(channel, "ai")
        devices = {self._device_of(c) for c in [ao_channel, *ai_channels]}
        if len(devices) != 1:
            raise SettingOutOfRange(f"{self.label}: a sweep needs all channels on one device, "
                                    f"got {sorted(devices)}", instrument=self.label)
        wave = np.asarray(waveform_V, dtype=float)
        if wave.ndim != 1 or wave.size < 2:
            raise SettingOutOfRange(f"{self.label}: waveform_V must be 1-D with at least 2 "
                                    f"samples, got shape {wave.shape}", instrument=self.label)
        if not np.all(np.isfinite(wave)) or np.max(np.abs(wave)) > self.ao_range_V:
            raise SettingOutOfRange(
                f"{self.label}: waveform_V on {ao_channel} has values outside "
                f"-{self.ao_range_V:g} .. {self.ao_range_V:g} V (or NaN): min "
                f"{np.nanmin(wave):g}, max {np.nanmax(wave):g}. Nothing was sent.",
                instrument=self.label)
        if not (isinstance(rate_hz, (int, float, np.number)) and math.isfinite(rate_hz)
                and rate_hz > 0):
            raise SettingOutOfRange(f"{self.label}: rate_hz must be a positive number, got "
                                    f"{rate_hz!r}", instrument=self.label)
        return wave

    @contextlib.contextmanager
    def _daq_call(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._errors.DaqNotFoundError as exc:
            raise DaqUnavailable(f"{self.label}: {UNAVAILABLE_HINT} (nidaqmx said: {exc})",
                                 instrument=self.label, command=what) from exc
        except self._errors.DaqError as exc:
            raise DaqOperationError(f"{self.label}: {what} failed: NI-DAQmx error "
                                    f"{exc.error_code}: {exc}", instrument=self.label,
                                    command=what) from exc
        except self._errors.Error as exc:
            raise DaqOperationError(f"{self.label}: {what} failed: {exc}",
                                    instrument=self.label, command=what) from exc
