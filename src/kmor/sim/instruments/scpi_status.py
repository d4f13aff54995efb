"""The SCPI status system of a Keithley-style instrument: the IEEE 488.2 standard event and status
byte registers plus the SCPI measurement, questionable and operation event registers, their enable
registers, `STATus:PRESet` and the error queue reached through `SYSTem:ERRor` and `STATus:QUEue`.

Written from the Model 6220/6221 Reference Manual, section 11 (status structure) and the SCPI
1999 standard: an event register latches the positive transitions of its condition register and is
cleared by reading it or by *CLS; its enable register selects which events set the summary bit in
the status byte (bit 0 measurement, bit 3 questionable, bit 7 operation, bit 5 standard events
through *ESE, bit 2 error queue not empty, bit 6 the master summary through *SRE).
`STATus:PRESet` zeroes the three SCPI enable registers; *RST changes none of this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kmor.sim.instruments.scpi import (
    ErrorQueue,
    ScpiParser,
    SetHandler,
    no_params,
    parse_register,
    query_of,
)

#: Status byte bits (Model 622x manual, figure 11-1).
STB_MSB, STB_EAV, STB_QSB, STB_MAV, STB_ESB, STB_MSS, STB_OSB = 1, 4, 8, 16, 32, 64, 128


@dataclass
class EventRegister:
    """One SCPI register set: condition, latched event, and enable (16 bits)."""

    condition: int = 0
    event: int = 0
    enable: int = 0

    def set_condition(self, bits: int, on: bool) -> None:
        """Raise or lower condition bits; a rising bit latches into the event register."""
        if on:
            self.event |= bits & ~self.condition
            self.condition |= bits
        else:
            self.condition &= ~bits

    def read_event(self) -> int:
        """`[:EVENt]?`: the event register, cleared by reading."""
        value, self.event = self.event, 0
        return value

    @property
    def summary(self) -> bool:
        return bool(self.event & self.enable)


class ScpiStatus:
    """Registers and queue of one instrument; `install` adds their commands to a parser."""

    def __init__(self, errors: ErrorQueue) -> None:
        self.errors = errors
        self.measurement = EventRegister()
        self.questionable = EventRegister()
        self.operation = EventRegister()
        self.ese = 0
        self.sre = 0

    def preset(self) -> None:
        """STATus:PRESet: the measurement, questionable and operation enable registers to 0."""
        for register in (self.measurement, self.questionable, self.operation):
            register.enable = 0

    def clear(self) -> None:
        """*CLS: every event register and the error queue (enable registers are kept)."""
        self.errors.clear()
        for register in (self.measurement, self.questionable, self.operation):
            register.event = 0

    def status_byte(self) -> int:
        """*STB?: the summary bits, with MSS when any bit enabled by *SRE is set."""
        stb = ((STB_MSB if self.measurement.summary else 0) | (STB_EAV if len(self.errors) else 0)
               | (STB_QSB if self.questionable.summary else 0)
               | (STB_ESB if self.errors.esr & self.ese else 0)
               | (STB_OSB if self.operation.summary else 0))
        return stb | (STB_MSS if stb & self.sre & ~STB_MSS else 0)

    # --- commands ---------------------------------------------------------------------------
    def install(self, p: ScpiParser) -> None:
        """Add *ESE, *SRE, *STB, *CLS, STATus:... and SYSTem:ERRor:... to `p`."""
        errors = self.errors

        def setter(name: str, bits: int = 16) -> SetHandler:
            def run(params: list[str]) -> None:
                setattr(self, name, parse_register(params, bits))
            return run

        p.add("*ESE", setter("ese", 8), query_of(lambda: str(self.ese)))
        p.add("*SRE", setter("sre", 8), query_of(lambda: str(self.sre)))
        p.add("*STB", None, query_of(lambda: str(self.status_byte())))
        p.add("*CLS", _action(self.clear))
        for name, register in (("MEASurement", self.measurement), ("QUEStionable", self.questionable),
                               ("OPERation", self.operation)):
            _add_register(p, name, register)
        p.add("STATus:PRESet", _action(self.preset))
        p.add("STATus:QUEue:[NEXT]", None, query_of(errors.pop))
        p.add("STATus:QUEue:CLEar", _action(errors.clear_queue))
        p.add("SYSTem:ERRor:ALL", None, query_of(lambda: self._drain(errors.pop)))
        p.add("SYSTem:ERRor:CODE:[NEXT]", None, query_of(errors.pop_code))
        p.add("SYSTem:ERRor:CODE:ALL", None, query_of(lambda: self._drain(errors.pop_code)))
        p.add("SYSTem:ERRor:COUNt", None, query_of(lambda: str(len(errors))))
        p.add("SYSTem:ERRor:CLEar", _action(errors.clear_queue))

    def _drain(self, pop: Callable[[], str]) -> str:
        """`...:ALL?`: every queued entry, oldest first, comma separated (the no-error entry when
        the queue is empty)."""
        if not len(self.errors):
            return pop()
        return ",".join(pop() for _ in range(len(self.errors)))


def _action(run_it: Callable[[], None]) -> SetHandler:
    def run(params: list[str]) -> None:
        no_params(params)
        run_it()
    return run


def _add_register(p: ScpiParser, name: str, register: EventRegister) -> None:
    def set_enable(params: list[str]) -> None:
        register.enable = parse_register(params)

    p.add(f"STATus:{name}:[EVENt]", None, query_of(lambda: str(register.read_event())))
    p.add(f"STATus:{name}:ENABle", set_enable, query_of(lambda: str(register.enable)))
    p.add(f"STATus:{name}:CONDition", None, query_of(lambda: str(register.condition)))
