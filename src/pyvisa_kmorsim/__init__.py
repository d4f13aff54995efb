"""pyvisa backend entry point: `pyvisa.ResourceManager("@kmorsim")` loads this module's
WRAPPER_CLASS (pyvisa imports backends as `pyvisa_<name>`). The emulators it serves come from
`kmor.sim.visa_backend.set_default_factory`."""

from kmor.sim.visa_backend import SimVisaLibrary

WRAPPER_CLASS = SimVisaLibrary

__all__ = ["WRAPPER_CLASS"]
