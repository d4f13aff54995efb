"""Errors raised by the instrument drivers.

Everything derives from `InstrumentError`, so a sequence can catch one class for "the hardware said
no" and still tell a timeout (worth retrying a point) from a refused setting (a bug or a config
error) by the subclass. Each error names the instrument, the command and the reply it concerns,
because the person reading the message at 3 a.m. is standing next to the rack, not the code.
"""

from __future__ import annotations


class InstrumentError(Exception):
    """An instrument refused, failed or answered nonsense.

    `instrument` is a human label such as "SR830 lock-in (GPIB0::8::INSTR)"; `command` and `reply`
    are the exchange concerned (None when not applicable).
    """

    def __init__(self, message: str, *, instrument: str = "", command: str | None = None,
                 reply: str | None = None) -> None:
        super().__init__(message)
        self.instrument = instrument
        self.command = command
        self.reply = reply


class InstrumentTimeout(InstrumentError):
    """No reply in time, even after one retry."""


class InstrumentConnectionError(InstrumentError):
    """The connection to the instrument dropped and could not be restored (after retries)."""


class InstrumentReplyError(InstrumentError):
    """A reply that is empty, not text, or cannot be parsed as what the command returns."""


class InstrumentStatusError(InstrumentError):
    """The instrument's own error status (error queue, status bits, error reply) reported a fault
    after a command."""


class WrongInstrument(InstrumentError):
    """The resource answered *IDN? with something other than the expected model."""


class SettingOutOfRange(InstrumentError, ValueError):
    """A value outside what the instrument (or the lab's safety limit) allows; raised BEFORE
    anything is sent."""


class ReferenceClockMissing(InstrumentStatusError):
    """The SR620 reports no 10 MHz reference clock (ERRS? bit 1): its frequency readings are not
    referenced to the lab standard and must not be trusted."""


class DaqUnavailable(InstrumentError):
    """The NI-DAQmx driver (the C library behind the `nidaqmx` package) is not installed or no
    device answers."""


class DaqOperationError(InstrumentError):
    """NI-DAQmx refused or failed an operation (wraps `nidaqmx.errors.DaqError`)."""


class CoilLimitError(SettingOutOfRange):
    """A coil field, current or voltage beyond the configured safety limit; nothing was sent."""
