"""HP 8647A rf signal generator emulator (GPIB, SCPI; same command set as the HP 8648 family).

Models what the double-resonance scans use: the CW frequency (1 Hz resolution, 250 kHz - 1 GHz),
the amplitude (0.1 dB resolution, -136 dBm up to +10 dBm; the +10 dBm top is not verified, some
sources say +3), the rf output switch and the AM/FM/PM switches, with the SCPI error queue.
The physics reads `freq_hz`, `amplitude_dBm`, `output_on` (and `modulation_on`).
"""

from __future__ import annotations

from kmor.sim.instruments.base import EmulatorBase
from kmor.sim.instruments.scpi import (
    OUT_OF_RANGE,
    QUERY_INTERRUPTED,
    ErrorQueue,
    ScpiParser,
    add_ieee_common,
    fail,
    no_params,
    nr3,
    parse_bool,
    parse_value,
    query_of,
)

FREQ_UNITS_HZ = {"": 1.0, "HZ": 1.0, "KHZ": 1e3, "MHZ": 1e6, "GHZ": 1e9}
POWER_UNITS_DBM = {"": 1.0, "DBM": 1.0}


class HP8647AEmulator(EmulatorBase):
    """Byte-level twin of an HP 8647A. Terminations: LF (with EOI on GPIB) both ways."""

    read_termination = "\n"
    write_termination = "\n"
    input_terminators = b"\n"
    output_policy = "interrupt"

    MIN_FREQ_HZ = 250e3
    MAX_FREQ_HZ = 1e9
    MIN_AMPLITUDE_DBM = -136.0
    MAX_AMPLITUDE_DBM = 10.0  # not verified (some sources say +3 dBm)
    #: Not verified: the exact 8647A identity text; manufacturer and model are what drivers check.
    IDN = "Hewlett-Packard,8647A,3633U00451,B.04.07"

    def __init__(self) -> None:
        super().__init__()
        self.errors = ErrorQueue('+0,"No error"')
        self.parser = self._build_parser()
        self.reset()

    def reset(self) -> None:
        """Preset state (*RST). Assumed: 1 GHz, -136 dBm, rf off, modulation off."""
        self.freq_hz = 1e9
        self.amplitude_dBm = self.MIN_AMPLITUDE_DBM
        self.output_on = False
        self.modulation_on = {"AM": False, "FM": False, "PM": False}

    def handle_text(self, text: str) -> str | None:
        return self.parser.execute(text)

    def query_interrupted(self) -> None:
        self.errors.push(*QUERY_INTERRUPTED)

    # --- handlers -------------------------------------------------------------------------
    def _set_freq(self, params: list[str]) -> None:
        value = parse_value(params, FREQ_UNITS_HZ, minimum=self.MIN_FREQ_HZ, maximum=self.MAX_FREQ_HZ)
        value = float(round(value))  # 1 Hz resolution
        if not self.MIN_FREQ_HZ <= value <= self.MAX_FREQ_HZ:
            raise fail(OUT_OF_RANGE)
        self.freq_hz = value

    def _set_amplitude(self, params: list[str]) -> None:
        value = parse_value(params, POWER_UNITS_DBM, minimum=self.MIN_AMPLITUDE_DBM,
                            maximum=self.MAX_AMPLITUDE_DBM)
        value = round(value, 1)  # 0.1 dB resolution
        if not self.MIN_AMPLITUDE_DBM <= value <= self.MAX_AMPLITUDE_DBM:
            raise fail(OUT_OF_RANGE)
        self.amplitude_dBm = value

    def _set_output(self, params: list[str]) -> None:
        self.output_on = parse_bool(params)

    def _modulation(self, kind: str) -> tuple:
        def set_state(params: list[str]) -> None:
            self.modulation_on[kind] = parse_bool(params)

        def query_state(params: list[str]) -> str:
            no_params(params)
            return "1" if self.modulation_on[kind] else "0"

        return set_state, query_state

    def _build_parser(self) -> ScpiParser:
        p = ScpiParser(self.errors)
        freq = query_of(lambda: nr3(self.freq_hz))
        p.add("[SOURce]:FREQuency:[CW]", self._set_freq, freq)
        p.add("[SOURce]:FREQuency:FIXed", self._set_freq, freq)
        p.add("[SOURce]:POWer:[LEVel]:[AMPLitude]", self._set_amplitude,
              query_of(lambda: nr3(self.amplitude_dBm, 2)))
        p.add("OUTPut:[STATe]", self._set_output, query_of(lambda: "1" if self.output_on else "0"))
        for kind in ("AM", "FM", "PM"):
            p.add(f"[SOURce]:{kind}:STATe", *self._modulation(kind))
        add_ieee_common(p, self.IDN, self.reset, opc_reply="+1")
        return p
