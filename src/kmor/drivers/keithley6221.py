"""Keithley 6221 current source (SCPI over GPIB / RS-232 / LAN), one per coil axis when the coils
are driven by current sources rather than DAQ outputs.

The coil driver (coils.py) talks to it in microgauss through a calibration; this file only speaks
the instrument's language: output current in amperes (+-105 mA), voltage compliance, range,
output on/off, `SOUR:CLE` (source off, current to zero), SYST:ERR? after every setting. Its *IDN?
reply carries trailing spaces ("...,D04  /700x "), which the base strips.
"""

from __future__ import annotations

from kmor.drivers.settings import InRange, Setting, parse_int
from kmor.drivers.visa_instrument import ScpiErrorQueue, VisaInstrument

CURRENT_MAX_A = 0.105
COMPLIANCE_MIN_V = 0.1
COMPLIANCE_MAX_V = 105.0
RANGE_MAX_A = 0.105


class Keithley6221(ScpiErrorQueue, VisaInstrument):
    """Keithley 6221 DC current source: current (A), compliance (V), range, output."""

    model = "Keithley 6221 current source"
    name = "keithley6221"
    idn_pattern = r"MODEL 622[01]"       # the DC-only 6220 speaks the same DC commands
    read_termination = "\n"
    write_termination = "\n"
    timeout_ms = 3000

    current_A = Setting(get="SOUR:CURR?", set="SOUR:CURR {:.6e}", units="A",
                        check=InRange(-CURRENT_MAX_A, CURRENT_MAX_A),
                        doc="DC output current")
    compliance_V = Setting(get="SOUR:CURR:COMP?", set="SOUR:CURR:COMP {:.3f}", units="V",
                           check=InRange(COMPLIANCE_MIN_V, COMPLIANCE_MAX_V),
                           doc="voltage compliance")
    range_A = Setting(get="SOUR:CURR:RANG?", set="SOUR:CURR:RANG {:.6e}", units="A",
                      check=InRange(0.0, RANGE_MAX_A),
                      doc="source range (the instrument picks the range that holds the value)")
    auto_range = Setting(get="SOUR:CURR:RANG:AUTO?", set="SOUR:CURR:RANG:AUTO {}",
                         values={True: 1, False: 0}, parse=parse_int, doc="automatic range")
    output_on = Setting(get="OUTP?", set="OUTP {}", values={True: 1, False: 0}, parse=parse_int,
                        doc="output on/off")

    def source_clear(self) -> None:
        """SOUR:CLE: turn the source off (output current to zero, output off)."""
        self.send_setting("SOUR:CLE")
