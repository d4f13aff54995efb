"""Keithley 6221 precision current source emulator (SCPI), one per coil axis when the coils are
driven by current sources.

Models the dc source level (+-105 mA), the source ranges (fixed or auto), the voltage compliance
(with an optional load resistance, the output current is limited to compliance / load), the output
switch and `SOUR:CLE`, with the SCPI error queue. The physics reads `output_current_A`, which is 0
while the output is off.
"""

from __future__ import annotations

from kmor.sim.instruments.base import EmulatorBase
from kmor.sim.instruments.scpi import (
    OUT_OF_RANGE,
    QUERY_INTERRUPTED,
    SETTINGS_CONFLICT,
    ErrorQueue,
    ScpiParser,
    add_ieee_common,
    fail,
    no_params,
    parse_bool,
    parse_value,
    query_of,
)

CURRENT_UNITS_A = {"": 1.0, "A": 1.0, "MA": 1e-3, "UA": 1e-6, "NA": 1e-9}
VOLT_UNITS = {"": 1.0, "V": 1.0}
#: The 6221's dc source ranges, amperes.
RANGES_A = (2e-9, 20e-9, 200e-9, 2e-6, 20e-6, 200e-6, 2e-3, 20e-3, 100e-3)


def _sci(value: float) -> str:
    """Keithley-style reply: `1.000000E-03`."""
    return f"{value:.6E}"


class Keithley6221Emulator(EmulatorBase):
    """Byte-level twin of a Keithley 6221. Terminations: LF both ways."""

    read_termination = "\n"
    write_termination = "\n"
    input_terminators = b"\n"
    output_policy = "interrupt"

    MAX_CURRENT_A = 0.105
    MIN_COMPLIANCE_V = 0.1
    MAX_COMPLIANCE_V = 105.0
    IDN = "KEITHLEY INSTRUMENTS INC.,MODEL 6221,4559777,D04  /700x "

    def __init__(self, load_ohm: float | None = None) -> None:
        """`load_ohm`: the coil's resistance; None means an ideal load (never in compliance)."""
        super().__init__()
        self.load_ohm = load_ohm
        self.errors = ErrorQueue('0,"No error"')
        self.parser = self._build_parser()
        self.reset()

    def reset(self) -> None:
        """*RST. Assumed: output off, 0 A, compliance 10 V, auto range on."""
        self.output_on = False
        self.current_setpoint_A = 0.0
        self.compliance_V = 10.0
        self.auto_range = True
        self.range_A = 2e-3

    @property
    def output_current_A(self) -> float:
        """The current flowing out of the source, amperes (0 when off, limited by compliance)."""
        if not self.output_on:
            return 0.0
        current = self.current_setpoint_A
        if self.load_ohm and self.load_ohm > 0:
            limit = self.compliance_V / self.load_ohm
            current = max(-limit, min(limit, current))
        return current

    @property
    def in_compliance(self) -> bool:
        """True when the load would need more than the compliance voltage."""
        return self.output_current_A != (self.current_setpoint_A if self.output_on else 0.0)

    def handle_text(self, text: str) -> str | None:
        return self.parser.execute(text)

    def query_interrupted(self) -> None:
        self.errors.push(*QUERY_INTERRUPTED)

    @staticmethod
    def _range_for(current_A: float) -> float:
        return next(r for r in RANGES_A if abs(current_A) <= r * 1.05 or r == RANGES_A[-1])

    def _set_current(self, params: list[str]) -> None:
        value = parse_value(params, CURRENT_UNITS_A, minimum=-self.MAX_CURRENT_A,
                            maximum=self.MAX_CURRENT_A, default=0.0)
        if abs(value) > self.MAX_CURRENT_A:
            raise fail(OUT_OF_RANGE)
        if self.auto_range:
            self.range_A = self._range_for(value)
        elif abs(value) > self.range_A * 1.05:
            raise fail(OUT_OF_RANGE)
        self.current_setpoint_A = value

    def _set_compliance(self, params: list[str]) -> None:
        value = parse_value(params, VOLT_UNITS, minimum=self.MIN_COMPLIANCE_V,
                            maximum=self.MAX_COMPLIANCE_V, default=10.0)
        if not self.MIN_COMPLIANCE_V <= value <= self.MAX_COMPLIANCE_V:
            raise fail(OUT_OF_RANGE)
        self.compliance_V = value

    def _set_range(self, params: list[str]) -> None:
        value = parse_value(params, CURRENT_UNITS_A, minimum=RANGES_A[0], maximum=RANGES_A[-1],
                            default=RANGES_A[-1])
        if abs(value) > self.MAX_CURRENT_A:
            raise fail(OUT_OF_RANGE)
        new_range = self._range_for(value)
        if abs(self.current_setpoint_A) > new_range * 1.05:
            raise fail(SETTINGS_CONFLICT)
        self.range_A = new_range
        self.auto_range = False

    def _set_auto_range(self, params: list[str]) -> None:
        self.auto_range = parse_bool(params)
        if self.auto_range:
            self.range_A = self._range_for(self.current_setpoint_A)

    def _set_output(self, params: list[str]) -> None:
        self.output_on = parse_bool(params)

    def _clear(self, params: list[str]) -> None:
        no_params(params)
        self.output_on = False

    def _build_parser(self) -> ScpiParser:
        p = ScpiParser(self.errors)
        p.add("[SOURce#]:CURRent:[LEVel]:[IMMediate]:[AMPLitude]", self._set_current,
              query_of(lambda: _sci(self.current_setpoint_A)))
        p.add("[SOURce#]:CURRent:COMPliance", self._set_compliance,
              query_of(lambda: _sci(self.compliance_V)))
        p.add("[SOURce#]:CURRent:RANGe", self._set_range, query_of(lambda: _sci(self.range_A)))
        p.add("[SOURce#]:CURRent:RANGe:AUTO", self._set_auto_range,
              query_of(lambda: "1" if self.auto_range else "0"))
        p.add("[SOURce#]:CLEar:[IMMediate]", self._clear)
        p.add("OUTPut#:[STATe]", self._set_output, query_of(lambda: "1" if self.output_on else "0"))
        add_ieee_common(p, self.IDN, self.reset)
        return p
