"""The SR830's data storage buffer: two channels of display values stored at the sample rate (or on
triggers), read back as ASCII (TRCA?), IEEE binary (TRCB?) or the lock-in's own format (TRCL?).

From the SR830 manual's data storage and data transfer commands:
- SRAT i: 0 = 62.5 mHz ... 13 = 512 Hz (doubling), 14 = one sample per trigger (TRIG or rear input).
- SEND i: 0 one shot (storage stops when the buffer is full), 1 loop (the oldest points are overwritten).
- STRT starts or resumes storage (ignored while storing), PAUS pauses (ignored unless storing),
  REST erases the buffer and stops, STRD starts after a 0.5 s delay; TSTR 1: a trigger starts it.
- 16383 points per channel; points are numbered 0 (oldest) to SPTS?-1 (newest).
- The lock-in keeps its data as m x 2^(e-124) (m a signed 16-bit mantissa, 0 <= e <= 248), which is
  exactly what TRCL? sends (4 bytes per point, LSB first); TRCA?/TRCB? convert from it, so every
  stored value is rounded to that format here too.

The buffer is driven by the emulator, which knows the displays: `due_times(now)` lists the sample
instants that have come, the emulator evaluates the displays at each and `store()`s them.
"""

from __future__ import annotations

import math
import struct

from kmor.sim.clock import SAME_INSTANT_S

BUFFER_POINTS = 16383
#: SRAT i -> samples per second (i = 14 is "trigger").
SAMPLE_RATES_HZ = tuple(0.0625 * 2.0**i for i in range(14))
SRAT_TRIGGER = 14
STRD_DELAY_S = 0.5
_EXP_BIAS = 124


def to_lockin_format(value: float) -> tuple[int, int]:
    """(mantissa, exponent) with value ~ m x 2^(e-124), m in -32768..32767, e in 0..248, keeping
    as many mantissa bits as fit (values beyond the format saturate)."""
    if value == 0.0 or not math.isfinite(value):
        return (0, 0) if value == 0.0 or math.isnan(value) else ((32767 if value > 0 else -32768), 248)
    e = math.frexp(value)[1] - 15 + _EXP_BIAS  # |m| in [2^14, 2^15)
    e = min(248, max(0, e))
    m = round(value / 2.0 ** (e - _EXP_BIAS))
    if m > 32767 or m < -32768:
        if e < 248:
            e += 1
            m = round(value / 2.0 ** (e - _EXP_BIAS))
        m = max(-32768, min(32767, m))
    return m, e


def from_lockin_format(mantissa: int, exponent: int) -> float:
    return mantissa * 2.0 ** (exponent - _EXP_BIAS)


def quantize(value: float) -> float:
    """A value as the buffer keeps it (rounded to the lock-in's storage format)."""
    return from_lockin_format(*to_lockin_format(value))


def format_trca(values: list[float]) -> str:
    """ASCII like the manual's example "-1.234567e-009,+7.654321e-009,": sign, 7 digits, a
    3-digit exponent, each value followed by a comma."""
    out = []
    for v in values:
        mantissa, exp = f"{v:+.6e}".split("e")
        out.append(f"{mantissa}e{int(exp):+04d},")
    return "".join(out)


class DataBuffer:
    """State of the storage: settings, the two channels and when the next sample is due."""

    def __init__(self) -> None:
        self.rate_index = 4  # 1 Hz
        self.loop = True
        self.trigger_starts = False
        self.clear()

    def clear(self) -> None:
        """REST (and *RST): erase both channels and stop."""
        self.ch1: list[float] = []
        self.ch2: list[float] = []
        self.state = "reset"  # reset | running | paused | done
        self._start_s = 0.0
        self._taken = 0

    @property
    def rate_hz(self) -> float | None:
        """Samples per second, or None when sampling on triggers (SRAT 14)."""
        return None if self.rate_index == SRAT_TRIGGER else SAMPLE_RATES_HZ[self.rate_index]

    @property
    def storing(self) -> bool:
        return self.state == "running"

    def start(self, now_s: float, delay_s: float = 0.0) -> None:
        """STRT (delay 0) or STRD (0.5 s): start or resume; ignored while storing or when a
        one-shot buffer is full."""
        if self.state in ("running", "done"):
            return
        self.state = "running"
        self._start_s = now_s + delay_s
        self._taken = 0

    def pause(self) -> None:
        if self.state == "running":
            self.state = "paused"

    def restart_clock(self, now_s: float) -> None:
        """The sample rate changed: the next samples count from now at the new rate."""
        self._start_s = now_s
        self._taken = 0

    def due_times(self, now_s: float) -> list[float]:
        """Sample instants in (last sample, now], at most a buffer's worth (older ones would be
        overwritten or refused anyway); marks them as taken."""
        rate = self.rate_hz
        if not self.storing or rate is None or now_s < self._start_s:
            return []
        last = math.floor((now_s - self._start_s + SAME_INSTANT_S) * rate)
        first = self._taken
        if last < first:
            return []
        self._taken = last + 1
        if self.loop:
            first = max(first, last + 1 - BUFFER_POINTS)
        else:
            last = min(last, first + BUFFER_POINTS - len(self.ch1))
        return [self._start_s + k / rate for k in range(first, last + 1)]

    def store(self, ch1: float, ch2: float) -> bool:
        """Keep one sample; False when a one-shot buffer is full (storage then stops)."""
        if len(self.ch1) >= BUFFER_POINTS:
            if not self.loop:
                self.state = "done"
                return False
            del self.ch1[0], self.ch2[0]
        self.ch1.append(quantize(ch1))
        self.ch2.append(quantize(ch2))
        if len(self.ch1) >= BUFFER_POINTS and not self.loop:
            self.state = "done"
        return True

    def points(self, channel: int, first: int, count: int) -> list[float] | None:
        """`count` points of channel 1 or 2 from bin `first`; None if beyond what is stored."""
        data = self.ch1 if channel == 1 else self.ch2
        if first < 0 or count < 1 or first + count > len(data):
            return None
        return data[first:first + count]


def trcb_bytes(values: list[float]) -> bytes:
    """IEEE single precision, LSB first (PC order), 4 bytes per point, no separators."""
    return struct.pack(f"<{len(values)}f", *values)


def trcl_bytes(values: list[float]) -> bytes:
    """The lock-in format: per point the 16-bit mantissa then the 16-bit exponent, LSB first."""
    return b"".join(struct.pack("<hh", *to_lockin_format(v)) for v in values)
