"""SRS SR830 lock-in amplifier emulator (two in the apparatus: polarimeter at 1f, reference-cell
photodiode at 2f for the laser lock).

What it models: the command set and status bytes; the output filter as 1-4 cascaded identical RC
sections (6/12/18/24 dB/oct) advanced exactly on the SIM clock each time an output is read,
holding the input constant over the interval since the previous read; output noise as an
Ornstein-Uhlenbeck process per quadrature with rms = e_n * sqrt(ENBW) and the SR830 ENBW per slope
(1/4, 1/8, 3/32, 5/64 divided by the time constant); the output-overload and input-overload bits;
the rear CH1 output (X scaled to +-10 V at full scale). See docs/decisions/0021.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from kmor.sim.instruments.base import EmulatorBase
from kmor.sim.instruments.srs import (
    SrsParser,
    bad_param,
    float_param,
    int_param,
    read_register,
    setting,
)

#: SENS i -> full-scale sensitivity, volts rms (0 = 2 nV ... 26 = 1 V, 1-2-5).
SENSITIVITIES_V = tuple([m * 10.0**e for e in range(-9, 0) for m in (1, 2, 5)][1:] + [1.0])
#: OFLT i -> time constant, seconds (0 = 10 us ... 19 = 30 ks, 1-3).
TIME_CONSTANTS_S = tuple(m * 10.0**e for e in range(-5, 5) for m in (1, 3))
#: Equivalent noise bandwidth times the time constant, per OFSL (6, 12, 18, 24 dB/oct).
ENBW_TIMES_TAU = (1 / 4, 1 / 8, 3 / 32, 5 / 64)
#: Dynamic reserve assumed per RMOD (0 high reserve, 1 normal, 2 low noise), dB (not verified).
RESERVE_DB = (60.0, 40.0, 20.0)
MAX_INPUT_V = 1.0
MAX_REF_FREQ_HZ = 102e3
CH1_LIMIT_V = 11.0

LIAS_INPUT_OVERLOAD = 1 << 0
LIAS_FILTER_OVERLOAD = 1 << 1
LIAS_OUTPUT_OVERLOAD = 1 << 2
LIAS_REFERENCE_UNLOCK = 1 << 3


def _fmt(value: float) -> str:
    return f"{value:.6g}"


class SR830Emulator(EmulatorBase):
    """Byte-level twin of an SR830 on GPIB (LF replies; CR or LF accepted at the input)."""

    read_termination = "\n"
    write_termination = "\n"
    input_terminators = b"\n\r"
    output_policy = "queue"

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
        self.parser = self._build_parser()
        self.lias = 0
        self.errs = 0
        self._stages: list[complex] = [0j, 0j, 0j, 0j]
        self._noise = 0j
        self._noise_started = False
        self._t_last_s = clock.now_s()
        self.reset()

    # --- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """*RST defaults (SR830 manual): internal 1 kHz, harmonic 1, 1 V, 100 ms, 12 dB/oct."""
        self.harmonic = 1
        self.internal_reference = True
        self.ref_freq_hz = 1000.0
        self.phase_deg = 0.0
        self.sine_amplitude_V = 1.0
        self.sensitivity_index = 26
        self.time_constant_index = 8
        self.slope_index = 1
        self.reserve_mode = 1
        self.input_source = 0
        self.aux_out_V = [0.0, 0.0, 0.0, 0.0]
        self.output_interface = self.interface_code
        self.registers = {"ICPL": 0, "IGND": 0, "ILIN": 0, "SYNC": 0, "LOCL": 0, "OVRM": 0,
                          "*ESE": 0, "*SRE": 0, "ERRE": 0, "LIAE": 0, "*PSC": 1}

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
    def _reference_locked(self) -> bool:
        if self.internal_reference or self.external_reference_hz is None:
            return True
        freq = self.external_reference_hz()
        if freq is None or not freq > 0:
            return False
        self.ref_freq_hz = float(freq)
        return True

    def _advance(self) -> complex:
        """Bring the filter and noise up to the clock's now; return X + iY (volts rms)."""
        now = self.clock.now_s()
        dt = now - self._t_last_s
        locked = self._reference_locked()
        raw = complex(self.input_signal_V(self.harmonic)) if locked else 0j
        if not locked:
            self.lias |= LIAS_REFERENCE_UNLOCK
        reserve_limit = self.sensitivity_V * 10 ** (RESERVE_DB[self.reserve_mode] / 20)
        if abs(raw) > min(MAX_INPUT_V, reserve_limit):
            self.lias |= LIAS_INPUT_OVERLOAD
        target = raw * complex(math.cos(math.radians(self.phase_deg)),
                               -math.sin(math.radians(self.phase_deg)))
        if dt > 0:
            self._stages = self._filter_step(self._stages, target, dt / self.time_constant_s)
            self._step_noise(dt)
            self._t_last_s = now
        elif not self._noise_started:
            self._step_noise(math.inf)
        value = self._stages[self.slope_index] + self._noise
        if max(abs(value.real), abs(value.imag)) > self.sensitivity_V:
            self.lias |= LIAS_OUTPUT_OVERLOAD
        return value

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
        density = max(0.0, float(self.input_noise_V_per_rtHz()))
        sigma = density * math.sqrt(self.enbw_hz)
        tau_c = 1.0 / (4.0 * self.enbw_hz)
        keep = math.exp(-dt / tau_c) if self._noise_started else 0.0
        fresh = sigma * math.sqrt(1.0 - keep * keep)
        draw = self.rng.standard_normal(2)
        self._noise = keep * self._noise + fresh * complex(draw[0], draw[1])
        self._noise_started = True

    def outputs(self) -> dict[str, float]:
        """X, Y, R (volts rms) and theta (degrees) at the clock's now, as the front panel shows."""
        with self.lock:
            z = self._advance()
        return {"X": z.real, "Y": z.imag, "R": abs(z), "theta": math.degrees(math.atan2(z.imag, z.real))}

    def channel1_output_V(self) -> float:
        """Rear-panel CH1 BNC voltage: X / sensitivity * 10 V, saturating at +-11 V."""
        with self.lock:
            x = self._advance().real
            return max(-CH1_LIMIT_V, min(CH1_LIMIT_V, 10.0 * x / self.sensitivity_V))

    # --- commands -------------------------------------------------------------------------
    def handle_text(self, text: str) -> str | None:
        replies = self.parser.execute_units(text)
        if not replies or self.output_interface != self.interface_code:
            return None  # OUTX selects the other interface: the answer goes there, not here
        return self.read_termination.join(replies)

    def _snap_value(self, index: int, z: complex) -> float:
        if index == 1:
            return z.real
        if index == 2:
            return z.imag
        if index == 3:
            return abs(z)
        if index == 4:
            return math.degrees(math.atan2(z.imag, z.real))
        if 5 <= index <= 8:
            return float(self.aux_inputs_V[index - 5]())
        if index == 9:
            return self.ref_freq_hz
        if index == 10:
            return z.real  # CH1 display, showing X (the default display; DDEF is not modelled)
        return z.imag  # CH2 display, showing Y

    def _outp(self, params: list[str]) -> str:
        index = int_param(params, 1, 4)
        return _fmt(self._snap_value(index, self._advance()))

    def _snap(self, params: list[str]) -> str:
        if not 2 <= len(params) <= 6:
            raise bad_param()
        indices = [int_param(params, 1, 11, i) for i in range(len(params))]
        z = self._advance()
        return ",".join(_fmt(self._snap_value(i, z)) for i in indices)

    def _set_freq(self, params: list[str]) -> None:
        freq = float_param(params, 0.001, MAX_REF_FREQ_HZ)
        if not self.internal_reference or freq * self.harmonic > MAX_REF_FREQ_HZ:
            raise bad_param()
        self.ref_freq_hz = freq

    def _set_harm(self, params: list[str]) -> None:
        harmonic = int_param(params, 1, 19999)
        if harmonic * self.ref_freq_hz > MAX_REF_FREQ_HZ:
            raise bad_param()
        self._advance()
        self.harmonic = harmonic

    def _set_phase(self, params: list[str]) -> None:
        phase = float_param(params, -360.0, 729.99)
        self._advance()
        self.phase_deg = round(((phase + 180.0) % 360.0) - 180.0, 2)

    def _set_slvl(self, params: list[str]) -> None:
        self.sine_amplitude_V = round(float_param(params, 0.004, 5.0) / 0.002) * 0.002

    def _set_fmod(self, params: list[str]) -> None:
        self.internal_reference = int_param(params, 0, 1) == 1

    def _auxv_set(self, params: list[str]) -> None:
        channel = int_param(params, 1, 4)
        self.aux_out_V[channel - 1] = round(float_param(params, -10.5, 10.5, 1), 3)

    def _auxv_query(self, params: list[str]) -> str:
        return _fmt(self.aux_out_V[int_param(params, 1, 4) - 1])

    def _oaux(self, params: list[str]) -> str:
        return _fmt(float(self.aux_inputs_V[int_param(params, 1, 4) - 1]()))

    def _auto_phase(self, params: list[str]) -> None:
        z = self._advance()
        if abs(z) > 0:
            self.phase_deg = round(((self.phase_deg + math.degrees(math.atan2(z.imag, z.real)) + 180)
                                    % 360) - 180, 2)

    def _clear_status(self, params: list[str]) -> None:
        self.lias = 0
        self.errs = 0
        self.parser.esr = 0

    def _status_byte(self, params: list[str]) -> str:
        stb = (4 if self.errs else 0) | (8 if self.lias else 0) | (32 if self.parser.esr else 0)
        if params:
            return str((stb >> int_param(params, 0, 7)) & 1)
        return str(stb)

    def _changes_filter(self, attr: str, high: int):
        def on_set(params: list[str]) -> None:
            value = int_param(params, 0, high)
            self._advance()  # the old settings apply up to now
            setattr(self, attr, value)
        return on_set

    def _build_parser(self) -> SrsParser:
        p = SrsParser()
        p.add("HARM", self._set_harm, lambda params: str(self.harmonic))
        p.add("FMOD", self._set_fmod, lambda params: "1" if self.internal_reference else "0")
        p.add("FREQ", self._set_freq, lambda params: _fmt(self.ref_freq_hz))
        p.add("PHAS", self._set_phase, lambda params: _fmt(self.phase_deg))
        p.add("SLVL", self._set_slvl, lambda params: f"{self.sine_amplitude_V:.3f}")
        p.add("SENS", self._changes_filter("sensitivity_index", 26),
              lambda params: str(self.sensitivity_index))
        p.add("OFLT", self._changes_filter("time_constant_index", 19),
              lambda params: str(self.time_constant_index))
        p.add("OFSL", self._changes_filter("slope_index", 3), lambda params: str(self.slope_index))
        setting(p, "RMOD", self, "reserve_mode", 0, 2)
        setting(p, "ISRC", self, "input_source", 0, 3)
        setting(p, "OUTX", self, "output_interface", 0, 1)
        for name in ("ICPL", "IGND", "SYNC", "LOCL", "OVRM", "*PSC"):
            self._register_setting(p, name, 1 if name != "LOCL" else 2)
        self._register_setting(p, "ILIN", 3)
        for name in ("*ESE", "*SRE", "ERRE", "LIAE"):
            self._register_setting(p, name, 255)
        p.add("OUTP", None, self._outp)
        p.add("SNAP", None, self._snap)
        p.add("AUXV", self._auxv_set, self._auxv_query)
        p.add("OAUX", None, self._oaux)
        p.add("APHS", self._auto_phase)
        p.add("LIAS", None, lambda params: self._read_lias(params))
        p.add("ERRS", None, lambda params: read_register(self, "errs", params))
        p.add("*ESR", None, p.read_esr)
        p.add("*STB", None, self._status_byte)
        p.add("*IDN", None, lambda params: self.idn)
        p.add("*RST", lambda params: self.reset())
        p.add("*CLS", self._clear_status)
        p.add("*OPC", lambda params: None, lambda params: "1")
        p.add("*WAI", lambda params: None)
        return p

    def _read_lias(self, params: list[str]) -> str:
        self._advance()  # overloads are detected as the outputs evolve
        return read_register(self, "lias", params)

    def _register_setting(self, p: SrsParser, name: str, high: int) -> None:
        def on_set(params: list[str]) -> None:
            self.registers[name] = int_param(params, 0, high)
        p.add(name, on_set, lambda params: str(self.registers[name]))
