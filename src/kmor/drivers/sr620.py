"""SRS SR620 universal time-interval counter (GPIB or RS-232; SRS syntax, not SCPI).

In the apparatus it counts the rf frequency on input A against the lab's external 10 MHz
reference, so the recorded rf frequency is the one the atoms saw. Facts used from the manual:
several queries on one line come back as ONE line joined by ';'; every command has a query form
(`MODE?`); *ESR? bits 4/5 flag out-of-range parameters / unknown commands; ERRS? bit 1 is "no
clock" (10 MHz not present). A missing reference with the external clock selected raises
`ReferenceClockMissing`: a counter running on nothing would report plausible nonsense.

Assumed: `GATE x` is what sets the gate when arming is "+time" (ARMM 1), range 1 ms .. 500 s;
`STRT;*WAI;XAVG?;XJIT?` measures `sample_size` samples and returns mean and jitter (std dev with
JTTR 0) on one line.
"""

from __future__ import annotations

from typing import ClassVar

from kmor.drivers.errors import InstrumentStatusError, ReferenceClockMissing
from kmor.drivers.settings import InRange, OneOf, Setting, parse_int
from kmor.drivers.visa_instrument import SrsStatusBytes, VisaInstrument

MODES = {"time": 0, "width": 1, "rise_fall": 2, "frequency": 3, "period": 4, "phase": 5,
         "count": 6}
SOURCES = {"A": 0, "B": 1, "REF": 2, "A/B": 3}
ARMING = {"+-time": 0, "+time": 1, "1_period": 2, "0.01s": 3, "0.1s": 4, "1s": 5,
          "ext_+-time": 6, "ext_+time": 7, "ext_1_period": 8, "ext_0.01s": 9, "ext_0.1s": 10,
          "ext_1s": 11, "ext_gate": 12}
SAMPLE_SIZES = tuple(int(m * 10 ** e) for e in range(7) for m in (1, 2, 5) if m * 10 ** e <= 1e6)
GATE_MIN_S = 1e-3
GATE_MAX_S = 500.0
_ON = {True: 1, False: 0}


class SR620(SrsStatusBytes, VisaInstrument):
    """SR620 counter set up to measure frequency on input A against an external 10 MHz clock."""

    model = "SR620 counter"
    name = "sr620"
    idn_pattern = r"StanfordResearchSystems,SR620"
    read_termination = "\n"          # GPIB: LF + EOI (RS-232: pass read_termination="\r\n")
    write_termination = "\n"
    timeout_ms = 3000
    joined_replies_on_one_line = True
    ERRS_BITS: ClassVar[dict[int, str]] = {1: "no clock (10 MHz reference not present)"}

    mode = Setting(get="MODE?", set="MODE {}", values=MODES, parse=parse_int,
                   doc="measurement mode")
    source = Setting(get="SRCE?", set="SRCE {}", values=SOURCES, parse=parse_int,
                     doc="measurement source")
    arming = Setting(get="ARMM?", set="ARMM {}", values=ARMING, parse=parse_int,
                     doc="arming mode (fixed 0.01/0.1/1 s gates, or '+time' with gate_s)")
    gate_s = Setting(get="GATE?", set="GATE {:g}", units="s",
                     check=InRange(GATE_MIN_S, GATE_MAX_S), doc="gate time (internal gate)")
    sample_size = Setting(get="SIZE?", set="SIZE {:d}", check=OneOf(SAMPLE_SIZES),
                          parse=parse_int, doc="samples per measurement, 1-2-5 sequence")
    jitter_type = Setting(get="JTTR?", set="JTTR {}", values={"std_dev": 0, "allan": 1},
                          parse=parse_int, doc="jitter statistic")
    auto_measure = Setting(get="AUTM?", set="AUTM {}", values=_ON, parse=parse_int,
                           doc="free-running measurements (off when the computer takes data)")
    external_clock = Setting(get="CLCK?", set="CLCK {}", values=_ON, parse=parse_int,
                             doc="use the rear-panel external reference clock")
    external_clock_freq_hz = Setting(get="CLKF?", set="CLKF {}", values={10e6: 0, 5e6: 1},
                                     parse=parse_int, units="Hz",
                                     doc="frequency of the external reference")

    measurement_timeout_s: float = 10.0

    def configure_frequency(self, *, gate_s: float = 1.0, sample_size: int = 1,
                            external_reference: bool = True) -> None:
        """Frequency of input A, `sample_size` samples of `gate_s` each, auto-measure off,
        std-dev jitter, external 10 MHz reference (when `external_reference`)."""
        self.auto_measure = False
        self.mode = "frequency"
        self.source = "A"
        self.arming = "+time"
        self.gate_s = gate_s
        self.sample_size = sample_size
        self.jitter_type = "std_dev"
        if external_reference:
            self.external_clock_freq_hz = 10e6
        self.external_clock = external_reference
        self.measurement_timeout_s = gate_s * sample_size * 1.5 + 3.0

    def measure_frequency(self, *, timeout_s: float | None = None) -> tuple[float, float]:
        """Start one measurement and wait for it: (mean_hz, jitter_hz) of `sample_size` gates.

        The reply timeout is `measurement_timeout_s` (gate x size plus margin once
        `configure_frequency` ran) unless given. Raises ReferenceClockMissing when the external
        clock is selected but absent."""
        if timeout_s is None:
            timeout_s = self.measurement_timeout_s
        command = "STRT;*WAI;XAVG?;XJIT?"        # STRT and *WAI answer nothing
        reply = self.query(command, timeout_ms=int(timeout_s * 1000))
        parts = reply.split(";")
        try:
            mean_hz, jitter_hz = (float(part) for part in parts)
        except ValueError as exc:
            raise self.reply_error(command, reply,
                                   "is not two ';'-joined numbers (mean;jitter)") from exc
        self.check_status(command)
        return mean_hz, jitter_hz

    def check_status(self, command: str) -> None:
        """*ESR? errors raise InstrumentStatusError; ERRS? "no clock" with the external clock
        selected raises ReferenceClockMissing (with the internal clock it is only logged)."""
        esr, errs = self.read_status_bytes()
        errors = self.describe_status(esr, errs & ~0b10)
        if errs & 0b10:
            if self.external_clock:
                raise ReferenceClockMissing(
                    f"{self.label}: no 10 MHz reference clock after {command!r} (ERRS? = {errs}, "
                    f"external clock selected): check the reference cable to the rear panel",
                    instrument=self.label, command=command, reply=str(errs))
            self.log.info("%s: ERRS? no-clock bit set while on the internal clock", self.label)
        if errors:
            raise InstrumentStatusError(
                f"{self.label}: after {command!r} the instrument reported: {'; '.join(errors)}",
                instrument=self.label, command=command, reply=f"*ESR {esr}; ERRS {errs}")
