"""Byte-level emulators of the apparatus's instruments, written from their manuals.

Each emulator takes one received message (`handle(line: bytes) -> bytes | None`) and keeps the
public state the physics reads; transports (`kmor.sim.visa_backend`, `kmor.sim.server`) add
terminators, buffering and timeouts.
"""

from kmor.sim.instruments.base import Emulator, EmulatorBase
from kmor.sim.instruments.hp8647a import HP8647AEmulator
from kmor.sim.instruments.keithley6221 import Keithley6221Emulator
from kmor.sim.instruments.sr620 import SR620Emulator
from kmor.sim.instruments.sr830 import SR830Emulator
from kmor.sim.instruments.tlb6300 import TLB6300Emulator

__all__ = [
    "Emulator",
    "EmulatorBase",
    "HP8647AEmulator",
    "Keithley6221Emulator",
    "SR620Emulator",
    "SR830Emulator",
    "TLB6300Emulator",
]
