"""Parsing and status registers shared by the two Stanford Research Systems emulators (SR620, SR830).

SRS commands are a four-letter mnemonic (or `*XXX`) in any case, an optional `?`, then
comma-separated parameters; spaces are ignored (`MEAS?0`, `OUTP? 1`, `snap?1,2` all work).
An unknown mnemonic sets the command-error bit (5) of *ESR; a bad or out-of-range parameter sets
the execution-error bit (4). Nothing raises out of a handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kmor.sim.instruments.base import parse_float, parse_int, split_units

ESR_EXECUTION_ERROR = 1 << 4
ESR_COMMAND_ERROR = 1 << 5


class SrsError(Exception):
    """Raised inside a handler: the *ESR bit to set (never escapes `SrsParser.execute`)."""

    def __init__(self, esr_bit: int) -> None:
        super().__init__(esr_bit)
        self.esr_bit = esr_bit


def bad_param() -> SrsError:
    return SrsError(ESR_EXECUTION_ERROR)


@dataclass
class SrsCommand:
    on_set: Callable[[list[str]], None] | None
    on_query: Callable[[list[str]], str | None] | None


@dataclass(frozen=True)
class ParsedUnit:
    mnemonic: str
    is_query: bool
    params: list[str]


def parse_unit(unit: str) -> ParsedUnit | None:
    """Split one message unit into mnemonic, query flag and parameters; None if malformed."""
    compact = "".join(unit.split()).upper()
    mnemonic, rest = compact[:4], compact[4:]
    if len(mnemonic) < 4 or not all(c.isalpha() or c == "*" for c in mnemonic):
        return None
    is_query = rest.startswith("?")
    rest = rest[1:] if is_query else rest
    params = rest.split(",") if rest else []
    return ParsedUnit(mnemonic, is_query, params)


class SrsParser:
    """Dispatch of SRS mnemonics with the *ESR error bits kept in `esr`."""

    def __init__(self) -> None:
        self.esr = 0
        self._commands: dict[str, SrsCommand] = {}

    def add(self, mnemonic: str, on_set=None, on_query=None) -> None:
        self._commands[mnemonic.upper()] = SrsCommand(on_set, on_query)

    def execute_units(self, text: str) -> list[str]:
        """Run every `;`-separated unit; the list of replies in order."""
        replies: list[str] = []
        for unit in split_units(text):
            parsed = parse_unit(unit)
            if parsed is None:
                self.esr |= ESR_COMMAND_ERROR
                continue
            command = self._commands.get(parsed.mnemonic)
            handler = None
            if command is not None:
                handler = command.on_query if parsed.is_query else command.on_set
            if handler is None:
                self.esr |= ESR_COMMAND_ERROR
                continue
            try:
                reply = handler(parsed.params)
            except SrsError as err:
                self.esr |= err.esr_bit
                continue
            if parsed.is_query and reply is not None:
                replies.append(reply)
        return replies

    def read_esr(self, params: list[str]) -> str:
        """*ESR? [i]: the whole register (cleared) or bit i (that bit cleared)."""
        return read_register(self, "esr", params, width=8)


def read_register(owner: object, attr: str, params: list[str], width: int = 8) -> str:
    """Read a latched SRS status register, clearing what was read (whole byte or one bit)."""
    value = getattr(owner, attr)
    if not params:
        setattr(owner, attr, 0)
        return str(value)
    bit = int_param(params, 0, width - 1)
    setattr(owner, attr, value & ~(1 << bit))
    return str((value >> bit) & 1)


def int_param(params: list[str], low: int, high: int, index: int = 0) -> int:
    """Integer parameter `index`, checked against [low, high]; execution error otherwise."""
    if len(params) <= index:
        raise bad_param()
    value = parse_int(params[index])
    if value is None or not low <= value <= high:
        raise bad_param()
    return value


def float_param(params: list[str], low: float, high: float, index: int = 0) -> float:
    """Float parameter `index`, checked against [low, high]; execution error otherwise."""
    if len(params) <= index:
        raise bad_param()
    value = parse_float(params[index])
    if value is None or not low <= value <= high:
        raise bad_param()
    return value


def setting(parser: SrsParser, mnemonic: str, owner: object, attr: str, low: int, high: int) -> None:
    """An integer setting with set (`XXXX i`) and query (`XXXX?`) forms."""
    def on_set(params: list[str]) -> None:
        setattr(owner, attr, int_param(params, low, high))

    def on_query(params: list[str]) -> str:
        return str(getattr(owner, attr))

    parser.add(mnemonic, on_set, on_query)


def enable_register(parser: SrsParser, mnemonic: str, registers: dict[str, int], width: int = 8) -> None:
    """An SRS status-enable register in both forms: `XXXX i` sets the whole register (0 .. 255),
    `XXXX i,j` sets bit i to j (0/1); `XXXX?` reads it, `XXXX? i` reads bit i. Reading does not
    clear an enable register (only the event registers are latched)."""
    top = (1 << width) - 1

    def on_set(params: list[str]) -> None:
        if len(params) == 1:
            registers[mnemonic] = int_param(params, 0, top)
        elif len(params) == 2:
            bit, value = int_param(params, 0, width - 1), int_param(params, 0, 1, index=1)
            registers[mnemonic] = registers[mnemonic] & ~(1 << bit) | (value << bit)
        else:
            raise bad_param()

    def on_query(params: list[str]) -> str:
        if not params:
            return str(registers[mnemonic])
        return str(registers[mnemonic] >> int_param(params, 0, width - 1) & 1)

    parser.add(mnemonic, on_set, on_query)
