"""HP 8647A rf signal generator (GPIB; the SCPI-like command set of the HP 8648 family).

In the double-resonance scans it steps the rf near the 39K 0-0 hyperfine frequency (about
461.7197 MHz) in 1 Hz steps, in CW: all modulation off. After every frequency change the driver
waits for `*OPC?` so that a reading taken afterwards sees the new frequency.

Assumed where the manual text was not found: the *IDN? reply contains "8647A"; SYST:ERR? answers
SCPI style `0,"No error"`; the +10 dBm maximum amplitude (some sources say +3 dBm), which is why
the constructor takes the maximum so the lab's safety limit can lower it.
"""

from __future__ import annotations

from typing import Any

from kmor.drivers.errors import SettingOutOfRange
from kmor.drivers.settings import InRange, Setting, parse_bool01, parse_int
from kmor.drivers.visa_instrument import ScpiErrorQueue, VisaInstrument

FREQ_MIN_HZ = 250e3
FREQ_MAX_HZ = 1e9
AMPLITUDE_MIN_DBM = -136.0
AMPLITUDE_MAX_DBM = 10.0   # not verified (some sources: +3 dBm)

_ON_OFF = {True: "ON", False: "OFF"}


class HP8647A(ScpiErrorQueue, VisaInstrument):
    """HP 8647A synthesized signal generator: CW frequency (Hz), amplitude (dBm), rf output."""

    model = "HP 8647A signal generator"
    name = "hp8647a"
    idn_pattern = r"8647A"
    read_termination = "\n"
    write_termination = "\n"
    timeout_ms = 5000

    freq_hz = Setting(get="FREQ:CW?", set="FREQ:CW {:.0f}", units="Hz",
                      check=InRange(FREQ_MIN_HZ, FREQ_MAX_HZ, resolution=1.0),
                      doc="CW output frequency, 1 Hz resolution (rounded); waits for *OPC?")
    amplitude_dBm = Setting(get="POW:AMPL?", set="POW:AMPL {:.1f} DBM", units="dBm",
                            check=InRange(AMPLITUDE_MIN_DBM,
                                          lambda inst: inst.max_amplitude_dBm, resolution=0.1),
                            doc="output level, 0.1 dB steps, capped by the lab's safety maximum")
    rf_on = Setting(get="OUTP:STAT?", set="OUTP:STAT {}", values=_ON_OFF, parse=parse_bool01,
                    reverse_map=False, doc="rf output on/off")
    am_on = Setting(get="AM:STAT?", set="AM:STAT {}", values=_ON_OFF, parse=parse_bool01,
                    reverse_map=False, doc="amplitude modulation on/off")
    fm_on = Setting(get="FM:STAT?", set="FM:STAT {}", values=_ON_OFF, parse=parse_bool01,
                    reverse_map=False, doc="frequency modulation on/off")
    pm_on = Setting(get="PM:STAT?", set="PM:STAT {}", values=_ON_OFF, parse=parse_bool01,
                    reverse_map=False, doc="phase modulation on/off")

    def __init__(self, resource: str | Any, visa_library: Any = "@py", *,
                 max_amplitude_dBm: float = AMPLITUDE_MAX_DBM, **kwargs: Any) -> None:
        """`max_amplitude_dBm`: the lab's safety limit (<= +10 dBm); higher levels are refused
        before anything is sent."""
        if not AMPLITUDE_MIN_DBM <= max_amplitude_dBm <= AMPLITUDE_MAX_DBM:
            raise SettingOutOfRange(
                f"{self.model}: max_amplitude_dBm = {max_amplitude_dBm} must lie in "
                f"{AMPLITUDE_MIN_DBM} .. {AMPLITUDE_MAX_DBM} dBm", instrument=self.model)
        self.max_amplitude_dBm = float(max_amplitude_dBm)
        super().__init__(resource, visa_library, **kwargs)

    def send_setting(self, command: str) -> None:
        """Frequency changes wait for *OPC? before the error queue is read."""
        self.write(command)
        if command.startswith("FREQ:CW "):
            self.wait_complete()
        self.check_status(command)

    def wait_complete(self) -> None:
        """Block until the generator reports all pending operations complete (*OPC? -> 1)."""
        reply = self.query("*OPC?")
        try:
            done = parse_int(reply)
        except ValueError as exc:
            raise self.reply_error("*OPC?", reply, "is not 1") from exc
        if done != 1:
            raise self.reply_error("*OPC?", reply, "is not 1")

    def modulation_off(self) -> None:
        """Switch AM, FM and PM off (the double-resonance scans need a clean CW carrier)."""
        self.am_on = False
        self.fm_on = False
        self.pm_on = False
