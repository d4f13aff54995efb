"""A small SCPI parser shared by the SCPI emulators (HP 8647A, Keithley 6221).

It follows the SCPI 1999 rules a real parser applies: headers match their short or long form in
any case, bracketed nodes are optional, a `#` node takes the numeric suffix 1, `;` separates message
units within one line, and a header after `;` without a leading `:` is resolved relative to the
previous header's path (so `FREQ:CW 1MHZ;POW:AMPL 0` is an undefined header, as on the
instrument: write `FREQ:CW 1MHZ;:POW:AMPL 0`). Failures go to the error queue with the standard
SCPI codes; nothing raises out of `ScpiParser.execute`.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kmor.sim.instruments.base import split_number


class ScpiError(Exception):
    """Raised by a handler to push an error onto the queue (caught by the parser, never escapes)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code},{message}")
        self.code = code
        self.message = message


UNDEFINED_HEADER = (-113, "Undefined header")
DATA_TYPE = (-104, "Data type error")
PARAM_NOT_ALLOWED = (-108, "Parameter not allowed")
MISSING_PARAM = (-109, "Missing parameter")
INVALID_SUFFIX = (-131, "Invalid suffix")
ILLEGAL_VALUE = (-224, "Illegal parameter value")
OUT_OF_RANGE = (-222, "Data out of range")
SETTINGS_CONFLICT = (-221, "Settings conflict")
QUERY_INTERRUPTED = (-410, "Query INTERRUPTED")
QUEUE_OVERFLOW = (-350, "Queue overflow")


def fail(err: tuple[int, str]) -> ScpiError:
    """`raise fail(OUT_OF_RANGE)` inside a handler."""
    return ScpiError(*err)


class ErrorQueue:
    """The SCPI error/event queue: first in, first out, with the standard overflow entry."""

    def __init__(self, no_error: str = '+0,"No error"', size: int = 30) -> None:
        self.no_error = no_error
        self.size = size
        self._queue: deque[tuple[int, str]] = deque()
        #: IEEE 488.2 standard event status register, set by the class of each error pushed.
        self.esr = 0

    def push(self, code: int, message: str) -> None:
        self.esr |= _esr_bit(code)
        if len(self._queue) >= self.size:
            self._queue[-1] = QUEUE_OVERFLOW
            return
        self._queue.append((code, message))

    def pop(self) -> str:
        """The oldest error as `code,"message"`, or the no-error text."""
        if not self._queue:
            return self.no_error
        code, message = self._queue.popleft()
        return f'{code},"{message}"'

    def pop_code(self) -> str:
        """The oldest error's code only (`SYST:ERR:CODE?`), or 0."""
        return self.pop().split(",", 1)[0]

    def clear(self) -> None:
        """*CLS: empty the queue and the event status register."""
        self._queue.clear()
        self.esr = 0

    def clear_queue(self) -> None:
        """`SYST:ERR:CLE` / `STAT:QUE:CLE`: empty the queue only."""
        self._queue.clear()

    def read_esr(self) -> int:
        """*ESR?: the event status register, cleared by reading."""
        value, self.esr = self.esr, 0
        return value

    def status_byte(self) -> int:
        """*STB? as SCPI defines it: bit 2 error queue not empty, bit 5 ESB (every event enabled)."""
        return (4 if self._queue else 0) | (32 if self.esr else 0)

    def __len__(self) -> int:
        return len(self._queue)

    def codes(self) -> list[int]:
        """The codes waiting in the queue, oldest first (for tests and the physics-free inspector)."""
        return [code for code, _ in self._queue]


def _esr_bit(code: int) -> int:
    """Which *ESR bit an error sets: command (-1xx) bit 5, execution (-2xx) bit 4,
    device-specific (-3xx and positive) bit 3, query (-4xx) bit 2."""
    if -199 <= code <= -100:
        return 32
    if -299 <= code <= -200:
        return 16
    if -499 <= code <= -400:
        return 4
    return 8


@dataclass(frozen=True)
class _Node:
    long: str
    short: str
    optional: bool
    suffix: bool

    def matches(self, token: str) -> bool:
        word = token.upper()
        if self.suffix:
            m = re.fullmatch(r"([A-Z*]+?)(\d*)", word)
            if not m or m.group(2) not in ("", "1"):
                return False
            word = m.group(1)
        return word in (self.long, self.short)


def _compile(spec: str) -> tuple[_Node, ...]:
    nodes = []
    for raw in spec.split(":"):
        optional = raw.startswith("[") and raw.endswith("]")
        name = raw.strip("[]")
        suffix = name.endswith("#")
        name = name.rstrip("#")
        short = "".join(c for c in name if c.isupper() or c.isdigit()) or name.upper()
        nodes.append(_Node(name.upper(), short, optional, suffix))
    return tuple(nodes)


def _match(nodes: tuple[_Node, ...], tokens: list[str]) -> bool:
    if not nodes:
        return not tokens
    head, rest = nodes[0], nodes[1:]
    if tokens and head.matches(tokens[0]) and _match(rest, tokens[1:]):
        return True
    return head.optional and _match(rest, tokens)


SetHandler = Callable[[list[str]], None]
QueryHandler = Callable[[list[str]], str]


@dataclass
class _Command:
    nodes: tuple[_Node, ...]
    on_set: SetHandler | None
    on_query: QueryHandler | None


class ScpiParser:
    """Dispatch table of SCPI headers plus the `*` common commands, with an error queue."""

    def __init__(self, errors: ErrorQueue) -> None:
        self.errors = errors
        self._commands: list[_Command] = []
        self._common: dict[str, _Command] = {}

    def add(self, spec: str, on_set: SetHandler | None = None,
            on_query: QueryHandler | None = None) -> None:
        """Register a header like `[SOURce#]:CURRent:[LEVel]` (`*IDN` for common commands)."""
        command = _Command(_compile(spec), on_set, on_query)
        if spec.startswith("*"):
            self._common[spec.upper()] = command
        else:
            self._commands.append(command)

    def execute(self, text: str) -> str | None:
        """Run every message unit of one line; the `;`-joined replies, or None if none."""
        replies: list[str] = []
        path: list[str] = []
        for unit in (u.strip() for u in text.split(";")):
            if not unit:
                continue
            try:
                reply, path = self._execute_unit(unit, path)
            except ScpiError as err:
                self.errors.push(err.code, err.message)
                continue
            if reply is not None:
                replies.append(reply)
        return ";".join(replies) if replies else None

    def _execute_unit(self, unit: str, path: list[str]) -> tuple[str | None, list[str]]:
        header, _, rest = unit.partition(" ")
        if "\t" in header:
            header, _, more = header.partition("\t")
            rest = more + " " + rest
        params = [p.strip() for p in rest.split(",")] if rest.strip() else []
        is_query = header.endswith("?")
        header = header.rstrip("?")
        if header.lstrip(":").startswith("*"):  # `:*CLS` is accepted like `*CLS`
            header = header.lstrip(":")
            command = self._common.get(header.upper())
            new_path = path
        else:
            tokens = header.lstrip(":").split(":")
            if header.startswith(":"):
                full = tokens
            else:
                full = path + tokens
            if any(not t for t in full):
                raise fail(UNDEFINED_HEADER)
            command = next((c for c in self._commands if _match(c.nodes, full)), None)
            new_path = full[:-1]
        if command is None:
            raise fail(UNDEFINED_HEADER)
        if is_query:
            if command.on_query is None:
                raise fail(UNDEFINED_HEADER)
            return command.on_query(params), new_path
        if command.on_set is None:
            raise fail(UNDEFINED_HEADER)
        command.on_set(params)
        return None, new_path


def one_param(params: list[str]) -> str:
    """The single parameter of a set command, or the SCPI missing/extra parameter error."""
    if not params or not params[0]:
        raise fail(MISSING_PARAM)
    if len(params) > 1:
        raise fail(PARAM_NOT_ALLOWED)
    return params[0]


def no_params(params: list[str]) -> None:
    if params:
        raise fail(PARAM_NOT_ALLOWED)


def parse_bool(params: list[str]) -> bool:
    """ON/OFF or a number (rounded; nonzero is ON), else the SCPI data-type error."""
    word = one_param(params).upper()
    if word == "ON":
        return True
    if word == "OFF":
        return False
    parts = split_number(word)
    if parts is None or parts[1]:
        raise fail(DATA_TYPE)
    return round(parts[0]) != 0


def parse_value(params: list[str], units: dict[str, float], *, minimum: float, maximum: float,
                default: float | None = None) -> float:
    """A numeric parameter with an optional unit suffix (`units` maps suffix -> multiplier, the
    empty suffix included), or MIN/MAX/DEF. Range is checked by the caller."""
    word = one_param(params)
    keyword = word.upper()
    if keyword in ("MIN", "MINIMUM"):
        return minimum
    if keyword in ("MAX", "MAXIMUM"):
        return maximum
    if keyword in ("DEF", "DEFAULT") and default is not None:
        return default
    parts = split_number(word)
    if parts is None:
        raise fail(DATA_TYPE)
    value, suffix = parts
    multiplier = units.get(suffix.upper().replace(" ", ""))
    if multiplier is None:
        raise fail(INVALID_SUFFIX)
    if not math.isfinite(value * multiplier):
        raise fail(OUT_OF_RANGE)
    return value * multiplier


def nr3(value: float, digits: int = 10) -> str:
    """SCPI NR3 text with an explicit sign and uppercase exponent: `+4.6171972000E+08`."""
    return f"{value:+.{digits}E}"


def add_ieee_common(parser: ScpiParser, idn: str, reset: Callable[[], None],
                    opc_reply: str = "1") -> None:
    """The IEEE 488.2 common commands every SCPI instrument here answers."""
    errors = parser.errors

    def simple(action: Callable[[], None]) -> SetHandler:
        def run(params: list[str]) -> None:
            no_params(params)
            action()
        return run

    def answer(text: Callable[[], str]) -> QueryHandler:
        def run(params: list[str]) -> str:
            no_params(params)
            return text()
        return run

    parser.add("*IDN", None, answer(lambda: idn))
    parser.add("*OPC", simple(lambda: None), answer(lambda: opc_reply))
    parser.add("*WAI", simple(lambda: None))
    parser.add("*RST", simple(reset))
    parser.add("*CLS", simple(errors.clear))
    parser.add("*ESR", None, answer(lambda: str(errors.read_esr())))
    parser.add("*STB", None, answer(lambda: str(errors.status_byte())))
    parser.add("SYSTem:ERRor:[NEXT]", None, answer(errors.pop))


def query_of(getter: Callable[[], str]) -> QueryHandler:
    """A query handler that takes no parameters."""
    def run(params: list[str]) -> str:
        no_params(params)
        return getter()
    return run


def parse_choice(params: list[str], choices: dict[str, str]) -> str:
    """A character parameter: `choices` maps each accepted spelling (upper case, short and long
    form) to the canonical reply; anything else is the SCPI illegal-value error (-224)."""
    word = one_param(params).upper()
    if word not in choices:
        raise fail(ILLEGAL_VALUE)
    return choices[word]


def parse_bounded(params: list[str], units: dict[str, float], *, minimum: float, maximum: float,
                  default: float | None = None, infinite: bool = False) -> float:
    """A numeric parameter checked against [minimum, maximum] (-222 outside); `infinite` also
    takes INF (returned as math.inf)."""
    if infinite and one_param(params).upper() in ("INF", "INFINITY"):
        return math.inf
    value = parse_value(params, units, minimum=minimum, maximum=maximum, default=default)
    if not minimum <= value <= maximum:
        raise fail(OUT_OF_RANGE)
    return value


def parse_register(params: list[str], bits: int = 16) -> int:
    """An enable-register value (NRf, rounded) from 0 to 2**bits - 1, else -222."""
    return round(parse_bounded(params, {"": 1.0}, minimum=0, maximum=2**bits - 1))
