"""SRS SR620 universal time-interval counter emulator, used as the rf frequency monitor.

What it models (docs/decisions/0022): frequency (and period, count) measurements of the frequency
returned by `input_freq_hz()`; each sample has the reciprocal-counter resolution
sigma = f * resolution_s / gate, the mean of SIZE samples is computed from real draws (so it averages
down as 1/sqrt(SIZE)), a reference-instability term does not average down; a measurement advances
the sim clock by gate x SIZE. The timebase is the external reference when `CLCK 1` and a reference
is present, else the internal oscillator with a fixed fractional offset. With `CLCK 1` and no
reference, ERRS? bit 1 (no clock) is set and the counter runs on its internal timebase (assumed).
No signal (`input_freq_hz()` is None): a measurement never completes, so `MEAS?` gets no reply
(the host times out) and `STRT` leaves the last results in place.
"""

from __future__ import annotations

from collections.abc import Callable

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

SIZES = tuple(int(m * 10**e) for e in range(0, 7) for m in (1, 2, 5) if m * 10**e <= 1_000_000)
#: Fixed gates of the arming modes (0.01/0.1/1 s, also externally triggered).
ARMING_GATES_S = {3: 0.01, 4: 0.1, 5: 1.0, 10: 0.01, 11: 0.1, 12: 1.0}
ARMING_ONE_PERIOD = (2, 9)
ERRS_NO_CLOCK = 1 << 1
STAT_MEASUREMENT_DONE = 1 << 0
MAX_SAMPLES = 1_000_000
STATISTICS = ("mean", "jitter", "max", "min")


def _fmt(value: float) -> str:
    return f"{value:.12E}"


class SR620Emulator(EmulatorBase):
    """Byte-level twin of an SR620 on GPIB (LF replies; CR or LF accepted at the input)."""

    read_termination = "\n"
    write_termination = "\n"
    input_terminators = b"\n\r"
    output_policy = "queue"

    def __init__(
        self,
        clock,
        input_freq_hz: Callable[[], float | None] = lambda: None,
        reference_present: Callable[[], bool] = lambda: True,
        rng: np.random.Generator | None = None,
        *,
        resolution_s: float = 10e-12,
        reference_instability: float = 2e-12,
        internal_timebase_offset: float = 5e-8,
        serial: str = "1234",
    ) -> None:
        """`input_freq_hz()`: frequency at the selected input, Hz (None: no signal).
        `reference_present()`: a 10 MHz (or CLKF) reference is at the rear input.
        `resolution_s`: effective single-sample time resolution (sigma_f/f = resolution_s / gate).
        `reference_instability`: fractional scatter of the timebase between measurements.
        `internal_timebase_offset`: fractional error of the internal oscillator."""
        super().__init__()
        self.clock = clock
        self.input_freq_hz = input_freq_hz
        self.reference_present = reference_present
        self.rng = rng if rng is not None else np.random.default_rng()
        self.resolution_s = resolution_s
        self.reference_instability = reference_instability
        self.internal_timebase_offset = internal_timebase_offset
        self.idn = f"StanfordResearchSystems,SR620,{serial},1.48"
        self.parser = self._build_parser()
        self.errs_latched = 0
        self.stat = 0
        self.results = dict.fromkeys(STATISTICS, 0.0)
        self.measurement_count = 0
        self._last_end_s: float | None = None
        self.reset()

    def reset(self) -> None:
        """*RST. Assumed defaults: time mode, source A, +time arming, 1 s gate, size 1, auto on."""
        self.mode = 0
        self.source = 0
        self.arming_mode = 1
        self.gate_s = 1.0
        self.size = 1
        self.jitter_type = 0
        self.auto_measure = 1
        self.clock_external = 0
        self.clock_freq_code = 0

    def reseed(self, rng: np.random.Generator) -> None:
        """Draw the timebase and resolution noise from `rng` from now on, and forget the last
        result (in auto-measure mode the next query measures afresh), so what follows does not
        depend on when the counter last measured (a batch job begins, decision 0104)."""
        with self.lock:
            self.rng = rng
            self._last_end_s = None

    # --- measurement ----------------------------------------------------------------------
    @property
    def no_clock(self) -> bool:
        """External timebase selected but no reference at the rear input."""
        return bool(self.clock_external) and not self.reference_present()

    @property
    def errs(self) -> int:
        return self.errs_latched | (ERRS_NO_CLOCK if self.no_clock else 0)

    def _gate_for(self, freq_hz: float) -> float:
        if self.arming_mode in ARMING_GATES_S:
            return ARMING_GATES_S[self.arming_mode]
        if self.arming_mode in ARMING_ONE_PERIOD:
            return 1.0 / freq_hz
        return abs(self.gate_s)

    def measurement_duration_s(self) -> float:
        """Lab time one measurement of SIZE samples takes at the present input."""
        freq = self.input_freq_hz()
        return self._gate_for(freq) * self.size if freq else 0.0

    def measure(self, advance_clock: bool = True) -> bool:
        """Take SIZE samples now; False when there is no signal to count."""
        freq = self.input_freq_hz()
        if freq is None or not freq > 0:
            return False
        gate = self._gate_for(freq)
        if advance_clock:
            self.clock.sleep(gate * self.size)
        if self.no_clock:
            self.errs_latched |= ERRS_NO_CLOCK
        external = self.clock_external and self.reference_present()
        offset = 0.0 if external else self.internal_timebase_offset
        offset += self.reference_instability * self.rng.standard_normal()
        measured = freq / (1.0 + offset)
        n = min(self.size, MAX_SAMPLES)
        samples = measured + measured * self.resolution_s / gate * self.rng.standard_normal(n)
        values = self._convert(samples, gate)
        self.results["mean"] = float(values.mean())
        self.results["max"] = float(values.max())
        self.results["min"] = float(values.min())
        self.results["jitter"] = self._jitter(values)
        self.measurement_count += 1
        self.stat |= STAT_MEASUREMENT_DONE
        self._last_end_s = self.clock.now_s()
        return True

    def _convert(self, freqs: np.ndarray, gate: float) -> np.ndarray:
        if self.mode == 3:
            return freqs
        if self.mode == 4:
            return 1.0 / freqs
        if self.mode == 6:
            return np.round(freqs * gate)
        return np.zeros_like(freqs)  # time-interval modes need start/stop signals: not modelled

    def _jitter(self, values: np.ndarray) -> float:
        if values.size < 2:
            return 0.0
        if self.jitter_type == 1:
            return float(np.sqrt(0.5 * np.mean(np.diff(values) ** 2)))
        return float(values.std(ddof=1))

    def _refresh_if_auto(self) -> None:
        """In auto-measure mode the unit measured in the background since the last result."""
        if not self.auto_measure:
            return
        if self._last_end_s is None or (
                self.clock.now_s() - self._last_end_s >= self.measurement_duration_s()):
            self.measure(advance_clock=False)

    # --- commands -------------------------------------------------------------------------
    def handle_text(self, text: str) -> str | None:
        replies = self.parser.execute_units(text)
        return ";".join(replies) if replies else None

    def _meas(self, params: list[str]) -> str | None:
        statistic = int_param(params, 0, 3)
        if not self.measure():
            return None
        return _fmt(self.results[STATISTICS[statistic]])

    def _result(self, statistic: str):
        def query(params: list[str]) -> str:
            self._refresh_if_auto()
            return _fmt(self.results[statistic])
        return query

    def _xall(self, params: list[str]) -> str:
        self._refresh_if_auto()
        return ",".join(_fmt(self.results[s]) for s in STATISTICS)

    def _set_gate(self, params: list[str]) -> None:
        gate = float_param(params, -500.0, 500.0)
        if abs(gate) < 1e-3:
            raise bad_param()
        self.gate_s = gate

    def _set_size(self, params: list[str]) -> None:
        size = float_param(params, 1.0, 1e6)
        # assumed: values between the 1-2-5 steps round to the nearest step (in log)
        self.size = min(SIZES, key=lambda s: abs(np.log(s) - np.log(size)))

    def _stup(self, params: list[str]) -> str:
        """Setup dump (assumed layout): mode, source, arming, gate exponent, size index, 0, 0,
        flags (bit 4 auto-measure, bit 5 jitter type, bit 6 external clock, bit 7 5 MHz clock)."""
        gate_exponent = int(round(np.log10(abs(self.gate_s))))
        flags = (self.auto_measure << 4) | (self.jitter_type << 5) | (
            self.clock_external << 6) | (self.clock_freq_code << 7)
        fields = [self.mode, self.source, self.arming_mode, gate_exponent, SIZES.index(self.size),
                  0, 0, flags]
        return ",".join(str(f) for f in fields)

    def _clear_status(self, params: list[str]) -> None:
        self.errs_latched = 0
        self.stat = 0
        self.parser.esr = 0

    def _status_byte(self, params: list[str]) -> str:
        stb = (1 if self.stat else 0) | (4 if self.errs else 0) | (32 if self.parser.esr else 0)
        if params:
            return str((stb >> int_param(params, 0, 7)) & 1)
        return str(stb)

    def _read_errs(self, params: list[str]) -> str:
        reply = str(self.errs) if not params else str((self.errs >> int_param(params, 0, 7)) & 1)
        self.errs_latched = 0
        return reply

    def _start(self, params: list[str]) -> None:
        self.measure()

    def _build_parser(self) -> SrsParser:
        p = SrsParser()
        setting(p, "MODE", self, "mode", 0, 6)
        setting(p, "SRCE", self, "source", 0, 3)
        setting(p, "ARMM", self, "arming_mode", 0, 12)
        setting(p, "JTTR", self, "jitter_type", 0, 1)
        setting(p, "AUTM", self, "auto_measure", 0, 1)
        setting(p, "CLCK", self, "clock_external", 0, 1)
        setting(p, "CLKF", self, "clock_freq_code", 0, 1)
        p.add("GATE", self._set_gate, lambda params: _fmt(self.gate_s))
        p.add("SIZE", self._set_size, lambda params: str(self.size))
        p.add("STRT", self._start)
        p.add("*TRG", self._start)
        p.add("STOP", lambda params: None)
        p.add("*WAI", lambda params: None)
        p.add("MEAS", None, self._meas)
        p.add("XAVG", None, self._result("mean"))
        p.add("XJIT", None, self._result("jitter"))
        p.add("XMAX", None, self._result("max"))
        p.add("XMIN", None, self._result("min"))
        p.add("XALL", None, self._xall)
        p.add("STUP", None, self._stup)
        p.add("ERRS", None, self._read_errs)
        p.add("STAT", None, lambda params: read_register(self, "stat", params))
        p.add("*ESR", None, p.read_esr)
        p.add("*STB", None, self._status_byte)
        p.add("*IDN", None, lambda params: self.idn)
        p.add("*RST", lambda params: self.reset())
        p.add("*CLS", self._clear_status)
        p.add("*OPC", lambda params: None, lambda params: "1")
        return p
