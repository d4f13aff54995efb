"""New Focus Velocity TLB-6300 diode laser controller emulator.

What it models: output on/off, track mode, the wavelength set point and a motor that slews to it
on the sim clock (`*OPC?` is 0 while it moves, 1 when done; the unit enters track mode after a
move), the piezo (% of full scale), the diode current set point, front-facet power, `ERRSTR?`.
The power-current curve (lasing threshold included) is the physics model's, handed in as
`power_factor`: the emulator keeps no threshold of its own, so the power it reports and the light
the lock-ins see start at the same current. Set commands reply `OK`; errors reply `Out of Range` or
`Unknown Command` (and are queued for `ERRSTR?`). `SENS:` reads work with or without `?`.

The 6300's GPIB quirk (every read returns the most recent response again) is a transport matter:
`output_policy = "replace"` tells the pyvisa backend to keep one response slot and re-send it on
every read, and the TCP server re-sends it on a Prologix-style `++read` (docs/decisions/0023).
A `;`-joined line runs every command; only the last response is kept, like the single slot
(assumed: public drivers note the unit does not support concatenated queries).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

from kmor.sim.instruments.base import EmulatorBase, split_number, split_units

OK = "OK"
OUT_OF_RANGE = "Out of Range"
UNKNOWN = "Unknown Command"
#: Assumed ERRSTR? codes (only the texts are documented).
ERROR_CODES = {UNKNOWN: 126, OUT_OF_RANGE: 127}


def _canonical(header: str) -> str:
    """Reduce a header to its short form: `:SOURce:WAVElength` -> `WAVE` (SOURce is optional)."""
    shorts = {
        "OUTPUT": "OUTP", "TRACK": "TRAC", "STATE": "STAT", "SOURCE": "SOUR",
        "WAVELENGTH": "WAVE", "VOLTAGE": "VOLT", "PIEZO": "PIEZ", "CURRENT": "CURR",
        "DIODE": "DIOD", "SENSE": "SENS", "POWER": "POW", "FRONT": "FRON", "LEVEL": "LEV",
        "TEMPERATURE": "TEMP",
    }
    nodes = [shorts.get(n, n) for n in header.upper().lstrip(":").split(":")]
    if nodes and nodes[0] == "SOUR":
        nodes = nodes[1:]
    if nodes[-1:] == ["STAT"] and nodes[:1] == ["OUTP"]:
        nodes = nodes[:-1]
    if nodes[:1] == ["SENS"] and "LEV" in nodes:
        nodes = [n for n in nodes if n != "LEV"]
    if nodes[:1] == ["VOLT"] and nodes[1:] == ["PIEZ"]:
        nodes = ["VOLT"]
    if nodes[:1] == ["CURR"] and nodes[1:] == ["DIOD"]:
        nodes = ["CURR"]
    return ":".join(nodes)


class TLB6300Emulator(EmulatorBase):
    """Byte-level twin of a TLB-6300 on GPIB: commands end LF (CR accepted), replies end CR LF
    (assumed), and one response slot that every read returns again."""

    read_termination = "\r\n"
    write_termination = "\n"
    input_terminators = b"\n\r"
    output_policy = "replace"

    def __init__(
        self,
        clock=None,
        *,
        power_factor: Callable[[float], float],
        nominal_front_power_mW: float = 7.5,
        min_wavelength_nm: float = 765.0,
        max_wavelength_nm: float = 781.0,
        max_current_mA: float = 100.0,
        slew_nm_per_s: float = 5.0,
        idn: str = "NewFocus 6300 SN1234 V2.5",
    ) -> None:
        """`clock`: sim clock for the wavelength motor (None: moves finish at once).
        `power_factor(current_mA)`: light relative to the nominal current's (0 below threshold),
        from the physics model (`kmor.sim.physics.laser.Laser.power_factor`).
        `nominal_front_power_mW`: front-facet power at that nominal current (the head's scale).
        The wavelength range and current limit describe the diode head."""
        super().__init__()
        self.clock = clock
        self.power_factor = power_factor
        self.nominal_front_power_mW = nominal_front_power_mW
        self.min_wavelength_nm = min_wavelength_nm
        self.max_wavelength_nm = max_wavelength_nm
        self.max_current_mA = max_current_mA
        self.slew_nm_per_s = slew_nm_per_s
        self.idn = idn
        self.errors: deque[str] = deque(maxlen=10)
        self.reset()

    def reset(self) -> None:
        """Power-on state (assumed): output off, mid-range wavelength, piezo 50 %, 0 mA."""
        self.output_on = False
        self.track_on = False
        self.piezo_pct = 50.0
        self.current_setpoint_mA = 0.0
        start = round((self.min_wavelength_nm + self.max_wavelength_nm) / 2, 3)
        self.wavelength_setpoint_nm = start
        self._move_from_nm = start
        self._move_start_s = self._now()

    def _now(self) -> float:
        return self.clock.now_s() if self.clock is not None else 0.0

    # --- state the physics reads ---------------------------------------------------------
    @property
    def wavelength_nm(self) -> float:
        """Motor wavelength now, nm (moving toward the set point at `slew_nm_per_s`)."""
        distance = self.wavelength_setpoint_nm - self._move_from_nm
        if self.clock is None or distance == 0:
            return self.wavelength_setpoint_nm
        travelled = self.slew_nm_per_s * (self._now() - self._move_start_s)
        if travelled >= abs(distance):
            return self.wavelength_setpoint_nm
        return self._move_from_nm + travelled * (1 if distance > 0 else -1)

    @property
    def moving(self) -> bool:
        return self.wavelength_nm != self.wavelength_setpoint_nm

    @property
    def current_mA(self) -> float:
        """Diode current actually flowing, mA (0 with the output off)."""
        return self.current_setpoint_mA if self.output_on else 0.0

    @property
    def front_power_mW(self) -> float:
        """Front-facet power, mW: the physics' power factor at the flowing current times the
        nominal front power (0 with the output off or below threshold)."""
        if self.current_mA <= 0.0:
            return 0.0
        return self.nominal_front_power_mW * self.power_factor(self.current_mA)

    # --- commands -------------------------------------------------------------------------
    def handle_text(self, text: str) -> str | None:
        units = split_units(text)
        if not units:
            return None
        reply = None
        for unit in units:
            reply = self._execute(unit)
            if reply in ERROR_CODES:
                self.errors.append(reply)
        return reply

    def _execute(self, unit: str) -> str:
        m = re.match(r"^\s*([*:A-Za-z][:A-Za-z]*)\s*(\?)?\s*(.*?)\s*$", unit)
        if not m:
            return UNKNOWN
        header, query, arg = m.group(1), bool(m.group(2)), m.group(3)
        if header.startswith("*") or header.upper() == "ERRSTR":
            return self._common(header.upper(), query, arg)
        node = _canonical(header)
        if node.startswith("SENS:"):
            return self._sense(node) if not arg else UNKNOWN
        handlers = {"OUTP": self._output, "OUTP:TRAC": self._track, "WAVE": self._wave,
                    "VOLT": self._piezo, "CURR": self._current}
        handler = handlers.get(node)
        if handler is None:
            return UNKNOWN
        return handler(query, arg)

    def _common(self, header: str, query: bool, arg: str) -> str:
        if header == "*IDN" and query:
            return self.idn
        if header == "*OPC" and query:
            self._finish_move_if_done()
            return "0" if self.moving else "1"
        if header == "*RST" and not query:
            self.reset()
            return OK
        if header == "ERRSTR" and query:
            return self._errstr()
        return UNKNOWN

    def _errstr(self) -> str:
        if not self.errors:
            return "0,NO ERROR"
        text = self.errors.popleft()
        return f"{ERROR_CODES[text]},{text.upper()}"

    def _sense(self, node: str) -> str:
        self._finish_move_if_done()
        readings = {
            "SENS:WAVE": lambda: f"{self.wavelength_nm:.3f}",
            "SENS:VOLT:PIEZ": lambda: f"{self.piezo_pct:.1f}",
            "SENS:CURR:DIOD": lambda: f"{self.current_mA:.1f}",
            "SENS:POW:FRON": lambda: f"{self.front_power_mW:.2f}",
            "SENS:TEMP:DIOD": lambda: "20.0",
        }
        reading = readings.get(node)
        return reading() if reading else UNKNOWN

    def _finish_move_if_done(self) -> None:
        if self._move_from_nm != self.wavelength_setpoint_nm and not self.moving:
            self._move_from_nm = self.wavelength_setpoint_nm
            self.track_on = True  # the 6300 holds the wavelength after a move

    def _number(self, arg: str, low: float, high: float) -> float | None:
        keyword = arg.upper()
        if keyword in ("MIN", "MINIMUM"):
            return low
        if keyword in ("MAX", "MAXIMUM"):
            return high
        parts = split_number(arg)
        if parts is None or parts[1] or not low <= parts[0] <= high:
            return None
        return parts[0]

    def _switch(self, arg: str) -> bool | None:
        return {"1": True, "ON": True, "0": False, "OFF": False}.get(arg.upper())

    def _output(self, query: bool, arg: str) -> str:
        if query:
            return "1" if self.output_on else "0"
        state = self._switch(arg)
        if state is None:
            return OUT_OF_RANGE
        self.output_on = state
        return OK

    def _track(self, query: bool, arg: str) -> str:
        if query:
            return "1" if self.track_on else "0"
        state = self._switch(arg)
        if state is None:
            return OUT_OF_RANGE
        self.track_on = state
        return OK

    def _wave(self, query: bool, arg: str) -> str:
        low, high = self.min_wavelength_nm, self.max_wavelength_nm
        if query:
            bound = self._number(arg, low, high) if arg else self.wavelength_setpoint_nm
            return OUT_OF_RANGE if bound is None else f"{bound:.3f}"
        target = self._number(arg, low, high)
        if target is None:
            return OUT_OF_RANGE
        self._move_from_nm = self.wavelength_nm
        self._move_start_s = self._now()
        self.wavelength_setpoint_nm = round(target, 3)
        self.track_on = False
        self._finish_move_if_done()
        return OK

    def _piezo(self, query: bool, arg: str) -> str:
        if query:
            return f"{self.piezo_pct:.1f}"
        value = self._number(arg, 0.0, 100.0)
        if value is None:
            return OUT_OF_RANGE
        self.piezo_pct = round(value, 1)
        return OK

    def _current(self, query: bool, arg: str) -> str:
        if query:
            return f"{self.current_setpoint_mA:.1f}"
        value = self._number(arg, 0.0, self.max_current_mA)
        if value is None:
            return OUT_OF_RANGE
        self.current_setpoint_mA = round(value, 1)
        return OK
