"""New Focus Velocity TLB-6300 diode-laser controller (GPIB or RS-232).

The laser is tuned by the piezo of its external cavity; the lock correction and the 1 kHz
modulation go into the controller's frequency-modulation input from a DAQ analog output (not
through this driver).

The 6300 answers EVERY command with exactly one message: set commands answer `OK`, faults answer
`Out of Range` or `Unknown Command`, queries answer the value. Its GPIB is non-standard: a read
with nothing new returns the most recent response again, so reading twice after one command
silently returns stale data. This driver therefore reads exactly once after every command, and
treats any non-`OK` answer to a set command as an error. `SENS:` reads are sent without `?` (the
manual's form). On RS-232 (19200 baud) each command carries an `@` prefix and lines end in CR.

Assumed (not verified on a 6300): *IDN? contains "6300"; the wavelength range and maximum diode
current depend on the laser head, so both are constructor arguments; front power is in mW.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kmor.drivers.errors import InstrumentStatusError, InstrumentTimeout
from kmor.drivers.settings import InRange, Setting, parse_int
from kmor.drivers.visa_instrument import VisaInstrument

ERROR_REPLIES = ("OUT OF RANGE", "UNKNOWN COMMAND")


class TLB6300(VisaInstrument):
    """TLB-6300 controller: output, wavelength (nm), piezo (% of range), diode current (mA)."""

    model = "TLB-6300 laser controller"
    name = "tlb6300"
    idn_pattern = r"6300"
    read_termination = "\n"
    write_termination = "\n"
    timeout_ms = 3000

    output_on = Setting(get="OUTP?", set="OUTP {}", values={True: 1, False: 0}, parse=parse_int,
                        doc="laser emission on/off")
    wavelength_nm = Setting(get="SENS:WAVE", set="WAVE {:.3f}", units="nm",
                            check=InRange(lambda inst: inst.wavelength_range_nm[0],
                                          lambda inst: inst.wavelength_range_nm[1]),
                            doc="wavelength setpoint; reads the measured wavelength")
    piezo_pct = Setting(get="SENS:VOLT:PIEZ", set="VOLT {:.2f}", units="%",
                        check=InRange(0.0, 100.0),
                        doc="piezo voltage in % of full scale; reads the actual value")
    current_mA = Setting(get="SENS:CURR:DIOD", set="CURR {:.2f}", units="mA",
                         check=InRange(0.0, lambda inst: inst.max_current_mA),
                         doc="diode current setpoint; reads the actual current")
    front_power_mW = Setting(get="SENS:POW:FRON", units="mW", snapshot=True,
                             doc="front-facet power monitor")

    def __init__(self, resource: str | Any, visa_library: Any = "@py", *,
                 wavelength_range_nm: tuple[float, float] = (765.0, 781.0),
                 max_current_mA: float = 100.0, rs232: bool = False, **kwargs: Any) -> None:
        """`wavelength_range_nm` and `max_current_mA`: the head's limits (or the lab's safety
        limits), checked before anything is sent. `rs232`: '@' prefix, CR terminations, and 19200
        baud when the port is opened here."""
        lo, hi = wavelength_range_nm
        if not 0 < lo < hi:
            raise ValueError(f"wavelength_range_nm must be (lo, hi) with 0 < lo < hi, got "
                             f"{wavelength_range_nm}")
        if not max_current_mA > 0:
            raise ValueError(f"max_current_mA must be positive, got {max_current_mA}")
        self.wavelength_range_nm = (float(lo), float(hi))
        self.max_current_mA = float(max_current_mA)
        self.command_prefix = "@" if rs232 else ""
        if rs232:
            kwargs.setdefault("read_termination", "\r")
            kwargs.setdefault("write_termination", "\r")
            if isinstance(resource, str):
                kwargs["open_kwargs"] = {"baud_rate": 19200, **kwargs.get("open_kwargs", {})}
        super().__init__(resource, visa_library, **kwargs)

    # Every command gets exactly one read: writes are queries whose answer must be OK.
    def write(self, command: str) -> None:
        """Send a command and read its single answer, which must be `OK`."""
        reply = self.query(command)
        if reply.strip().upper() != "OK":
            raise InstrumentStatusError(
                f"{self.label}: {command!r} answered {reply!r} instead of OK",
                instrument=self.label, command=command, reply=reply)

    def send_setting(self, command: str) -> None:
        self.write(command)

    def _write_raw(self, command: str) -> None:
        super()._write_raw(self.command_prefix + command)

    def _check_reply(self, command: str, reply: str) -> None:
        if reply.strip().upper() in ERROR_REPLIES:
            raise InstrumentStatusError(f"{self.label}: {command!r} answered {reply!r}",
                                        instrument=self.label, command=command, reply=reply)

    def track_mode_off(self) -> None:
        """Leave track mode (OUTP:TRAC OFF), so the wavelength setpoint is not followed
        continuously and the piezo is free for scanning and locking."""
        self.send_setting("OUTP:TRAC OFF")

    def operation_complete(self) -> bool:
        """*OPC?: True when the last operation (e.g. a wavelength move) is finished; the 6300
        answers 0 while busy instead of holding the reply."""
        reply = self.query("*OPC?")
        try:
            state = parse_int(reply)
        except ValueError as exc:
            raise self.reply_error("*OPC?", reply, "is not 0 or 1") from exc
        if state not in (0, 1):
            raise self.reply_error("*OPC?", reply, "is not 0 or 1")
        return state == 1

    def wait_complete(self, sleep: Callable[[float], None], *, poll_s: float = 0.1,
                      timeout_s: float = 30.0) -> None:
        """Poll `operation_complete()` every `poll_s` (waiting with `sleep`, so it runs on the
        simulated clock too) until done; InstrumentTimeout after `timeout_s`."""
        waited_s = 0.0
        while not self.operation_complete():
            if waited_s >= timeout_s:
                raise InstrumentTimeout(f"{self.label}: still busy (*OPC? 0) after {timeout_s} s",
                                        instrument=self.label, command="*OPC?", reply="0")
            sleep(poll_s)
            waited_s += poll_s
