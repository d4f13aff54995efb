"""Keithley 6221 AC and DC current source emulator (SCPI), one per coil axis when the coils are
driven by current sources.

Models, from the Model 6220/6221 Reference Manual:
- the dc source: level (+-105 mA), ranges (fixed or auto), voltage compliance (with an optional
  load resistance the output current is limited to compliance / load), source delay, the output
  switch, output-low to earth, the inner shield (guard / output low), `SOUR:CLE`;
- the AC waveform (`SOUR:WAVE`: sine, square, ramp, four arbitrary waveforms; arm, start, abort)
  and the linear / logarithmic / list sweeps (`SOUR:SWE`, `SOUR:LIST`): with a sim clock the
  output follows them in lab time, each sweep level lasting the source delay;
- the status system (`kmor.sim.instruments.scpi_status`; compliance drives measurement bit 3),
  `SYST:ERR` in all its forms, display
  on/off and text, the beeper, the trigger-model settings, `*OPT?`, `*TRG`;
- the buffer (`TRAC`) and the delta-mode settings (`SOUR:DELT`, `UNIT`). The 6221 fills its buffer
  only with readings of a Model 2182A nanovoltmeter on its RS-232 / Trigger Link, and the simulated
  lab has none: `SOUR:DELT:NVPR?` answers 0, arming delta is refused with -241 "Hardware missing",
  `SENS:DATA?` with -221 (no test running), `TRAC:DATA?` of the empty buffer with -230.
The physics reads `output_current_A` (0 while the output is off).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

from kmor.sim.instruments.base import EmulatorBase
from kmor.sim.instruments.keithley6221_programs import (
    CURRENT_UNITS_A,
    HERTZ,
    PLAIN,
    SECONDS,
    Sweep,
    Waveform,
    parse_current,
    parse_current_list,
    parse_wave_function,
)
from kmor.sim.instruments.scpi import (
    OUT_OF_RANGE,
    QUERY_INTERRUPTED,
    SETTINGS_CONFLICT,
    ErrorQueue,
    QueryHandler,
    ScpiParser,
    add_ieee_common,
    fail,
    no_params,
    parse_bool,
    parse_bounded,
    parse_choice,
    parse_value,
    query_of,
)
from kmor.sim.instruments.scpi_status import ScpiStatus

VOLT_UNITS = {"": 1.0, "V": 1.0}
#: The 6221's dc source ranges, amperes.
RANGES_A = (2e-9, 20e-9, 200e-9, 2e-6, 20e-6, 200e-6, 2e-3, 20e-3, 100e-3)
HARDWARE_MISSING = (-241, "Hardware missing")
DATA_STALE = (-230, "Data corrupt or stale")
TRIGGER_IGNORED = (-211, "Trigger ignored")
#: Measurement event register bit 3: the source is in compliance.
MEAS_COMPLIANCE = 1 << 3
#: Keithley's reply for an infinite setting (the manual's +9.9E37).
INFINITY_REPLY = 9.9e37


class Clock(Protocol):
    """The sim clock as the twin uses it."""

    def now_s(self) -> float: ...


def _sci(value: float) -> str:
    """Keithley-style reply: `1.000000E-03` (infinite settings as 9.900000E+37)."""
    return f"{INFINITY_REPLY if math.isinf(value) else value:.6E}"


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _choices(*words: str) -> dict[str, str]:
    """Short and long spellings of SCPI character data: `_choices("GUARd")` accepts GUAR and GUARD
    and replies GUAR."""
    table = {}
    for word in words:
        short = "".join(c for c in word if c.isupper() or c.isdigit()) or word.upper()
        table[word.upper()] = short
        table[short] = short
    return table


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
    #: Not verified: the exact *OPT? text; the 6221 has no installable options.
    OPTIONS = "0"
    TRACE_MAX_POINTS = 65536

    def __init__(self, load_ohm: float | None = None, clock: Clock | None = None) -> None:
        """`load_ohm`: the coil's resistance; None means an ideal load (never in compliance).
        `clock`: the sim clock the waveform and sweep outputs run on (None: time stands at 0)."""
        super().__init__()
        self.load_ohm = load_ohm
        self.clock = clock
        self.errors = ErrorQueue('0,"No error"')
        self.status = ScpiStatus(self.errors)
        self.parser = self._build_parser()
        self.reset()

    def reset(self) -> None:
        """*RST. Assumed (the manual's *RST table was not available): output off, 0 A, 10 V
        compliance, auto range, 1 ms source delay, display on, no waveform or sweep running."""
        self.output_on = False
        self.current_setpoint_A = 0.0
        self.compliance_V = 10.0
        self.auto_range = True
        self.range_A = 2e-3
        self.source_delay_s = 1e-3
        self.output_low_earthed = False
        self.inner_shield = "OLOW"
        self.display_on = True
        self.display_text = ""
        self.display_text_on = False
        self.beeper_on = True
        self.beeps: list[tuple[float, float]] = []
        self.wave = Waveform()
        self.sweep = Sweep()
        self.wave_armed = False
        self.sweep_armed = False
        self._program: tuple[str, float] | None = None   # ("WAVE"|"SWEEP", start time)
        self._sweep_armed_as: tuple[float, list[float]] = (self.source_delay_s, [])
        self.delta = {"HIGH": 1e-3, "LOW": -1e-3, "DEL": 2e-3, "COUN": math.inf}
        self.delta_compliance_abort = False
        self.delta_cold_switch = False
        self.reading_unit = "V"
        self.trace_points = 100
        self.trace_feed = "SENS1"
        self.trace_control = "NEV"
        self.data_format = "ASC"
        self.trigger: dict[str, str | float] = {"ARM:SOUR": "IMM", "ARM:TIM": 0.1, "ARM:ILIN": 1, "ARM:OLIN": 2,
                        "TRIG:SOUR": "IMM", "TRIG:ILIN": 1, "TRIG:OLIN": 2, "TRIG:OUTP": "NONE"}

    # --- what the physics reads ------------------------------------------------------------
    def _now(self) -> float:
        return self.clock.now_s() if self.clock is not None else 0.0

    def _program_current_A(self) -> float | None:
        """The waveform's or sweep's current now, or None when neither is running."""
        if self._program is None:
            return None
        kind, start = self._program
        elapsed = self._now() - start
        value = (self.wave.current_A(elapsed) if kind == "WAVE"
                 else self.sweep.current_A(elapsed, *self._sweep_armed_as))
        if value is None:
            self._program = None
            self.sweep_armed = self.sweep_armed and kind != "SWEEP"
        return value

    @property
    def output_current_A(self) -> float:
        """The current flowing out of the source, amperes (0 when off, limited by compliance)."""
        if not self.output_on:
            return 0.0
        program = self._program_current_A()
        current = self.current_setpoint_A if program is None else program
        if self.load_ohm and self.load_ohm > 0:
            limit = self.compliance_V / self.load_ohm
            current = max(-limit, min(limit, current))
        return current

    @property
    def in_compliance(self) -> bool:
        """True when the load would need more than the compliance voltage."""
        if not self.output_on or not self.load_ohm:
            return False
        return abs(self.output_current_A) * self.load_ohm >= self.compliance_V * (1 - 1e-12)

    def handle_text(self, text: str) -> str | None:
        self._update_conditions()
        reply = self.parser.execute(text)
        self._update_conditions()
        return reply

    def _update_conditions(self) -> None:
        """The condition bits the twin drives: measurement B3, compliance (manual fig. 11-6)."""
        self.status.measurement.set_condition(MEAS_COMPLIANCE, self.in_compliance)

    def query_interrupted(self) -> None:
        self.errors.push(*QUERY_INTERRUPTED)

    # --- dc source --------------------------------------------------------------------------
    @staticmethod
    def _range_for(current_A: float) -> float:
        return next(r for r in RANGES_A if abs(current_A) <= r * 1.05 or r == RANGES_A[-1])

    def _set_current(self, params: list[str]) -> None:
        value = parse_current(params)
        if self.auto_range:
            self.range_A = self._range_for(value)
        elif abs(value) > self.range_A * 1.05:
            raise fail(OUT_OF_RANGE)
        self.current_setpoint_A = value

    def _set_compliance(self, params: list[str]) -> None:
        self.compliance_V = parse_bounded(params, VOLT_UNITS, minimum=self.MIN_COMPLIANCE_V,
                                          maximum=self.MAX_COMPLIANCE_V, default=10.0)

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
        if not self.output_on:
            self._stop_programs()

    def _clear(self, params: list[str]) -> None:
        no_params(params)
        self.output_on = False
        self._stop_programs()

    def _stop_programs(self) -> None:
        self._program = None
        self.wave_armed = self.sweep_armed = False

    # --- waveform and sweep ---------------------------------------------------------------------
    def _wave_arm(self, params: list[str]) -> None:
        """SOUR:WAVE:ARM: the output turns on, still at the dc level, ready for SOUR:WAVE:INIT
        (assumed; after the duration it is back at the dc level, still armed)."""
        no_params(params)
        if abs(self.wave.offset_A) + abs(self.wave.amplitude_A) > self.MAX_CURRENT_A:
            raise fail(SETTINGS_CONFLICT)
        self._stop_programs()
        self.wave_armed = True
        self.output_on = True

    def _wave_start(self, params: list[str]) -> None:
        no_params(params)
        if not self.wave_armed:
            raise fail(SETTINGS_CONFLICT)
        self._program = ("WAVE", self._now())

    def _wave_abort(self, params: list[str]) -> None:
        """SOUR:WAVE:ABOR: stop and disarm; the output stays on at the dc level (assumed)."""
        no_params(params)
        if self.wave_armed:
            self._stop_programs()

    def _sweep_arm(self, params: list[str]) -> None:
        no_params(params)
        levels = self.sweep.levels_A()
        if not levels or any(abs(v) > self.MAX_CURRENT_A for v in levels):
            raise fail(SETTINGS_CONFLICT)
        self._stop_programs()
        self.sweep_armed = True
        self._sweep_armed_as = (self.source_delay_s, levels)   # later setting changes wait for a new ARM

    def _initiate(self, params: list[str]) -> None:
        """INIT: start an armed sweep (the output turns on); with nothing armed -221 (assumed)."""
        no_params(params)
        if not self.sweep_armed:
            raise fail(SETTINGS_CONFLICT)
        self.output_on = True
        self._program = ("SWEEP", self._now())

    def _sweep_abort(self, params: list[str]) -> None:
        no_params(params)
        if self.sweep_armed:
            self._stop_programs()

    def _abort(self, params: list[str]) -> None:
        """ABOR: stop a running sweep or waveform (the arm state is kept)."""
        no_params(params)
        self._program = None

    def _bus_trigger(self, params: list[str]) -> None:
        """*TRG: nothing in the trigger model waits for a bus trigger here."""
        no_params(params)
        raise fail(TRIGGER_IGNORED)

    # --- delta mode and buffer (need a 2182A) ---------------------------------------------------
    def _delta_arm(self, params: list[str]) -> None:
        no_params(params)
        raise fail(HARDWARE_MISSING)

    def _latest_reading(self, params: list[str]) -> str:
        no_params(params)
        raise fail(SETTINGS_CONFLICT)

    def _trace_data(self, params: list[str]) -> str:
        no_params(params)
        raise fail(DATA_STALE)

    # --- parser ---------------------------------------------------------------------------------
    def _build_parser(self) -> ScpiParser:
        p = ScpiParser(self.errors)
        add_ieee_common(p, self.IDN, self.reset)
        self.status.install(p)
        p.add("*OPT", None, query_of(lambda: self.OPTIONS))
        p.add("*TRG", self._bus_trigger)
        self._add_source(p)
        self._add_output(p)
        self._add_programs(p)
        self._add_delta_and_trace(p)
        self._add_system(p)
        self._add_triggers(p)
        return p

    def _add_source(self, p: ScpiParser) -> None:
        p.add("[SOURce#]:CURRent:[LEVel]:[IMMediate]:[AMPLitude]", self._set_current,
              query_of(lambda: _sci(self.current_setpoint_A)))
        p.add("[SOURce#]:CURRent:COMPliance", self._set_compliance,
              query_of(lambda: _sci(self.compliance_V)))
        p.add("[SOURce#]:CURRent:RANGe", self._set_range, query_of(lambda: _sci(self.range_A)))
        p.add("[SOURce#]:CURRent:RANGe:AUTO", self._set_auto_range,
              query_of(lambda: _flag(self.auto_range)))
        p.add("[SOURce#]:CLEar:[IMMediate]", self._clear)
        self._number(p, "[SOURce#]:DELay", "source_delay_s", SECONDS, 1e-3, 999999.999)

    def _add_output(self, p: ScpiParser) -> None:
        p.add("OUTPut#:[STATe]", self._set_output, query_of(lambda: _flag(self.output_on)))
        self._switch(p, "OUTPut#:LTEarth", "output_low_earthed")
        self._choice(p, "OUTPut#:ISHield", "inner_shield", _choices("GUARd", "OLOW"))

    def _add_programs(self, p: ScpiParser) -> None:
        # *RST replaces self.wave and self.sweep: every handler looks them up when it runs.
        w = "[SOURce#]:WAVE"
        p.add(f"{w}:FUNCtion", lambda a: setattr(self.wave, "function", parse_wave_function(a)),
              query_of(lambda: self.wave.function))
        self._wave_number(p, f"{w}:FREQuency", "freq_hz", HERTZ, 1e-3, 1e5)
        self._wave_number(p, f"{w}:AMPLitude", "amplitude_A", CURRENT_UNITS_A, 2e-12, self.MAX_CURRENT_A)
        self._wave_number(p, f"{w}:OFFSet", "offset_A", CURRENT_UNITS_A, -self.MAX_CURRENT_A,
                          self.MAX_CURRENT_A)
        self._wave_number(p, f"{w}:DCYCle", "duty_pct", PLAIN, 0.0, 100.0)
        self._wave_number(p, f"{w}:DURation:TIME", "duration_s", SECONDS, 100e-9, 999999.999, infinite=True)
        p.add(f"{w}:DURation:CYCLes", self._set_cycles,
              query_of(lambda: _sci(self.wave.duration_s * self.wave.freq_hz)))
        p.add(f"{w}:RANGing", lambda a: setattr(self.wave, "ranging", parse_choice(a, _choices("BEST", "FIXed"))),
              query_of(lambda: self.wave.ranging))
        p.add(f"{w}:PMARker:STATe", lambda a: setattr(self.wave, "marker_on", parse_bool(a)),
              query_of(lambda: _flag(self.wave.marker_on)))
        self._wave_number(p, f"{w}:PMARker:[LEVel]", "marker_deg", PLAIN, -180.0, 180.0)
        p.add(f"{w}:PMARker:OLINe", self._set_marker_line, query_of(lambda: str(self.wave.marker_line)))
        p.add(f"{w}:ARBitrary:DATA", self._set_arb_data,
              query_of(lambda: ",".join(f"{v:.6E}" for v in self.wave.arb_points)))
        p.add(f"{w}:ARBitrary:COPY", self._copy_arb)
        p.add(f"{w}:ARM", self._wave_arm, query_of(lambda: _flag(self.wave_armed)))
        p.add(f"{w}:INITiate", self._wave_start)
        p.add(f"{w}:ABORt", self._wave_abort)
        s = "[SOURce#]:SWEep"
        p.add(f"{s}:SPACing", lambda a: setattr(self.sweep, "spacing", parse_choice(a, _choices("LINear", "LOGarithmic", "LIST"))),
              query_of(lambda: self.sweep.spacing))
        for header, name in (("STARt", "start_A"), ("STOP", "stop_A"), ("STEP", "step_A")):
            p.add(f"[SOURce#]:CURRent:{header}", self._sweep_setter(name), self._sweep_reply(name))
        p.add(f"{s}:POINts", self._set_sweep_points, query_of(lambda: str(self.sweep.points)))
        p.add(f"{s}:COUNt", self._set_sweep_count, query_of(lambda: _sci(self.sweep.count)))
        p.add(f"{s}:RANGing", lambda a: setattr(self.sweep, "ranging", parse_choice(a, _choices("BEST", "AUTO", "FIXed"))),
              query_of(lambda: self.sweep.ranging))
        p.add(f"{s}:CABort", lambda a: setattr(self.sweep, "compliance_abort", parse_bool(a)),
              query_of(lambda: _flag(self.sweep.compliance_abort)))
        p.add("[SOURce#]:LIST:CURRent", lambda a: setattr(self.sweep, "values_A", parse_current_list(a)),
              query_of(lambda: ",".join(_sci(v) for v in self.sweep.values_A)))
        p.add("[SOURce#]:LIST:CURRent:POINts", None, query_of(lambda: str(len(self.sweep.values_A))))
        p.add(f"{s}:ARM", self._sweep_arm, query_of(lambda: _flag(self.sweep_armed)))
        p.add(f"{s}:ABORt", self._sweep_abort)
        p.add("INITiate:[IMMediate]", self._initiate)
        p.add("ABORt", self._abort)

    def _add_delta_and_trace(self, p: ScpiParser) -> None:
        d = "[SOURce#]:DELTa"
        for header, key, low, high in (("HIGH", "HIGH", 0.0, self.MAX_CURRENT_A),
                                       ("LOW", "LOW", -self.MAX_CURRENT_A, 0.0)):
            p.add(f"{d}:{header}", self._delta_setter(key, CURRENT_UNITS_A, low, high), self._delta_reply(key))
        p.add(f"{d}:DELay", self._delta_setter("DEL", SECONDS, 0.0, 9999.999, infinite=True),
              query_of(lambda: _sci(self.delta["DEL"])))
        p.add(f"{d}:COUNt", self._delta_setter("COUN", PLAIN, 1, 65536, infinite=True, integer=True),
              query_of(lambda: _sci(self.delta["COUN"])))
        p.add(f"{d}:CABort", lambda a: setattr(self, "delta_compliance_abort", parse_bool(a)),
              query_of(lambda: _flag(self.delta_compliance_abort)))
        p.add(f"{d}:CSWitch", lambda a: setattr(self, "delta_cold_switch", parse_bool(a)),
              query_of(lambda: _flag(self.delta_cold_switch)))
        p.add(f"{d}:NVPResent", None, query_of(lambda: "0"))
        p.add(f"{d}:ARM", self._delta_arm, query_of(lambda: "0"))
        self._choice(p, "UNIT:VOLTage:[DC]", "reading_unit", _choices("V", "OHMS", "W", "SIEMens"))
        p.add("SENSe#:DATA:[LATest]", None, self._latest_reading)
        p.add("SENSe#:DATA:FRESh", None, self._latest_reading)
        p.add("TRACe:POINts", self._set_trace_points, query_of(lambda: str(self.trace_points)))
        p.add("TRACe:POINts:ACTual", None, query_of(lambda: "0"))
        p.add("TRACe:CLEar", lambda a: no_params(a))
        p.add("TRACe:DATA", None, self._trace_data)
        self._choice(p, "TRACe:FEED", "trace_feed", {**_choices("SENSe1", "CALCulate1"), "SENS": "SENS1",
                                                     "SENSE": "SENS1", "CALC": "CALC1", "CALCULATE": "CALC1"})
        self._choice(p, "TRACe:FEED:CONTrol", "trace_control", _choices("NEXT", "NEVer"))
        self._choice(p, "FORMat:[DATA]", "data_format", _choices("ASCii", "SREal", "DREal"))

    def _add_system(self, p: ScpiParser) -> None:
        self._switch(p, "DISPlay:ENABle", "display_on")
        p.add("DISPlay:[WINDow#]:TEXT:[DATA]", self._set_display_text,
              query_of(lambda: f'"{self.display_text}"'))
        self._switch(p, "DISPlay:[WINDow#]:TEXT:STATe", "display_text_on")
        p.add("SYSTem:BEEPer:[IMMediate]", self._beep)
        self._switch(p, "SYSTem:BEEPer:STATe", "beeper_on")
        p.add("SYSTem:VERSion", None, query_of(lambda: "1999.0"))

    def _add_triggers(self, p: ScpiParser) -> None:
        arm_sources = _choices("IMMediate", "TIMer", "BUS", "TLINk", "BSTest", "PSTest", "NSTest", "MANual")
        self._trigger_choice(p, "ARM:[SEQuence#]:[LAYer#]:SOURce", "ARM:SOUR", arm_sources)
        # Assumed as on the 2400 series: only IMMediate and TLINk drive the trigger layer.
        self._trigger_choice(p, "TRIGger:[SEQuence#]:SOURce", "TRIG:SOUR", _choices("IMMediate", "TLINk"))
        self._trigger_choice(p, "TRIGger:[SEQuence#]:OUTPut", "TRIG:OUTP", _choices("NONE", "SOURce", "DELay"))
        p.add("ARM:[SEQuence#]:[LAYer#]:TIMer", self._trigger_number("ARM:TIM", 1e-3, 99999.99),
              query_of(lambda: _sci(float(self.trigger["ARM:TIM"]))))
        for header, key in (("ARM:[SEQuence#]:[LAYer#]:ILINe", "ARM:ILIN"),
                            ("ARM:[SEQuence#]:[LAYer#]:OLINe", "ARM:OLIN"),
                            ("TRIGger:[SEQuence#]:ILINe", "TRIG:ILIN"),
                            ("TRIGger:[SEQuence#]:OLINe", "TRIG:OLIN")):
            p.add(header, self._trigger_number(key, 1, 6, integer=True), self._trigger_reply(key))

    # --- small command builders -------------------------------------------------------------------
    def _number(self, p: ScpiParser, header: str, name: str, units: dict[str, float],
                low: float, high: float) -> None:
        def run(params: list[str]) -> None:
            setattr(self, name, parse_bounded(params, units, minimum=low, maximum=high))
        p.add(header, run, query_of(lambda: _sci(getattr(self, name))))

    def _switch(self, p: ScpiParser, header: str, name: str) -> None:
        p.add(header, lambda a: setattr(self, name, parse_bool(a)), query_of(lambda: _flag(getattr(self, name))))

    def _choice(self, p: ScpiParser, header: str, name: str, choices: dict[str, str]) -> None:
        p.add(header, lambda a: setattr(self, name, parse_choice(a, choices)),
              query_of(lambda: getattr(self, name)))

    def _trigger_choice(self, p: ScpiParser, header: str, key: str, choices: dict[str, str]) -> None:
        def run(params: list[str]) -> None:
            self.trigger[key] = parse_choice(params, choices)
        p.add(header, run, query_of(lambda: str(self.trigger[key])))

    def _trigger_number(self, key: str, low: float, high: float,
                        integer: bool = False) -> Callable[[list[str]], None]:
        def run(params: list[str]) -> None:
            value = parse_bounded(params, PLAIN if integer else SECONDS, minimum=low, maximum=high)
            self.trigger[key] = round(value) if integer else value
        return run

    def _wave_number(self, p: ScpiParser, header: str, name: str, units: dict[str, float],
                     low: float, high: float, infinite: bool = False) -> None:
        def run(params: list[str]) -> None:
            setattr(self.wave, name, parse_bounded(params, units, minimum=low, maximum=high,
                                                   infinite=infinite))
        p.add(header, run, query_of(lambda: _sci(getattr(self.wave, name))))

    def _set_cycles(self, params: list[str]) -> None:
        cycles = parse_bounded(params, PLAIN, minimum=1e-3, maximum=99999999900.0, infinite=True)
        self.wave.duration_s = cycles / self.wave.freq_hz

    def _set_marker_line(self, params: list[str]) -> None:
        self.wave.marker_line = round(parse_bounded(params, PLAIN, minimum=1, maximum=6))

    def _set_arb_data(self, params: list[str]) -> None:
        self.wave.arb_points = parse_current_list(params, -1.0, 1.0)

    def _copy_arb(self, params: list[str]) -> None:
        slot = round(parse_bounded(params, PLAIN, minimum=1, maximum=4))
        if not self.wave.arb_points:
            raise fail(SETTINGS_CONFLICT)
        self.wave.arbs[f"ARB{slot}"] = list(self.wave.arb_points)

    def _sweep_reply(self, name: str) -> QueryHandler:
        return query_of(lambda: _sci(getattr(self.sweep, name)))

    def _delta_reply(self, key: str) -> QueryHandler:
        return query_of(lambda: _sci(self.delta[key]))

    def _trigger_reply(self, key: str) -> QueryHandler:
        return query_of(lambda: str(self.trigger[key]))

    def _sweep_setter(self, name: str) -> Callable[[list[str]], None]:
        def run(params: list[str]) -> None:
            setattr(self.sweep, name, parse_current(params))
        return run

    def _set_sweep_points(self, params: list[str]) -> None:
        self.sweep.points = round(parse_bounded(params, PLAIN, minimum=1, maximum=65535))

    def _set_sweep_count(self, params: list[str]) -> None:
        count = parse_bounded(params, PLAIN, minimum=1, maximum=65536, infinite=True)
        self.sweep.count = count if math.isinf(count) else round(count)

    def _delta_setter(self, key: str, units: dict[str, float], low: float, high: float,
                      infinite: bool = False, integer: bool = False) -> Callable[[list[str]], None]:
        def run(params: list[str]) -> None:
            value = parse_bounded(params, units, minimum=low, maximum=high, infinite=infinite)
            self.delta[key] = value if math.isinf(value) or not integer else round(value)
            if key == "HIGH":     # the manual: setting high also sets low to -high
                self.delta["LOW"] = -value
        return run

    def _set_trace_points(self, params: list[str]) -> None:
        self.trace_points = round(parse_bounded(params, PLAIN, minimum=1, maximum=self.TRACE_MAX_POINTS))

    def _set_display_text(self, params: list[str]) -> None:
        text = ",".join(params).strip()
        if len(text) < 2 or text[0] not in "'\"" or text[-1] != text[0]:
            raise fail((-151, "Invalid string data"))
        if len(text) - 2 > 20:
            raise fail((-223, "Too much data"))
        self.display_text = text[1:-1]

    def _beep(self, params: list[str]) -> None:
        """SYST:BEEP <freq>, <time>: 65 Hz - 2 MHz, 0 - 7.9 s (the ranges PyMeasure documents)."""
        if len(params) != 2:
            raise fail((-109, "Missing parameter") if len(params) < 2 else (-108, "Parameter not allowed"))
        freq = parse_bounded([params[0]], HERTZ, minimum=65.0, maximum=2e6)
        duration = parse_bounded([params[1]], SECONDS, minimum=0.0, maximum=7.9)
        if self.beeper_on:
            self.beeps.append((freq, duration))
            del self.beeps[:-10]

