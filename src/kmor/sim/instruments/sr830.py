"""SRS SR830 lock-in amplifier emulator (two in the apparatus: polarimeter at 1f, reference-cell
photodiode at 2f for the laser lock).

What it models (docs/instruments/sr830.md#simulated-twin, decisions 0021 and 0120): the whole
command reference of the manual with its reply formats and status bits; the output filter as 1-4
cascaded identical RC sections (6/12/18/24 dB/oct) integrated exactly on the SIM clock over the
piecewise-constant input (the input is sampled whenever whatever changed it says so,
`input_changed()`, and at every read, and holds from then on); output noise as an
Ornstein-Uhlenbeck process per quadrature with rms = e_n * sqrt(ENBW) and the SR830 ENBW per slope
(1/4, 1/8, 3/32, 5/64 divided by the time constant); displays with ratio, offsets and expands;
the data storage buffer filled at the sample rate on the sim clock with what the displays show,
and the FAST binary stream; the rear CH1 output.
"""

from __future__ import annotations

import copy
import math
import struct
from collections.abc import Callable, Sequence

import numpy as np

from kmor.sim.clock import SAME_INSTANT_S
from kmor.sim.instruments.base import BinaryReply, EmulatorBase
from kmor.sim.instruments.sr830_buffer import (SRAT_TRIGGER, STRD_DELAY_S, DataBuffer, format_trca,
                                               trcb_bytes, trcl_bytes)
from kmor.sim.instruments.srs import (SrsParser, bad_param, enable_register, float_param,
                                      int_param, read_register, setting)

#: SENS i -> full-scale sensitivity, volts rms (0 = 2 nV ... 26 = 1 V, 1-2-5).
SENSITIVITIES_V = tuple([m * 10.0**e for e in range(-9, 0) for m in (1, 2, 5)][1:] + [1.0])
#: OFLT i -> time constant, seconds (0 = 10 us ... 19 = 30 ks, 1-3).
TIME_CONSTANTS_S = tuple(m * 10.0**e for e in range(-5, 5) for m in (1, 3))
#: Equivalent noise bandwidth times the time constant, per OFSL (6, 12, 18, 24 dB/oct).
ENBW_TIMES_TAU = (1 / 4, 1 / 8, 3 / 32, 5 / 64)
#: Dynamic reserve assumed per RMOD (0 high reserve, 1 normal, 2 low noise), dB (not verified).
RESERVE_DB = (60.0, 40.0, 20.0)
EXPANDS = (1, 10, 100)
MAX_INPUT_V = 1.0
MAX_REF_FREQ_HZ = 102e3
RANGE_SWITCH_HZ = 200.0
CH1_LIMIT_V = 11.0
AUTO_GAIN_MAX_TAU_S = 1.0
AUTO_GAIN_TARGET = 0.8
SETUPS = range(1, 10)
FAST_QUEUE_PAIRS = 63
FAST_FULL_SCALE = 30000

LIAS_INPUT_OVERLOAD = 1 << 0
LIAS_FILTER_OVERLOAD = 1 << 1
LIAS_OUTPUT_OVERLOAD = 1 << 2
LIAS_REFERENCE_UNLOCK = 1 << 3
LIAS_RANGE_CHANGE = 1 << 4
LIAS_TC_CHANGE = 1 << 5
LIAS_TRIGGER = 1 << 6
ERRS_GPIB_FAST_ABORTED = 1 << 5
STB_NO_SCAN, STB_NO_COMMAND, STB_ERR, STB_LIA, STB_ESB, STB_SRQ = 1, 2, 4, 8, 32, 64

def default_settings() -> dict[str, object]:
    """The *RST state (SR830 manual): internal 1 kHz reference, harmonic 1, 1 V, 100 ms,
    12 dB/oct, normal reserve, input A, displays X and Y, no ratio, offset or expand."""
    return {"harmonic": 1, "internal_reference": True, "ref_freq_hz": 1000.0, "phase_deg": 0.0,
            "sine_amplitude_V": 1.0, "sensitivity_index": 26, "time_constant_index": 8,
            "slope_index": 1, "reserve_mode": 1, "input_source": 0, "aux_out_V": [0.0] * 4,
            "options": {"ICPL": 0, "IGND": 0, "ILIN": 0, "SYNC": 0, "RSLP": 0, "LOCL": 0,
                        "OVRM": 0, "KCLK": 1, "ALRM": 1},
            "displays": {1: (0, 0), 2: (0, 0)},           # DDEF: (display j, ratio k)
            "front_outputs": {1: 0, 2: 0},                # FPOP: 0 display, 1 X (Y)
            "offsets": {1: (0.0, 0), 2: (0.0, 0), 3: (0.0, 0)}}  # OEXP: (percent, expand code)


#: Everything SSET saves and RSET restores (communications and status are not settings).
SETTING_ATTRS = tuple(default_settings())


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class SR830Emulator(EmulatorBase):
    """Byte-level twin of an SR830 on GPIB (LF replies; CR or LF accepted at the input)."""

    read_termination = "\n"
    write_termination = "\n"
    input_terminators = b"\n\r"
    output_policy = "queue"

    # The settings (default_settings(): set by reset(), saved by SSET and restored by RSET).
    harmonic: int
    internal_reference: bool
    ref_freq_hz: float
    phase_deg: float
    sine_amplitude_V: float
    sensitivity_index: int
    time_constant_index: int
    slope_index: int
    reserve_mode: int
    input_source: int
    aux_out_V: list[float]
    options: dict[str, int]
    displays: dict[int, tuple[int, int]]      # DDEF: (display j, ratio k)
    front_outputs: dict[int, int]             # FPOP: 0 display, 1 X (Y)
    offsets: dict[int, tuple[float, int]]     # OEXP: (percent, expand code)

    def __init__(
        self,
        clock,
        input_signal_V: Callable[[int], complex] = lambda harmonic: 0j,
        input_noise_V_per_rtHz: Callable[[], float] = lambda: 0.0,
        rng: np.random.Generator | None = None,
        *,
        aux_inputs_V: Sequence[Callable[[], float]] | None = None,
        external_reference_hz: Callable[[], float | None] | None = None,
        interface: str = "GPIB",
        serial: str = "s/n12345",
    ) -> None:
        """`input_signal_V(h)`: demodulated input at harmonic h (complex rms volts, before PHAS) at
        the clock's current time. `input_noise_V_per_rtHz()`: input noise density. `aux_inputs_V`:
        four callables for the rear aux inputs. `external_reference_hz()`: frequency at the
        reference input (None: no reference) used when FMOD 0; None means always locked at FREQ.
        `interface`: "GPIB" or "RS232", the port this twin is wired to (see OUTX)."""
        super().__init__()
        self.clock = clock
        self.input_signal_V = input_signal_V
        self.input_noise_V_per_rtHz = input_noise_V_per_rtHz
        self.rng = rng if rng is not None else np.random.default_rng()
        self.aux_inputs_V = list(aux_inputs_V) if aux_inputs_V else [lambda: 0.0] * 4
        self.external_reference_hz = external_reference_hz
        self.interface_code = 1 if interface.upper() == "GPIB" else 0
        self.idn = f"Stanford_Research_Systems,SR830,{serial},ver1.07"
        self.enables = {"*ESE": 0, "*SRE": 0, "ERRE": 0, "LIAE": 0}
        self.parser = self._build_parser()
        self.lias = 0
        self.errs = 0
        self.power_on_clear = 1
        self.output_interface = self.interface_code
        self.buffer = DataBuffer()
        self.fast_mode = 0
        self._stream = bytearray()
        self._setups: dict[int, dict[str, object]] = {}
        self._stages: list[complex] = [0j, 0j, 0j, 0j]
        self._held_input_V: complex | None = None
        self._held_density = 0.0
        self._input_stale = False
        self._noise = 0j
        self._noise_started = False
        self._t_last_s = clock.now_s()
        self.reset()

    # --- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """*RST: the default settings; the buffer erased, FAST off. OUTX and the status enable
        registers are kept (communications are not reset)."""
        for name, value in default_settings().items():
            setattr(self, name, value)
        self.buffer = DataBuffer()
        self.fast_mode = 0
        self._stream.clear()

    @property
    def registers(self) -> dict[str, int]:
        """The plain stored settings and status enables by mnemonic (for inspection)."""
        return {**self.options, **self.enables, "*PSC": self.power_on_clear}

    @property
    def sensitivity_V(self) -> float:
        return SENSITIVITIES_V[self.sensitivity_index]

    @property
    def time_constant_s(self) -> float:
        return TIME_CONSTANTS_S[self.time_constant_index]

    @property
    def enbw_hz(self) -> float:
        """Equivalent noise bandwidth of the output filter, Hz."""
        return ENBW_TIMES_TAU[self.slope_index] / self.time_constant_s

    # --- signal path ----------------------------------------------------------------------
    def input_changed(self) -> None:
        """Whatever feeds the input has just changed (a coil current, the laser, the rf): the
        filter runs to now on the input held so far, then holds the new input from now on."""
        with self.lock:
            self._advance()

    def input_will_change(self) -> None:
        """Whatever feeds the input is about to change: the filter runs to now on the input held
        so far, and the new input is sampled when next needed (it holds from now). Cheaper than
        `input_changed()`: no look at the input unless two changes come without a read between."""
        with self.lock:
            now = self.clock.now_s()
            if self._held_input_V is None or self._input_stale:
                self._held_input_V = self._sample_input()
            for t_s in self.buffer.due_times(now):
                self._integrate_to(t_s)
                self._take_sample()
            self._integrate_to(now)
            self._input_stale = True

    def reseed(self, rng: np.random.Generator) -> None:
        """Bring filter, noise and buffer to now (on the old stream) and sample the input now, then
        draw the output noise from `rng`, starting with a fresh draw from its stationary
        distribution: what the lock-in does from now on no longer depends on when it was last
        updated or on its old stream (a batch job begins, decision 0104)."""
        with self.lock:
            self._run_to_now()
            self.rng = rng
            self._noise = 0j
            self._noise_started = False

    def _reference_locked(self) -> bool:
        if self.internal_reference or self.external_reference_hz is None:
            return True
        freq = self.external_reference_hz()
        if freq is None or not freq > 0:
            return False
        self.ref_freq_hz = float(freq)
        return True

    def _sample_input(self) -> complex:
        """The demodulated input now (0 when the reference is lost); sets the overload bits. The
        input noise density is sampled with it and held alike."""
        self._held_density = max(0.0, float(self.input_noise_V_per_rtHz()))
        locked = self._reference_locked()
        if not locked:
            self.lias |= LIAS_REFERENCE_UNLOCK
            return 0j
        raw = complex(self.input_signal_V(self.harmonic))
        if self._input_overloaded(raw, self.reserve_mode):
            self.lias |= LIAS_INPUT_OVERLOAD
        return raw

    def _input_overloaded(self, raw: complex, reserve_mode: int) -> bool:
        limit = self.sensitivity_V * 10 ** (RESERVE_DB[reserve_mode] / 20)
        return abs(raw) > min(MAX_INPUT_V, limit)

    def _advance(self) -> complex:
        """Bring filter, noise and buffer up to the clock's now over the input held since the last
        update, then sample the input for the interval that starts now; X + iY (volts rms)."""
        self._run_to_now()
        value = self._stages[self.slope_index] + self._noise
        self._latch_overload(value)
        return value

    def _latch_overload(self, value: complex) -> None:
        """LIAS bit 2 when X or Y (offset and expand applied) is beyond full scale: checked at every
        reading and every stored buffer sample, as the instrument watches its outputs all the time."""
        x, y = self._offset(1, value.real), self._offset(2, value.imag)
        if max(abs(x) * self._expand(1), abs(y) * self._expand(2)) > self.sensitivity_V:
            self.lias |= LIAS_OUTPUT_OVERLOAD

    def _run_to_now(self) -> None:
        """Filter, noise and buffer up to the clock's now over the input held since the last
        update; then the input is sampled for the interval that starts now."""
        now = self.clock.now_s()
        if self._held_input_V is None or self._input_stale:
            self._held_input_V = self._sample_input()  # the input since the last change notice
            self._input_stale = False
        for t_s in self.buffer.due_times(now):
            self._integrate_to(t_s)
            self._take_sample()
        self._integrate_to(now)
        if not self._noise_started:
            self._step_noise(math.inf)
        self._held_input_V = self._sample_input()

    def _integrate_to(self, t_s: float) -> None:
        dt = t_s - self._t_last_s
        if dt <= SAME_INSTANT_S:
            return
        held = self._held_input_V or 0j
        target = held * complex(math.cos(math.radians(self.phase_deg)),
                                -math.sin(math.radians(self.phase_deg)))
        self._stages = self._filter_step(self._stages, target, dt / self.time_constant_s)
        self._step_noise(dt)
        self._t_last_s = t_s

    @staticmethod
    def _filter_step(stages: list[complex], target: complex, s: float) -> list[complex]:
        """Exact response of 4 cascaded identical RC sections to a constant input over s = dt/tau:
        with d_k = y_k - u, d_k(s) = e^-s sum_{j<=k} d_j(0) s^(k-j)/(k-j)! (written out: this runs
        at every read of either lock-in, i.e. every lock-servo step)."""
        d0, d1, d2, d3 = (y - target for y in stages)
        decay = math.exp(-s)
        s2 = 0.5 * s * s
        s3 = s2 * s / 3.0
        return [target + decay * d0, target + decay * (d1 + s * d0), target + decay * (d2 + s * d1 + s2 * d0),
                target + decay * (d3 + s * d2 + s2 * d1 + s3 * d0)]

    def _step_noise(self, dt: float) -> None:
        if self._held_input_V is None:
            self._held_input_V = self._sample_input()
        sigma = self._held_density * math.sqrt(self.enbw_hz)
        tau_c = 1.0 / (4.0 * self.enbw_hz)
        keep = math.exp(-dt / tau_c) if self._noise_started else 0.0
        fresh = sigma * math.sqrt(1.0 - keep * keep)
        draw = self.rng.standard_normal(2)
        self._noise = keep * self._noise + fresh * complex(draw[0], draw[1])
        self._noise_started = True

    def _output_now(self) -> complex:
        return self._stages[self.slope_index] + self._noise

    # --- offsets, expands, displays ---------------------------------------------------------
    def _offset(self, quantity: int, value: float) -> float:
        """X (1), Y (2) or R (3) less its offset (a percentage of full scale)."""
        return value - self.offsets[quantity][0] / 100.0 * self.sensitivity_V

    def _expand(self, quantity: int) -> int:
        return EXPANDS[self.offsets[quantity][1]]

    def _aux_in(self, index: int) -> float:
        return float(self.aux_inputs_V[index - 1]())

    def _display(self, channel: int, z: complex) -> float:
        """What CH1/CH2 shows (DDEF): X/R/noise/aux (CH1) or Y/theta/noise/aux (CH2), offsets
        applied, divided by the ratio input (volts) when a ratio is selected."""
        which, ratio = self.displays[channel]
        if which == 0:
            value = self._offset(channel, z.real if channel == 1 else z.imag)
        elif which == 1:
            value = self._offset(3, abs(z)) if channel == 1 else math.degrees(math.atan2(z.imag, z.real))
        elif which == 2:
            value = self._held_density
        else:
            value = self._aux_in(which - 2 if channel == 1 else which)
        if ratio:
            divisor = self._aux_in(ratio if channel == 1 else ratio + 2)
            value /= math.copysign(max(abs(divisor), 1e-3), divisor)
        return value

    def outputs(self) -> dict[str, float]:
        """X, Y, R (volts rms, offsets applied) and theta (degrees) at the clock's now."""
        with self.lock:
            z = self._advance()
            return {"X": self._snap_value(1, z), "Y": self._snap_value(2, z),
                    "R": self._snap_value(3, z), "theta": self._snap_value(4, z)}

    def channel1_output_V(self) -> float:
        """Rear-panel CH1 BNC: (value / sensitivity) x expand x 10 V, offsets included, of the CH1
        display or of X (FPOP), saturating at +-11 V (assumed); an aux display outputs its volts."""
        with self.lock:
            z = self._advance()
            which = 0 if self.front_outputs[1] == 1 else self.displays[1][0]
            if which >= 3:
                volts = self._display(1, z)
            else:
                value = self._offset(1, z.real) if which == 0 else self._display(1, z)
                volts = 10.0 * value / self.sensitivity_V * self._expand(1 if which == 0 else 3)
            return max(-CH1_LIMIT_V, min(CH1_LIMIT_V, volts))

    # --- data storage ---------------------------------------------------------------------
    def _take_sample(self) -> None:
        """Store what the displays show now; with FAST on, queue X and Y for the host."""
        z = self._output_now()
        self._latch_overload(z)
        if not self.buffer.store(self._display(1, z), self._display(2, z)):
            return
        if self.fast_mode and self.interface_code == 1:
            self._queue_fast(z)

    def _queue_fast(self, z: complex) -> None:
        """X and Y as 16-bit integers, +-30000 = full scale / expand, offsets included. The
        transmit queue holds 63 pairs: a host that falls behind aborts the transfer (ERRS bit 5)."""
        if len(self._stream) >= 4 * FAST_QUEUE_PAIRS:
            self.fast_mode = 0
            self._stream.clear()
            self.errs |= ERRS_GPIB_FAST_ABORTED
            return
        pair = []
        for quantity, value in ((1, z.real), (2, z.imag)):
            counts = self._offset(quantity, value) * self._expand(quantity) / self.sensitivity_V
            pair.append(max(-32768, min(32767, round(counts * FAST_FULL_SCALE))))
        self._stream += struct.pack("<hh", *pair)

    def take_stream(self) -> bytes:
        """FAST data produced up to now and not yet sent (the TCP server calls this as it polls:
        a connected host keeps up with the transfer)."""
        with self.lock:
            if self.fast_mode and self.buffer.storing:
                self._advance()
            data = bytes(self._stream)
            self._stream.clear()
            return data if self.output_interface == self.interface_code else b""

    def _trigger(self, params: list[str]) -> None:
        """TRIG: one sample when SRAT is 'trigger'; starts a scan waiting for it (TSTR 1)."""
        self._advance()
        buf = self.buffer
        if buf.trigger_starts and buf.state == "reset":
            buf.start(self.clock.now_s())
            self.lias |= LIAS_TRIGGER
        if buf.rate_hz is None and buf.storing:
            self._take_sample()
            self.lias |= LIAS_TRIGGER

    def _start(self, delay_s: float) -> Callable[[list[str]], None]:
        def on_set(params: list[str]) -> None:
            self._advance()
            self.buffer.start(self.clock.now_s(), delay_s)
        return on_set

    def _buffer_setting(self, apply: Callable[[int], None], high: int) -> Callable[[list[str]], None]:
        def on_set(params: list[str]) -> None:
            value = int_param(params, 0, high)
            self._advance()
            apply(value)
            self.buffer.restart_clock(self.clock.now_s())
        return on_set

    def _set_rate(self, value: int) -> None:
        self.buffer.rate_index = value

    def _set_loop(self, value: int) -> None:
        self.buffer.loop = value == 1

    def _set_trigger_starts(self, value: int) -> None:
        self.buffer.trigger_starts = value == 1

    def _pause(self, params: list[str]) -> None:
        self._advance()
        self.buffer.pause()

    def _erase(self, params: list[str]) -> None:
        self._advance()
        self.buffer.clear()
        self._stream.clear()

    def _reset_command(self, params: list[str]) -> None:
        self._advance()
        self.reset()

    def _trace(self, params: list[str]) -> list[float]:
        if len(params) != 3:
            raise bad_param()
        channel, first, count = (int_param(params, 1, 2), int_param(params, 0, 10**6, 1),
                                 int_param(params, 1, 10**6, 2))
        self._advance()
        values = self.buffer.points(channel, first, count)
        if values is None:
            raise bad_param()
        return values

    # --- commands -------------------------------------------------------------------------
    def handle(self, line: bytes) -> bytes | None:
        """Execute one message; ASCII replies each end with the terminator except the last (the
        transport adds it); a binary block (TRCB?/TRCL?) goes out as it is (BinaryReply)."""
        text = line.decode("ascii", errors="replace").strip("\r\n")
        replies = self.parser.execute_units(text)
        if not replies or self.output_interface != self.interface_code:
            return None  # OUTX selects the other interface: the answer goes there, not here
        out = bytearray()
        for i, reply in enumerate(replies):
            out += reply if isinstance(reply, bytes) else reply.encode("ascii", errors="replace")
            if i < len(replies) - 1 and not isinstance(reply, bytes):
                out += self.read_termination.encode("ascii")
        return BinaryReply(out) if isinstance(replies[-1], bytes) else bytes(out)

    def handle_text(self, text: str) -> str | None:
        reply = self.handle(text.encode("ascii", errors="replace"))
        return None if reply is None else reply.decode("latin-1")

    def _snap_value(self, index: int, z: complex) -> float:
        if index in (1, 2):
            return self._offset(index, z.real if index == 1 else z.imag)
        if index == 3:
            return self._offset(3, abs(z))
        if index == 4:
            return math.degrees(math.atan2(z.imag, z.real))
        if 5 <= index <= 8:
            return self._aux_in(index - 4)
        if index == 9:
            return self.ref_freq_hz
        return self._display(index - 9, z)  # 10, 11: CH1, CH2 displays

    def _outp(self, params: list[str]) -> str:
        index = int_param(params, 1, 4)
        return _fmt(self._snap_value(index, self._advance()))

    def _outr(self, params: list[str]) -> str:
        channel = int_param(params, 1, 2)
        return _fmt(self._display(channel, self._advance()))

    def _snap(self, params: list[str]) -> str:
        if not 2 <= len(params) <= 6:
            raise bad_param()
        indices = [int_param(params, 1, 11, i) for i in range(len(params))]
        z = self._advance()
        return ",".join(_fmt(self._snap_value(i, z)) for i in indices)

    def _detection_changed(self, old_hz: float) -> None:
        """LIAS bit 4: the detection frequency (f x harmonic) crossed the 200 Hz range boundary."""
        new_hz = self.ref_freq_hz * self.harmonic
        if (old_hz > RANGE_SWITCH_HZ) != (new_hz > RANGE_SWITCH_HZ):
            self.lias |= LIAS_RANGE_CHANGE

    def _set_freq(self, params: list[str]) -> None:
        freq = float_param(params, 0.001, MAX_REF_FREQ_HZ)
        if not self.internal_reference or freq * self.harmonic > MAX_REF_FREQ_HZ:
            raise bad_param()
        self._advance()
        old = self.ref_freq_hz * self.harmonic
        self.ref_freq_hz = freq
        self._detection_changed(old)

    def _set_harm(self, params: list[str]) -> None:
        harmonic = int_param(params, 1, 19999)
        if harmonic * self.ref_freq_hz > MAX_REF_FREQ_HZ:
            raise bad_param()
        self._advance()
        old = self.ref_freq_hz * self.harmonic
        self.harmonic = harmonic
        self._held_input_V = self._sample_input()
        self._detection_changed(old)

    def _set_phase(self, params: list[str]) -> None:
        phase = float_param(params, -360.0, 729.99)
        self._advance()
        self.phase_deg = round(((phase + 180.0) % 360.0) - 180.0, 2)

    def _set_slvl(self, params: list[str]) -> None:
        self.sine_amplitude_V = round(float_param(params, 0.004, 5.0) / 0.002) * 0.002

    def _set_fmod(self, params: list[str]) -> None:
        value = int_param(params, 0, 1)
        self._advance()
        self.internal_reference = value == 1

    def _auxv_set(self, params: list[str]) -> None:
        if len(params) != 2:
            raise bad_param()
        channel = int_param(params, 1, 4)
        self.aux_out_V[channel - 1] = round(float_param(params, -10.5, 10.5, 1), 3)

    def _auxv_query(self, params: list[str]) -> str:
        return _fmt(self.aux_out_V[int_param(params, 1, 4) - 1])

    def _oaux(self, params: list[str]) -> str:
        return _fmt(self._aux_in(int_param(params, 1, 4)))

    def _auto_phase(self, params: list[str]) -> None:
        z = self._advance()
        if abs(z) > 0:
            self.phase_deg = round(((self.phase_deg + math.degrees(math.atan2(z.imag, z.real)) + 180)
                                    % 360) - 180, 2)

    def _auto_gain(self, params: list[str]) -> None:
        """AGAN: the most sensitive range keeping R under 80 % of full scale (assumed target);
        does nothing with a time constant above 1 s (manual)."""
        z = self._advance()
        if self.time_constant_s > AUTO_GAIN_MAX_TAU_S:
            return
        r = abs(z)
        fits = [i for i, s in enumerate(SENSITIVITIES_V) if r <= AUTO_GAIN_TARGET * s]
        self.sensitivity_index = fits[0] if fits else len(SENSITIVITIES_V) - 1

    def _auto_reserve(self, params: list[str]) -> None:
        """ARSV: the least reserve (lowest noise) that does not overload the input."""
        self._advance()
        raw = self._held_input_V or 0j
        fits = [m for m in (2, 1, 0) if not self._input_overloaded(raw, m)]
        self.reserve_mode = fits[0] if fits else 0

    def _auto_offset(self, params: list[str]) -> None:
        """AOFF i: offset X (1), Y (2) or R (3) so that it reads zero (within +-105 %)."""
        quantity = int_param(params, 1, 3)
        z = self._advance()
        value = (z.real, z.imag, abs(z))[quantity - 1]
        percent = max(-105.0, min(105.0, round(100.0 * value / self.sensitivity_V, 2)))
        self.offsets[quantity] = (percent, self.offsets[quantity][1])

    def _oexp_set(self, params: list[str]) -> None:
        if len(params) != 3:
            raise bad_param()
        quantity = int_param(params, 1, 3)
        percent = round(float_param(params, -105.0, 105.0, 1), 2)
        expand = int_param(params, 0, 2, 2)
        self._advance()
        self.offsets[quantity] = (percent, expand)

    def _oexp_query(self, params: list[str]) -> str:
        percent, expand = self.offsets[int_param(params, 1, 3)]
        return f"{percent:.2f},{expand}"

    def _ddef_set(self, params: list[str]) -> None:
        if len(params) != 3:
            raise bad_param()
        channel = int_param(params, 1, 2)
        self._advance()
        self.displays[channel] = (int_param(params, 0, 4, 1), int_param(params, 0, 2, 2))

    def _ddef_query(self, params: list[str]) -> str:
        which, ratio = self.displays[int_param(params, 1, 2)]
        return f"{which},{ratio}"

    def _fpop_set(self, params: list[str]) -> None:
        if len(params) != 2:
            raise bad_param()
        self.front_outputs[int_param(params, 1, 2)] = int_param(params, 0, 1, 1)

    def _save_setup(self, params: list[str]) -> None:
        number = int_param(params, SETUPS[0], SETUPS[-1])
        self._setups[number] = {name: copy.deepcopy(getattr(self, name)) for name in SETTING_ATTRS}

    def _recall_setup(self, params: list[str]) -> None:
        """RSET i: the settings saved by SSET i (a setup never saved holds the *RST defaults)."""
        number = int_param(params, SETUPS[0], SETUPS[-1])
        self._advance()
        saved = self._setups.get(number) or default_settings()
        for name, value in saved.items():
            setattr(self, name, copy.deepcopy(value))

    def _clear_status(self, params: list[str]) -> None:
        self.lias = 0
        self.errs = 0
        self.parser.esr = 0

    def _status_byte(self, params: list[str]) -> str:
        """*STB? [i]: 0 no scan in progress, 1 no command executing, 2 an enabled ERRS bit,
        3 an enabled LIAS bit, 5 an enabled *ESR bit, 6 service request (enabled by *SRE)."""
        self._advance()
        stb = STB_NO_COMMAND | (0 if self.buffer.storing else STB_NO_SCAN)
        stb |= STB_ERR if self.errs & self.enables["ERRE"] else 0
        stb |= STB_LIA if self.lias & self.enables["LIAE"] else 0
        stb |= STB_ESB if self.parser.esr & self.enables["*ESE"] else 0
        stb |= STB_SRQ if stb & self.enables["*SRE"] & ~STB_SRQ else 0
        if params:
            return str((stb >> int_param(params, 0, 7)) & 1)
        return str(stb)

    def _changes_filter(self, attr: str, high: int):
        def on_set(params: list[str]) -> None:
            value = int_param(params, 0, high)
            self._advance()  # the old settings apply up to now
            setattr(self, attr, value)
        return on_set

    def _option(self, p: SrsParser, name: str, high: int) -> None:
        """A stored setting (input coupling, grounding, notch filters, sync filter, reference
        slope, local/remote, key click, alarms) with set and query forms."""
        def on_set(params: list[str]) -> None:
            self.options[name] = int_param(params, 0, high)
        p.add(name, on_set, lambda params: str(self.options[name]))

    def _set_fast(self, params: list[str]) -> None:
        value = int_param(params, 0, 2)
        self._advance()
        self.fast_mode = value
        if not value:
            self._stream.clear()

    def _set_psc(self, params: list[str]) -> None:
        self.power_on_clear = int_param(params, 0, 1)

    def _build_parser(self) -> SrsParser:
        p = SrsParser()
        # reference and phase
        p.add("PHAS", self._set_phase, lambda params: _fmt(self.phase_deg))
        p.add("FMOD", self._set_fmod, lambda params: "1" if self.internal_reference else "0")
        p.add("FREQ", self._set_freq, lambda params: _fmt(self.ref_freq_hz))
        p.add("HARM", self._set_harm, lambda params: str(self.harmonic))
        p.add("SLVL", self._set_slvl, lambda params: f"{self.sine_amplitude_V:.3f}")
        # input and filter, gain and time constant
        p.add("ISRC", self._changes_filter("input_source", 3), lambda params: str(self.input_source))
        p.add("SENS", self._changes_filter("sensitivity_index", 26),
              lambda params: str(self.sensitivity_index))
        p.add("RMOD", self._changes_filter("reserve_mode", 2), lambda params: str(self.reserve_mode))
        p.add("OFLT", self._changes_filter("time_constant_index", 19),
              lambda params: str(self.time_constant_index))
        p.add("OFSL", self._changes_filter("slope_index", 3), lambda params: str(self.slope_index))
        for name, high in (("ICPL", 1), ("IGND", 1), ("ILIN", 3), ("SYNC", 1), ("RSLP", 2),
                           ("LOCL", 2), ("OVRM", 1), ("KCLK", 1), ("ALRM", 1)):
            self._option(p, name, high)
        # display and output
        p.add("DDEF", self._ddef_set, self._ddef_query)
        p.add("FPOP", self._fpop_set, lambda params: str(self.front_outputs[int_param(params, 1, 2)]))
        p.add("OEXP", self._oexp_set, self._oexp_query)
        p.add("AOFF", self._auto_offset)
        # aux input and output
        p.add("OAUX", None, self._oaux)
        p.add("AUXV", self._auxv_set, self._auxv_query)
        # setup
        setting(p, "OUTX", self, "output_interface", 0, 1)
        p.add("SSET", self._save_setup)
        p.add("RSET", self._recall_setup)
        # auto functions
        p.add("AGAN", self._auto_gain)
        p.add("ARSV", self._auto_reserve)
        p.add("APHS", self._auto_phase)
        # data storage
        p.add("SRAT", self._buffer_setting(self._set_rate, SRAT_TRIGGER),
              lambda params: str(self.buffer.rate_index))
        p.add("SEND", self._buffer_setting(self._set_loop, 1), lambda params: str(int(self.buffer.loop)))
        p.add("TRIG", self._trigger)
        p.add("TSTR", self._buffer_setting(self._set_trigger_starts, 1),
              lambda params: str(int(self.buffer.trigger_starts)))
        p.add("STRT", self._start(0.0))
        p.add("STRD", self._start(STRD_DELAY_S))
        p.add("PAUS", self._pause)
        p.add("REST", self._erase)
        # data transfer
        p.add("OUTP", None, self._outp)
        p.add("OUTR", None, self._outr)
        p.add("SNAP", None, self._snap)
        p.add("SPTS", None, lambda params: (self._advance(), str(len(self.buffer.ch1)))[1])
        p.add("TRCA", None, lambda params: format_trca(self._trace(params)))
        p.add("TRCB", None, lambda params: trcb_bytes(self._trace(params)))
        p.add("TRCL", None, lambda params: trcl_bytes(self._trace(params)))
        p.add("FAST", self._set_fast, lambda params: str(self.fast_mode))
        # interface and status
        p.add("*IDN", None, lambda params: self.idn)
        p.add("*RST", self._reset_command)
        p.add("*CLS", self._clear_status)
        p.add("*OPC", lambda params: None, lambda params: "1")
        p.add("*WAI", lambda params: None)
        p.add("*ESR", None, p.read_esr)
        p.add("*STB", None, self._status_byte)
        p.add("*PSC", self._set_psc, lambda params: str(self.power_on_clear))
        p.add("LIAS", None, lambda params: self._read_lias(params))
        p.add("ERRS", None, lambda params: (self._advance(), read_register(self, "errs", params))[1])
        for name in ("*ESE", "*SRE", "ERRE", "LIAE"):
            enable_register(p, name, self.enables)
        return p

    def _read_lias(self, params: list[str]) -> str:
        self._advance()  # overloads are detected as the outputs evolve
        return read_register(self, "lias", params)
