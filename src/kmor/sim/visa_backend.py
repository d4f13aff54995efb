"""A pyvisa backend whose resources are the byte-level instrument emulators.

`pyvisa.ResourceManager(SimVisaLibrary.from_emulators({"GPIB0::19::INSTR": gen, ...}))` (or
`pyvisa.ResourceManager("@kmorsim")` for the default set, see `set_default_factory`) gives normal
pyvisa resources: `query`, `read`, `write`, terminations, timeouts and `clear` behave as on a GPIB
bus. Per resource the backend keeps the instrument's input and output buffers and applies the
emulator's `output_policy` (docs/decisions/0020): queued replies, IEEE 488.2 "query interrupted",
or the TLB-6300's single slot that every read returns again. A read with nothing to send times
out (`VisaIOError`, VI_ERROR_TMO) and, when the library has a sim clock, costs the timeout in lab
time. Each resource has a `fault` slot for later fault injection (`set_fault`).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyvisa import constants, highlevel, rname
from pyvisa.constants import ResourceAttribute, StatusCode
from pyvisa.typing import VISASession
from pyvisa.util import LibraryPath

from kmor.sim.instruments.base import Emulator, framed_reply


class Fault(Protocol):
    """A fault-injection hook on one resource.

    Called with ("write", bytes the host wrote) before the instrument sees them and with
    ("read", the chunk about to be returned). Return the bytes to pass on (changed or not), None to
    lose them (a lost reply reads as a timeout), or raise `pyvisa.errors.VisaIOError` (e.g.
    VI_ERROR_CONN_LOST) to fail the call.
    """

    def __call__(self, direction: str, data: bytes) -> bytes | None: ...


EmulatorFactory = Callable[[], "Mapping[str, Emulator] | tuple[Mapping[str, Emulator], Any]"]


@dataclass
class _Port:
    """One instrument on the bus: its emulator and the bytes in flight to and from it."""

    emulator: Emulator
    inbuf: bytearray = field(default_factory=bytearray)
    pending: deque[bytearray] = field(default_factory=deque)
    last_response: bytes | None = None
    fault: Fault | None = None


@dataclass
class _Session:
    port: _Port
    attrs: dict[int, Any]
    is_gpib: bool


def _canonical(resource_name: str) -> str:
    try:
        return str(rname.parse_resource_name(resource_name))
    except rname.InvalidResourceName:
        return resource_name


def _split_messages(port: _Port, eoi: bool) -> list[bytes]:
    """Take every complete message out of the port's input buffer (EOI ends one too)."""
    terminators = port.emulator.input_terminators
    messages = []
    start = 0
    buf = port.inbuf
    for i, byte in enumerate(buf):
        if byte in terminators:
            messages.append(bytes(buf[start:i]))
            start = i + 1
    rest = bytes(buf[start:])
    buf.clear()
    if eoi and rest:
        messages.append(rest)
    else:
        buf.extend(rest)
    return [m for m in messages if m.strip()]


class SimVisaLibrary(highlevel.VisaLibraryBase):
    """pyvisa library whose resources are emulators (resource name -> emulator)."""

    _instance_counter = itertools.count()
    _INSTANCE_PREFIX = "kmorsim-instance-"

    @staticmethod
    def get_library_paths() -> tuple[LibraryPath, ...]:
        # one path per default factory, so "@kmorsim" after set_default_factory builds a new set
        return (LibraryPath(f"default-{_factory_generation}"),)

    @staticmethod
    def get_debug_info() -> dict[str, str]:
        return {"backend": "kmor simulated instruments"}

    def _init(self) -> None:
        self._lock = threading.RLock()
        self.sessions: dict[int, Any] = {}
        self._ports: dict[str, _Port] = {}
        self.clock = None
        if not str(self.library_path).startswith(self._INSTANCE_PREFIX):
            built = _default_factory()
            emulators, clock = built if isinstance(built, tuple) else (built, None)
            self._install(emulators, clock)

    @classmethod
    def from_emulators(cls, emulators: Mapping[str, Emulator], clock=None) -> SimVisaLibrary:
        """A library serving these emulators; `clock` (a SimClock) makes timeouts cost lab time."""
        lib = cls(LibraryPath(f"{cls._INSTANCE_PREFIX}{next(cls._instance_counter)}"))
        lib._install(emulators, clock)
        return lib

    def _install(self, emulators: Mapping[str, Emulator], clock) -> None:
        self.clock = clock
        self._ports = {_canonical(name): _Port(emulator) for name, emulator in emulators.items()}

    @property
    def emulators(self) -> dict[str, Emulator]:
        """Canonical resource name -> emulator."""
        return {name: port.emulator for name, port in self._ports.items()}

    def set_fault(self, resource_name: str, fault: Fault | None) -> None:
        """Insert (or remove, with None) a fault hook on one resource."""
        self._ports[_canonical(resource_name)].fault = fault

    # --- sessions -------------------------------------------------------------------------
    def _register(self, obj: Any) -> int:
        with self._lock:
            session = random.randint(1_000_000, 9_999_999)
            while session in self.sessions:
                session = random.randint(1_000_000, 9_999_999)
            self.sessions[session] = obj
            return session

    def _session(self, session: Any) -> _Session:
        sess = self.sessions.get(session)
        if not isinstance(sess, _Session):
            self.handle_return_value(session, StatusCode.error_invalid_object)  # raises VisaIOError
            raise TypeError(f"VISA session {session!r} is not an open instrument session")
        return sess

    def open_default_resource_manager(self):
        return self._register(self), self.handle_return_value(None, StatusCode.success)

    def open(self, session, resource_name: str,
             access_mode=constants.AccessModes.no_lock,
             open_timeout=constants.VI_TMO_IMMEDIATE):
        try:
            parsed = rname.parse_resource_name(resource_name)
        except rname.InvalidResourceName:
            return 0, self.handle_return_value(None, StatusCode.error_invalid_resource_name)
        port = self._ports.get(str(parsed))
        if port is None:
            return 0, self.handle_return_value(None, StatusCode.error_resource_not_found)
        is_gpib = parsed.interface_type_const == constants.InterfaceType.gpib
        attrs: dict[int, Any] = {
            ResourceAttribute.resource_name: str(parsed),
            ResourceAttribute.resource_class: parsed.resource_class,
            ResourceAttribute.interface_type: parsed.interface_type_const,
            ResourceAttribute.interface_number: int(getattr(parsed, "board", 0) or 0),
            ResourceAttribute.resource_manufacturer_name: "kmor simulated lab",
            ResourceAttribute.timeout_value: 2000,
            ResourceAttribute.termchar: ord("\n"),
            ResourceAttribute.termchar_enabled: False,
            ResourceAttribute.send_end_enabled: True,
            ResourceAttribute.suppress_end_enabled: False,
            ResourceAttribute.io_prot: constants.IOProtocol.normal,
            ResourceAttribute.dma_allow_enabled: False,
        }
        if isinstance(parsed, rname.GPIBInstr):
            attrs[ResourceAttribute.gpib_primary_address] = int(parsed.primary_address)
            attrs[ResourceAttribute.gpib_secondary_address] = (
                int(parsed.secondary_address) if parsed.secondary_address is not None
                else constants.VI_NO_SEC_ADDR)
        sess = _Session(port, attrs, is_gpib)
        return self._register(sess), self.handle_return_value(None, StatusCode.success)

    def close(self, session):
        with self._lock:
            if session not in self.sessions:
                return self.handle_return_value(session, StatusCode.error_invalid_object)
            del self.sessions[session]
        return StatusCode.success

    def list_resources(self, session, query: str = "?*::INSTR") -> tuple[str, ...]:
        return rname.filter(tuple(self._ports), query)

    # --- attributes -----------------------------------------------------------------------
    def get_attribute(self, session, attribute):
        sess = self.sessions.get(session)
        if sess is self:
            return None, self.handle_return_value(session, StatusCode.error_nonsupported_attribute)
        sess = self._session(session)
        if attribute not in sess.attrs:
            return None, self.handle_return_value(session, StatusCode.error_nonsupported_attribute)
        return sess.attrs[attribute], self.handle_return_value(session, StatusCode.success)

    def set_attribute(self, session, attribute, attribute_state):
        sess = self._session(session)
        sess.attrs[attribute] = attribute_state
        return self.handle_return_value(session, StatusCode.success)

    # --- message-based I/O ----------------------------------------------------------------
    def write(self, session, data: bytes):
        sess = self._session(session)
        port = sess.port
        delivered = port.fault("write", bytes(data)) if port.fault else bytes(data)
        if delivered is not None:
            eoi = sess.is_gpib and bool(sess.attrs[ResourceAttribute.send_end_enabled])
            with port.emulator.lock:
                port.inbuf.extend(delivered)
                for message in _split_messages(port, eoi):
                    self._deliver(port, message)
        return len(data), self.handle_return_value(session, StatusCode.success)

    @staticmethod
    def _deliver(port: _Port, message: bytes) -> None:
        emulator = port.emulator
        policy = emulator.output_policy
        if policy == "interrupt" and port.pending:
            port.pending.clear()
            emulator.query_interrupted()
        reply = emulator.handle(message)
        if reply is None:
            return
        framed = framed_reply(reply, emulator.read_termination)
        if policy == "replace":
            port.pending.clear()
            port.last_response = framed
        port.pending.append(bytearray(framed))

    def read(self, session, count: int):
        sess = self._session(session)
        port = sess.port
        with port.emulator.lock:
            chunk, status = self._take(sess, count)
        if chunk is not None and port.fault:
            chunk = port.fault("read", chunk)
        if chunk is None:
            return b"", self._time_out(sess)
        return chunk, self.handle_return_value(session, status)

    @staticmethod
    def _take(sess: _Session, count: int) -> tuple[bytes | None, StatusCode]:
        port = sess.port
        if not port.pending and port.emulator.output_policy == "replace" and port.last_response:
            port.pending.append(bytearray(port.last_response))
        if not port.pending:
            return None, StatusCode.error_timeout
        message = port.pending[0]
        end = min(count, len(message))
        status = StatusCode.success_max_count_read
        if sess.attrs[ResourceAttribute.termchar_enabled]:
            found = message.find(bytes([sess.attrs[ResourceAttribute.termchar]]), 0, end)
            if found >= 0:
                end = found + 1
                status = StatusCode.success_termination_character_read
        chunk = bytes(message[:end])
        del message[:end]
        if not message:
            port.pending.popleft()
            if status != StatusCode.success_termination_character_read:
                status = StatusCode.success
        return chunk, status

    def _time_out(self, sess: _Session) -> StatusCode:
        timeout_ms = sess.attrs.get(ResourceAttribute.timeout_value, 2000)
        if self.clock is not None and timeout_ms not in (None, constants.VI_TMO_INFINITE):
            self.clock.sleep(float(timeout_ms) / 1000.0)
        session = next((VISASession(k) for k, v in self.sessions.items() if v is sess), None)
        return self.handle_return_value(session, StatusCode.error_timeout)

    def clear(self, session):
        sess = self._session(session)
        with sess.port.emulator.lock:
            sess.port.inbuf.clear()
            sess.port.pending.clear()
            sess.port.emulator.device_clear()
        return self.handle_return_value(session, StatusCode.success)

    def flush(self, session, mask):
        self._session(session)
        return self.handle_return_value(session, StatusCode.success)

    def read_stb(self, session):
        sess = self._session(session)
        mav = 16 if sess.port.pending else 0
        return mav, self.handle_return_value(session, StatusCode.success)

    def assert_trigger(self, session, protocol):
        self._session(session)
        return self.handle_return_value(session, StatusCode.success)

    def gpib_control_ren(self, session, mode):
        self._session(session)
        return self.handle_return_value(session, StatusCode.success)

    def lock(self, session, lock_type, timeout, requested_key=None):
        self._session(session)
        return requested_key or "", self.handle_return_value(session, StatusCode.success)

    def unlock(self, session):
        self._session(session)
        return self.handle_return_value(session, StatusCode.success)

    def enable_event(self, session, event_type, mechanism, context=None):
        return StatusCode.success

    def disable_event(self, session, event_type, mechanism):
        return StatusCode.success

    def discard_events(self, session, event_type, mechanism):
        return StatusCode.success


# --- the default set behind "@kmorsim" ---------------------------------------------------------
DEFAULT_ADDRESSES = {
    "rf_generator": "GPIB0::19::INSTR",
    "counter": "GPIB0::16::INSTR",
    "lockin_polarimeter": "GPIB0::8::INSTR",
    "lockin_reference": "GPIB0::9::INSTR",
    "laser": "GPIB0::1::INSTR",
    "coil_x": "GPIB0::12::INSTR",
    "coil_y": "GPIB0::13::INSTR",
    "coil_z": "GPIB0::14::INSTR",
}


def default_emulators() -> tuple[dict[str, Emulator], Any]:
    """A stand-alone set of emulators on `DEFAULT_ADDRESSES`, without the cell physics: the counter
    reads the generator's frequency, the lock-ins see no signal and a little noise. Returns
    (resource name -> emulator, the SimClock they share)."""
    import numpy as np

    from kmor.sim.clock import SimClock
    from kmor.sim.instruments import (
        HP8647AEmulator,
        Keithley6221Emulator,
        SR620Emulator,
        SR830Emulator,
        TLB6300Emulator,
    )
    from kmor.sim.physics.laser import Laser
    from kmor.sim.physics.params import LaserParams

    clock = SimClock()
    rng = np.random.default_rng(0)
    gen = HP8647AEmulator()
    by_role: dict[str, Emulator] = {
        "rf_generator": gen,
        "counter": SR620Emulator(clock, lambda: gen.freq_hz if gen.output_on else None,
                                 lambda: True, rng),
        "lockin_polarimeter": SR830Emulator(clock, lambda h: 0j, lambda: 10e-9, rng),
        "lockin_reference": SR830Emulator(clock, lambda h: 0j, lambda: 10e-9, rng),
        "laser": TLB6300Emulator(clock, power_factor=Laser(LaserParams(), rng).power_factor),
        "coil_x": Keithley6221Emulator(),
        "coil_y": Keithley6221Emulator(),
        "coil_z": Keithley6221Emulator(),
    }
    return {DEFAULT_ADDRESSES[role]: emu for role, emu in by_role.items()}, clock


_default_factory: EmulatorFactory = default_emulators
_factory_generation = 0


def set_default_factory(factory: EmulatorFactory) -> None:
    """Replace what `ResourceManager("@kmorsim")` serves: `factory()` returns a mapping resource
    name -> emulator, or (that mapping, sim clock). Resource managers opened with "@kmorsim" after
    this call get a library built by the new factory; ones already open keep theirs."""
    global _default_factory, _factory_generation
    _default_factory = factory
    _factory_generation += 1
