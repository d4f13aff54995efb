"""kmor.drivers: one file per instrument, its command language and nothing else.

Message-based instruments derive from `VisaInstrument` (visa_instrument.py) and declare their
settings with `Setting` (settings.py); every error derives from `InstrumentError` (errors.py).
The sequences use these through small protocols, never through the concrete classes.
"""

from kmor.drivers.errors import (CoilLimitError, DaqOperationError, DaqUnavailable,
                                 InstrumentError, InstrumentReplyError, InstrumentStatusError,
                                 InstrumentTimeout, ReferenceClockMissing, SettingOutOfRange,
                                 WrongInstrument)

__all__ = ["InstrumentError", "InstrumentTimeout", "InstrumentReplyError", "InstrumentStatusError",
           "WrongInstrument", "SettingOutOfRange", "ReferenceClockMissing", "DaqUnavailable",
           "DaqOperationError", "CoilLimitError"]
