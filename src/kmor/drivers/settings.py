"""Declarative instrument settings: one line per setting, so a driver reads like the command table
of its manual.

    freq_hz = Setting(get="FREQ:CW?", set="FREQ:CW {:.0f}", units="Hz",
                      check=InRange(250e3, 1e9, resolution=1.0), doc="CW frequency")

A `Setting` is a descriptor on a `VisaInstrument` subclass. Reading the attribute queries the
instrument and parses the reply; assigning validates the value (against limits that may depend on
the instrument object, e.g. a lab safety limit given to the constructor), maps it to the
instrument's token, sends the command, then lets the instrument check its error status. A value
that fails validation raises `SettingOutOfRange` and nothing at all is sent.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kmor.drivers.errors import SettingOutOfRange

if TYPE_CHECKING:
    from kmor.drivers.visa_instrument import VisaInstrument

Bound = float | Callable[[Any], float]


def _resolve(bound: Bound, instrument: Any) -> float:
    return float(bound(instrument)) if callable(bound) else float(bound)


def _real_number(value: Any) -> float:
    """`value` as a finite float; bools and non-numbers are refused (ValueError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _fmt(x: float) -> str:
    return f"{x:g}"


class Validator:
    """Turns a requested value into the value to send, or raises ValueError."""

    def check(self, value: Any, instrument: Any) -> Any:
        raise NotImplementedError

    def describe(self, instrument: Any, units: str = "") -> str:
        """The allowed values, for error messages."""
        raise NotImplementedError


class InRange(Validator):
    """A real number in [lo, hi] (bounds may be callables of the instrument), optionally rounded to
    `resolution` (the instrument's step, e.g. 1 Hz) before the range check."""

    def __init__(self, lo: Bound, hi: Bound, *, resolution: float | None = None) -> None:
        self.lo, self.hi, self.resolution = lo, hi, resolution

    def check(self, value: Any, instrument: Any) -> float:
        number = _real_number(value)
        if self.resolution:
            number = round(number / self.resolution) * self.resolution
        lo, hi = _resolve(self.lo, instrument), _resolve(self.hi, instrument)
        if not lo <= number <= hi:
            raise ValueError("out of range")
        return number

    def describe(self, instrument: Any, units: str = "") -> str:
        lo, hi = _resolve(self.lo, instrument), _resolve(self.hi, instrument)
        return f"{_fmt(lo)} .. {_fmt(hi)} {units}".rstrip()


class IntInRange(Validator):
    """An integer in [lo, hi]; a float with an integral value (3.0) is accepted as that integer."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi

    def check(self, value: Any, instrument: Any) -> int:
        number = _real_number(value)
        if number != int(number) or not self.lo <= number <= self.hi:
            raise ValueError("not an allowed integer")
        return int(number)

    def describe(self, instrument: Any, units: str = "") -> str:
        return f"integers {self.lo} .. {self.hi} {units}".rstrip()


class OneOf(Validator):
    """One of a fixed set of values (strings, booleans or numbers, compared with ==)."""

    def __init__(self, options: Sequence[Any]) -> None:
        self.options = tuple(options)

    def check(self, value: Any, instrument: Any) -> Any:
        for option in self.options:
            if type(option) is bool or type(value) is bool:
                if value is option:
                    return option
            elif value == option:
                return option
        raise ValueError("not one of the allowed values")

    def describe(self, instrument: Any, units: str = "") -> str:
        listed = ", ".join(repr(o) for o in self.options)
        return f"one of {listed}" + (f" ({units})" if units else "")


class NearestInTable(Validator):
    """The table entry nearest to the value on a log scale (the tables are 1-2-5 or 1-3 sequences),
    ties going to the larger entry; values outside [first, last] (with a relative slack of
    `rel_tol` for float noise) are refused rather than clipped."""

    def __init__(self, table: Sequence[float], *, rel_tol: float = 1e-6) -> None:
        self.table = np.asarray(sorted(table), dtype=float)
        if self.table[0] <= 0:
            raise ValueError("NearestInTable needs positive entries")
        self.rel_tol = rel_tol

    def check(self, value: Any, instrument: Any) -> float:
        number = _real_number(value)
        lo, hi = self.table[0], self.table[-1]
        if not lo * (1 - self.rel_tol) <= number <= hi * (1 + self.rel_tol):
            raise ValueError("outside the table")
        distance = np.abs(np.log(self.table) - math.log(number))
        best = np.flatnonzero(distance <= distance.min() * (1 + 1e-9) + 1e-12)
        return float(self.table[best[-1]])

    def describe(self, instrument: Any, units: str = "") -> str:
        return (f"{_fmt(self.table[0])} .. {_fmt(self.table[-1])} {units} "
                f"(snapped to the nearest of {len(self.table)} table values)").replace("  ", " ")


class Setting:
    """One instrument setting (or read-only quantity) as a descriptor.

    get:      query string, e.g. "FREQ:CW?" (None: write-only)
    set:      command format with one `{}` field for the instrument token, e.g. "FREQ:CW {:.0f}"
              (None: read-only)
    check:    a `Validator` for assigned values (default: OneOf the `values` keys, if given)
    values:   value map user value -> instrument token, e.g. {True: "ON", False: "OFF"}; replies
              are mapped back (numerically when the tokens are numbers)
    parse:    reply text -> value (before the reverse value map), default float
    reverse_map: map replies back through `values` (False when `parse` already returns the user
              value, e.g. an instrument that takes ON/OFF but answers 1/0)
    snapshot: include in `snapshot()` (measurements such as a lock-in's X are not settings)
    """

    def __init__(self, *, get: str | None = None, set: str | None = None, units: str = "",
                 doc: str = "", check: Validator | None = None,
                 values: Mapping[Any, Any] | None = None, parse: Callable[[str], Any] = float,
                 reverse_map: bool = True, snapshot: bool = True) -> None:
        if get is None and set is None:
            raise ValueError("a Setting needs a get query or a set command")
        self.get_cmd, self.set_cmd = get, set
        self.units, self.doc = units, doc
        self.values = dict(values) if values is not None else None
        if check is None and self.values is not None:
            check = OneOf(list(self.values))
        self.check = check
        self.parse = parse
        self.reverse_map = reverse_map
        self.snapshot = snapshot and get is not None
        self.name = "?"
        self.__doc__ = f"{doc} [{units}]" if units else doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    # -- reading ---------------------------------------------------------------------------
    def __get__(self, instrument: VisaInstrument | None, owner: type | None = None) -> Any:
        if instrument is None:
            return self
        if self.get_cmd is None:
            raise AttributeError(f"{self.name} is write-only on the {instrument.model}")
        return self.read(instrument)

    def read(self, instrument: VisaInstrument) -> Any:
        """Query the instrument and return the parsed, mapped value."""
        command = self.get_cmd
        if command is None:
            raise AttributeError(f"{self.name} is write-only on the {instrument.model}")
        return self.from_reply(instrument, command, instrument.query(command))

    def from_reply(self, instrument: VisaInstrument, command: str, reply: str) -> Any:
        """Parse one reply of this setting's query (also used for `;`-joined multi-queries)."""
        try:
            value = self.parse(reply.strip())
        except (ValueError, TypeError, IndexError) as exc:
            raise instrument.reply_error(command, reply, f"cannot read it as {self.name}") from exc
        if self.values is None or not self.reverse_map:
            return value
        for user_value, token in self.values.items():
            if _same_token(token, value):
                return user_value
        raise instrument.reply_error(
            command, reply, f"not one of the known {self.name} codes {list(self.values.values())}")

    # -- writing ---------------------------------------------------------------------------
    def __set__(self, instrument: VisaInstrument, value: Any) -> None:
        if self.set_cmd is None:
            raise AttributeError(f"{self.name} is read-only on the {instrument.model}")
        instrument.send_setting(self.command_for(instrument, value))

    def command_for(self, instrument: VisaInstrument, value: Any) -> str:
        """Validate `value` and return the command that sets it (raises SettingOutOfRange)."""
        checked = value
        if self.check is not None:
            checked = validate(instrument, self.name, self.check, value, self.units)
        token = self.values[checked] if self.values is not None else checked
        if self.set_cmd is None:
            raise AttributeError(f"{self.name} is read-only on the {instrument.model}")
        return self.set_cmd.format(token)


def validate(instrument: Any, name: str, validator: Validator, value: Any, units: str = "") -> Any:
    """`validator.check(value)`, or SettingOutOfRange naming the instrument, the setting, the
    value and the allowed range (for checks outside a declared Setting, e.g. indexed ones)."""
    try:
        return validator.check(value, instrument)
    except ValueError as exc:
        allowed = validator.describe(instrument, units)
        raise SettingOutOfRange(
            f"{instrument.label}: {name} = {value!r} {units} refused ({exc}); "
            f"allowed: {allowed}. Nothing was sent.".replace("  ", " "),
            instrument=instrument.label) from None


def _same_token(token: Any, parsed: Any) -> bool:
    if isinstance(token, str) or isinstance(parsed, str):
        return str(token).strip().upper() == str(parsed).strip().upper()
    try:
        return math.isclose(float(token), float(parsed), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def parse_int(reply: str) -> int:
    """An integer reply; tolerates '+1' and '1.000' (some firmware answers integers as floats)."""
    number = float(reply)
    if number != int(number):
        raise ValueError(f"not an integer: {reply!r}")
    return int(number)


def parse_bool01(reply: str) -> bool:
    """A 0/1 (or +0/+1, ON/OFF) state reply."""
    text = reply.strip().upper()
    if text in ("ON",):
        return True
    if text in ("OFF",):
        return False
    number = parse_int(text)
    if number not in (0, 1):
        raise ValueError(f"not a 0/1 state: {reply!r}")
    return bool(number)


__all__ = ["Setting", "validate", "Validator", "InRange", "IntInRange", "OneOf", "NearestInTable",
           "parse_int", "parse_bool01"]
