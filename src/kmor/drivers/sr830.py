"""SRS SR830 DSP lock-in amplifier (GPIB or RS-232; SRS syntax, not SCPI).

Two of them in the apparatus: one demodulates the polarimeter at the first harmonic of the 1 kHz
laser modulation (the NMOR rotation signal), the other the reference-cell photodiode at the
second harmonic for the laser lock.

Sensitivity and time constant are set BY VALUE in volts and seconds and mapped to the manual's
code tables (SENS 0 = 2 nV ... 26 = 1 V in 1-2-5 steps; OFLT 0 = 10 us ... 19 = 30 ks in 1-3
steps): the nearest entry on a log scale, ties to the larger; values outside a table are
refused. Replies to several `;`-joined queries come back one line each (unlike the SR620).
`OUTX` is sent first on connect because the SR830 only answers on the selected interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pyvisa.errors import VisaIOError
from scipy.special import gammaincinv

from kmor.drivers.errors import InstrumentTimeout, SettingOutOfRange
from kmor.drivers.settings import (InRange, IntInRange, NearestInTable, Setting, parse_int,
                                   validate)
from kmor.drivers.visa_instrument import SrsStatusBytes, VisaInstrument


def _sequence(mantissas: tuple[int, ...], first_exp: int, count: int) -> tuple[float, ...]:
    values = [float(f"{m}e{e}") for e in range(first_exp, first_exp + 12) for m in mantissas]
    return tuple(values[:count])


SENSITIVITIES_V = _sequence((1, 2, 5), -9, 28)[1:]       # 2 nV .. 1 V, codes 0..26
TIME_CONSTANTS_S = _sequence((1, 3), -5, 20)             # 10 us .. 30 ks, codes 0..19
SLOPES_DB_PER_OCT = {6: 0, 12: 1, 18: 2, 24: 3}
RESERVES = {"high_reserve": 0, "normal": 1, "low_noise": 2}
INPUTS = {"A": 0, "A-B": 1, "I_1MOhm": 2, "I_100MOhm": 3}
SNAP_CODES = {"x_V": 1, "y_V": 2, "r_V": 3, "theta_deg": 4, "aux1_V": 5, "aux2_V": 6,
              "aux3_V": 7, "aux4_V": 8, "ref_freq_hz": 9}
AUX_OUT_MAX_V = 10.5
#: SRAT i -> buffer samples per second (0 = 62.5 mHz ... 13 = 512 Hz, doubling); 14 = per trigger.
BUFFER_RATES_HZ = tuple(0.0625 * 2.0**i for i in range(14))
BUFFER_POINTS = 16383
CH1_DISPLAYS = {"X": 0, "R": 1, "X_noise": 2, "aux1": 3, "aux2": 4}
CH2_DISPLAYS = {"Y": 0, "theta": 1, "Y_noise": 2, "aux3": 3, "aux4": 4}


def _display_code(reply: str) -> int:
    """DDEF? i answers "j,k" (display, ratio): the display code."""
    return parse_int(reply.split(",")[0])

assert len(SENSITIVITIES_V) == 27 and SENSITIVITIES_V[0] == 2e-9 and SENSITIVITIES_V[-1] == 1.0
assert len(TIME_CONSTANTS_S) == 20 and TIME_CONSTANTS_S[-1] == 3e4


def settle_time_s_for(time_constant_s: float, slope_dB_per_oct: int,
                      fraction: float = 0.99) -> float:
    """Time for the output filter (slope/6 identical RC poles of `time_constant_s`) to reach
    `fraction` of a step: 4.6 tau at 6 dB/oct, 6.6 at 12, 8.4 at 18, 10.0 at 24 (for 99 %).

    A cascade of n poles has the step response P(n, t/tau) (regularized lower incomplete gamma
    function), so the settling time is its inverse."""
    if slope_dB_per_oct not in SLOPES_DB_PER_OCT:
        raise ValueError(f"slope must be one of {list(SLOPES_DB_PER_OCT)} dB/oct, "
                         f"got {slope_dB_per_oct}")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    poles = slope_dB_per_oct // 6
    return float(gammaincinv(poles, fraction)) * time_constant_s


@dataclass(frozen=True)
class LockinStatus:
    """The LIA status byte (LIAS?), decoded. Bits stay set until read, so this reports
    everything since the previous read."""

    raw: int
    input_overload: bool
    filter_overload: bool
    output_overload: bool
    reference_unlock: bool
    range_change: bool
    time_constant_changed: bool
    triggered: bool

    @classmethod
    def from_byte(cls, raw: int) -> LockinStatus:
        bit = [bool(raw >> i & 1) for i in range(7)]
        return cls(raw, *bit)

    @property
    def overloaded(self) -> bool:
        """Any overload (input, filter or output): the reading is not trustworthy."""
        return self.input_overload or self.filter_overload or self.output_overload


class SR830(SrsStatusBytes, VisaInstrument):
    """SR830 lock-in: reference, gain, filter, outputs, snapshots of outputs, aux, status."""

    model = "SR830 lock-in"
    name = "sr830"
    idn_pattern = r"Stanford_Research_Systems,SR830"
    read_termination = "\n"          # GPIB; RS-232 uses CR (interface="rs232")
    write_termination = "\n"
    timeout_ms = 3000
    joined_replies_on_one_line = False
    ERRS_BITS: ClassVar[dict[int, str]] = {1: "backup error", 2: "RAM error", 4: "ROM error",
                                           5: "GPIB error", 6: "DSP error", 7: "math error"}

    harmonic = Setting(get="HARM?", set="HARM {}", check=IntInRange(1, 19999), parse=parse_int,
                       doc="detection harmonic of the reference")
    reference_source = Setting(get="FMOD?", set="FMOD {}",
                               values={"external": 0, "internal": 1}, parse=parse_int,
                               doc="reference source")
    reference_freq_hz = Setting(get="FREQ?", set="FREQ {:.4f}", units="Hz",
                                check=InRange(1e-3, 102e3),
                                doc="reference frequency (set only with the internal reference)")
    sensitivity_V = Setting(get="SENS?", set="SENS {}", units="V", parse=parse_int,
                            values=dict(zip(SENSITIVITIES_V, range(27))),
                            check=NearestInTable(SENSITIVITIES_V),
                            doc="full-scale sensitivity, snapped to the 1-2-5 table 2 nV .. 1 V")
    time_constant_s = Setting(get="OFLT?", set="OFLT {}", units="s", parse=parse_int,
                              values=dict(zip(TIME_CONSTANTS_S, range(20))),
                              check=NearestInTable(TIME_CONSTANTS_S),
                              doc="output filter time constant, snapped to 10 us .. 30 ks (1-3)")
    filter_slope_dB_per_oct = Setting(get="OFSL?", set="OFSL {}", units="dB/oct",
                                      values=SLOPES_DB_PER_OCT, parse=parse_int,
                                      doc="output filter slope")
    reserve = Setting(get="RMOD?", set="RMOD {}", values=RESERVES, parse=parse_int,
                      doc="dynamic reserve mode")
    input_source = Setting(get="ISRC?", set="ISRC {}", values=INPUTS, parse=parse_int,
                           doc="input configuration")
    phase_deg = Setting(get="PHAS?", set="PHAS {:.2f}", units="deg", check=InRange(-360, 729.99),
                        doc="reference phase shift")
    sine_amplitude_V = Setting(get="SLVL?", set="SLVL {:.3f}", units="V",
                               check=InRange(0.004, 5.0), doc="sine output amplitude (rms)")
    ch1_display = Setting(get="DDEF? 1", set="DDEF 1,{},0", values=CH1_DISPLAYS, parse=_display_code,
                          doc="what CH1 shows and the buffer's channel 1 stores (setting it clears the ratio)")
    ch2_display = Setting(get="DDEF? 2", set="DDEF 2,{},0", values=CH2_DISPLAYS, parse=_display_code,
                          doc="what CH2 shows and the buffer's channel 2 stores (setting it clears the ratio)")
    buffer_sample_rate_hz = Setting(get="SRAT?", set="SRAT {}", units="Hz", parse=parse_int,
                                    values={**dict(zip(BUFFER_RATES_HZ, range(14))), "trigger": 14},
                                    doc="data buffer sample rate, 62.5 mHz .. 512 Hz (doubling), "
                                        "or 'trigger' (one sample per TRIG)")
    buffer_mode = Setting(get="SEND?", set="SEND {}", values={"one_shot": 0, "loop": 1}, parse=parse_int,
                          doc="buffer end: 'one_shot' stops when full (16383 points), 'loop' overwrites")
    buffer_trigger_starts = Setting(get="TSTR?", set="TSTR {}", values={False: 0, True: 1},
                                    parse=parse_int, doc="a trigger starts the buffer's storage")
    x_V = Setting(get="OUTP? 1", units="V", snapshot=False, doc="X output")
    y_V = Setting(get="OUTP? 2", units="V", snapshot=False, doc="Y output")
    r_V = Setting(get="OUTP? 3", units="V", snapshot=False, doc="R output")
    theta_deg = Setting(get="OUTP? 4", units="deg", snapshot=False, doc="theta output")

    def __init__(self, resource: str | Any, visa_library: Any = "@py", *,
                 interface: str = "gpib", **kwargs: Any) -> None:
        """`interface` ("gpib" or "rs232") is where the SR830 must send its replies (OUTX)."""
        if interface not in ("gpib", "rs232"):
            raise ValueError(f"interface must be 'gpib' or 'rs232', got {interface!r}")
        self.interface = interface
        if interface == "rs232":
            kwargs.setdefault("read_termination", "\r")
            kwargs.setdefault("write_termination", "\r")
        super().__init__(resource, visa_library, **kwargs)

    def _prepare(self) -> None:
        self.write("OUTX 1" if self.interface == "gpib" else "OUTX 0")

    # -- outputs ------------------------------------------------------------------------
    def snap(self, *names: str) -> dict[str, float]:
        """2 to 6 outputs taken at the same instant (SNAP?), e.g. snap("x_V", "y_V").

        Names: x_V, y_V, r_V, theta_deg, aux1_V .. aux4_V, ref_freq_hz."""
        unknown = [n for n in names if n not in SNAP_CODES]
        if unknown or not 2 <= len(names) <= 6 or len(set(names)) != len(names):
            raise SettingOutOfRange(
                f"{self.label}: snap{names} refused: give 2 to 6 different names from "
                f"{list(SNAP_CODES)}. Nothing was sent.", instrument=self.label)
        command = "SNAP? " + ",".join(str(SNAP_CODES[n]) for n in names)
        reply = self.query(command)
        parts = reply.split(",")
        try:
            values = [float(p) for p in parts]
        except ValueError as exc:
            raise self.reply_error(command, reply, "is not comma-separated numbers") from exc
        if len(values) != len(names):
            raise self.reply_error(command, reply, f"has {len(values)} values, "
                                                   f"expected {len(names)}")
        return dict(zip(names, values))

    # -- aux in/out -----------------------------------------------------------------------
    def aux_in_V(self, channel: int) -> float:
        """Rear-panel aux input 1-4 (V)."""
        command = f"OAUX? {self._aux_channel(channel)}"
        return self._float_query(command)

    def aux_out_V(self, channel: int) -> float:
        """Rear-panel aux output 1-4 as set (V)."""
        return self._float_query(f"AUXV? {self._aux_channel(channel)}")

    def set_aux_out_V(self, channel: int, value_V: float) -> None:
        """Set aux output 1-4 to `value_V` (-10.5 .. +10.5 V, 1 mV steps)."""
        aux = self._aux_channel(channel)
        value = validate(self, f"aux_out_V[{aux}]",
                         InRange(-AUX_OUT_MAX_V, AUX_OUT_MAX_V, resolution=1e-3), value_V, "V")
        self.send_setting(f"AUXV {aux},{value:.3f}")

    def _aux_channel(self, channel: int) -> int:
        if isinstance(channel, bool) or channel not in (1, 2, 3, 4):
            raise SettingOutOfRange(f"{self.label}: aux channel {channel!r} refused, allowed "
                                    f"1 .. 4. Nothing was sent.", instrument=self.label)
        return channel

    def _float_query(self, command: str) -> float:
        reply = self.query(command)
        try:
            return float(reply)
        except ValueError as exc:
            raise self.reply_error(command, reply, "is not a number") from exc

    # -- data storage buffer ------------------------------------------------------------------
    def reset_buffer(self) -> None:
        """Erase both buffer channels and stop storage (REST)."""
        self.send_setting("REST")

    def start_buffer(self) -> None:
        """Start (or resume) storing CH1 and CH2 at the sample rate (STRT)."""
        self.send_setting("STRT")

    def pause_buffer(self) -> None:
        """Pause storage (PAUS); read the buffer only while paused (its bins would move in loop mode)."""
        self.send_setting("PAUS")

    def trigger(self) -> None:
        """Software trigger (TRIG): one sample at rate 'trigger', or the start with trigger_starts."""
        self.send_setting("TRIG")

    def buffer_points(self) -> int:
        """Points stored in each channel (SPTS?)."""
        reply = self.query("SPTS?")
        try:
            return parse_int(reply)
        except ValueError as exc:
            raise self.reply_error("SPTS?", reply, "is not a point count") from exc

    def read_buffer(self, channel: int, first: int = 0, count: int | None = None) -> np.ndarray:
        """`count` points (default: all from `first`) of buffer channel 1 or 2, in the units of
        that channel's display, read as binary IEEE floats (TRCB?, 4 bytes per point)."""
        if isinstance(channel, bool) or channel not in (1, 2):
            raise SettingOutOfRange(f"{self.label}: buffer channel {channel!r} refused, allowed 1 or 2. "
                                    "Nothing was sent.", instrument=self.label)
        stored = self.buffer_points()
        count = stored - first if count is None else count
        if first < 0 or count < 0 or first + count > stored:
            raise SettingOutOfRange(f"{self.label}: buffer points {first} .. {first + count - 1} refused: "
                                    f"{stored} stored. Nothing was sent.", instrument=self.label)
        if count == 0:
            return np.empty(0)
        command = f"TRCB? {channel},{first},{count}"
        return np.frombuffer(self._query_block(command, 4 * count), dtype="<f4").astype(float)

    def _query_block(self, command: str, n_bytes: int) -> bytes:
        """Send `command` and read exactly `n_bytes` of binary reply (no terminator follows: GPIB
        ends it with EOI). The transfer is retried like any query."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                self._write_raw(command)
                resource: Any = self._resource
                data = bytes(resource.read_bytes(n_bytes))
                if len(data) != n_bytes:
                    raise self.reply_error(command, f"{len(data)} bytes", f"is not {n_bytes} bytes")
                return data
            except (VisaIOError, OSError) as exc:
                error = self._classify(command, exc, attempt)
                if error is None and attempt == self.max_attempts:
                    error = InstrumentTimeout(f"{self.label}: binary reply to {command!r} incomplete "
                                              f"after {attempt} tries: {exc}", instrument=self.label,
                                              command=command)
                if error is not None:
                    raise error from exc
                self._recover(command, exc, attempt)
        raise AssertionError("unreachable")

    # -- status and timing ----------------------------------------------------------------
    def status(self) -> LockinStatus:
        """Read (and clear) the LIA status byte: overloads, reference unlock, etc."""
        reply = self.query("LIAS?")
        try:
            return LockinStatus.from_byte(parse_int(reply))
        except ValueError as exc:
            raise self.reply_error("LIAS?", reply, "is not a status byte") from exc

    def settle_time_s(self, fraction: float = 0.99) -> float:
        """How long to wait after a change before the output has settled to `fraction` of it,
        from the present time constant and slope (10 tau at 24 dB/oct, 4.6 tau at 6 dB/oct)."""
        return settle_time_s_for(self.time_constant_s, self.filter_slope_dB_per_oct, fraction)

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        for channel in (1, 2, 3, 4):
            snap[f"aux_out_V[{channel}]"] = self.aux_out_V(channel)
        return snap
