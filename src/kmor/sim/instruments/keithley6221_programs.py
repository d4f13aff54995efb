"""What the Keithley 6221 sources besides a dc level: the AC waveform (`SOURce:WAVE`, 6221 only)
and the staircase / logarithmic / list sweeps (`SOURce:SWEep`), as settings plus a current that is
a function of the time since the program started on the sim clock.

Written from the Model 6220/6221 Reference Manual (sections 4 and 5, sweeps and waveforms);
what the manual text available to us did not settle is marked "assumed" here and in
docs/instruments/keithley6221.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kmor.sim.instruments.scpi import (
    MISSING_PARAM,
    SETTINGS_CONFLICT,
    fail,
    parse_bounded,
    parse_choice,
)

MAX_CURRENT_A = 0.105
CURRENT_UNITS_A = {"": 1.0, "A": 1.0, "MA": 1e-3, "UA": 1e-6, "NA": 1e-9}
SECONDS = {"": 1.0, "S": 1.0, "MS": 1e-3, "US": 1e-6}
HERTZ = {"": 1.0, "HZ": 1.0, "KHZ": 1e3}
PLAIN = {"": 1.0}

WAVE_FUNCTIONS = {"SIN": "SIN", "SINE": "SIN", "SQU": "SQU", "SQUARE": "SQU", "RAMP": "RAMP",
                  **{f"ARB{n}": f"ARB{n}" for n in range(5)}}
#: Points of one arbitrary waveform (assumed the manual's 65,536-point memory per waveform).
MAX_ARB_POINTS = 65536


@dataclass
class Waveform:
    """SOUR:WAVE settings; the defaults are the assumed *RST values."""

    function: str = "SIN"
    freq_hz: float = 1e3
    amplitude_A: float = 2e-12
    offset_A: float = 0.0
    duty_pct: float = 50.0
    duration_s: float = math.inf
    ranging: str = "BEST"
    marker_on: bool = False
    marker_deg: float = 0.0
    marker_line: int = 3
    arb_points: list[float] = field(default_factory=list)
    arbs: dict[str, list[float]] = field(default_factory=lambda: {f"ARB{n}": [0.0] for n in range(5)})

    def shape(self, phase: float) -> float:
        """The unit waveform (-1..1) at a phase in cycles [0, 1)."""
        duty = self.duty_pct / 100.0
        if self.function == "SIN":
            return math.sin(2.0 * math.pi * phase)
        if self.function == "SQU":
            return 1.0 if phase < duty else -1.0
        if self.function == "RAMP":  # rises for `duty` of the cycle, falls for the rest (assumed)
            if phase < duty:
                return -1.0 + 2.0 * phase / duty
            return 1.0 - 2.0 * (phase - duty) / (1.0 - duty)
        points = self.arbs[self.function]
        return points[min(int(phase * len(points)), len(points) - 1)]

    def current_A(self, elapsed_s: float) -> float | None:
        """Output current `elapsed_s` after SOUR:WAVE:INIT, or None once the duration is over."""
        if elapsed_s >= self.duration_s:
            return None
        phase = (elapsed_s * self.freq_hz) % 1.0
        return self.offset_A + self.amplitude_A * self.shape(phase)


@dataclass
class Sweep:
    """SOUR:SWE settings and the points they make."""

    spacing: str = "LIN"
    start_A: float = 0.0
    stop_A: float = 0.0
    step_A: float = 0.0
    points: int = 11
    count: float = 1.0
    ranging: str = "BEST"
    compliance_abort: bool = False
    values_A: list[float] = field(default_factory=lambda: [0.0])

    def levels_A(self) -> list[float]:
        """The current levels of one sweep; -221 when the settings make no sweep."""
        if self.spacing == "LIST":
            return list(self.values_A)
        if self.spacing == "LOG":
            if self.start_A * self.stop_A <= 0:
                raise fail(SETTINGS_CONFLICT)
            ratio = (self.stop_A / self.start_A) ** (1.0 / max(self.points - 1, 1))
            return [self.start_A * ratio**i for i in range(self.points)]
        if self.step_A == 0:
            return [self.start_A] if self.start_A == self.stop_A else _conflict()
        n = math.floor(abs(self.stop_A - self.start_A) / abs(self.step_A) + 1e-9)
        direction = 1.0 if self.stop_A >= self.start_A else -1.0
        return [self.start_A + direction * abs(self.step_A) * i for i in range(n + 1)]

    def current_A(self, elapsed_s: float, delay_s: float, levels: list[float]) -> float | None:
        """Output current `elapsed_s` after the sweep started, each of `levels` (taken when it was
        armed) lasting `delay_s`; None once every repetition (`count`) is done."""
        index = int(elapsed_s / delay_s)
        if index >= len(levels) * self.count:
            return None
        return levels[index % len(levels)]


def _conflict() -> list[float]:
    raise fail(SETTINGS_CONFLICT)


def parse_current(params: list[str], low: float = -MAX_CURRENT_A) -> float:
    return parse_bounded(params, CURRENT_UNITS_A, minimum=low, maximum=MAX_CURRENT_A, default=0.0)


def parse_current_list(params: list[str], low: float = -MAX_CURRENT_A,
                       high: float = MAX_CURRENT_A) -> list[float]:
    """A comma-separated list of values (amperes or unit-free), each checked against the range."""
    if not params or not all(params):
        raise fail(MISSING_PARAM)
    values = [parse_bounded([p], CURRENT_UNITS_A, minimum=low, maximum=high) for p in params]
    if len(values) > MAX_ARB_POINTS:
        raise fail((-223, "Too much data"))
    return values


def parse_wave_function(params: list[str]) -> str:
    return parse_choice(params, WAVE_FUNCTIONS)
