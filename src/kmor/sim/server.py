"""TCP server for the emulators: each instrument on its own port, raw socket, the instrument's own
terminations (reach it with pyvisa-py as `TCPIP::127.0.0.1::PORT::SOCKET`).

Received bytes are split on the instrument's input terminators; every message is handled under the
emulator's lock (one command at a time per instrument, whichever client or transport sends it) and
the reply goes straight back with the instrument's reply terminator. A socket has no read request,
so the TLB-6300's "every read returns the last response" quirk is reproduced on a Prologix-style
`++read` line, which re-sends the instrument's most recent response (docs/decisions/0023); other
`++` lines are ignored. A client that sends more than `max_command_bytes` without a terminator is
disconnected; a client that disconnects mid-command loses only its partial command.

Fault injection (`set_fault`, the same hooks as the VISA backend's, kmor.sim.faults): a hook sees
each message and each reply; returning None loses it, raising drops the client's connection.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Mapping

from pyvisa.errors import VisaIOError

from kmor.sim.instruments.base import Emulator, framed_reply

log = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 64 * 1024
_POLL_S = 0.1


class _Listener:
    """One listening socket serving one emulator to any number of clients."""

    def __init__(self, server: SimServer, emulator: Emulator, host: str, port: int) -> None:
        self.server = server
        self.emulator = emulator
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.sock.settimeout(_POLL_S)
        self.port = self.sock.getsockname()[1]
        self.last_response: bytes | None = None
        self.fault = None
        self.thread = threading.Thread(target=self._accept_loop, daemon=True,
                                       name=f"kmor-sim-port-{self.port}")

    def _accept_loop(self) -> None:
        while not self.server.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            thread = threading.Thread(target=self._serve_client, args=(conn,), daemon=True,
                                      name=f"kmor-sim-client-{self.port}")
            self.server.track(conn, thread)
            thread.start()

    def _serve_client(self, conn: socket.socket) -> None:
        conn.settimeout(_POLL_S)
        buf = bytearray()
        terminators = self.emulator.input_terminators
        try:
            while not self.server.stopping.is_set():
                self._send_stream(conn)
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                if not data:
                    return  # client went away; a partial command is dropped
                buf.extend(data)
                start = 0
                for i, byte in enumerate(buf):
                    if byte in terminators:
                        try:
                            self._answer(conn, bytes(buf[start:i]))
                        except VisaIOError:
                            log.warning("port %d: fault injection drops the connection", self.port)
                            return
                        start = i + 1
                del buf[:start]
                if len(buf) > self.server.max_command_bytes:
                    log.warning("port %d: command over %d bytes without terminator; closing",
                                self.port, self.server.max_command_bytes)
                    return
        except OSError:
            return
        finally:
            self.server.untrack(conn)
            conn.close()

    def _send_stream(self, conn: socket.socket) -> None:
        """Bytes an instrument sends unasked (the SR830's FAST data transfer), every poll."""
        take = getattr(self.emulator, "take_stream", None)
        if take is None:
            return
        with self.emulator.lock:
            data = take()
        if data:
            conn.sendall(data)

    def _answer(self, conn: socket.socket, message: bytes) -> None:
        if not message.strip():
            return
        if message.strip().startswith(b"++"):
            self._adapter_command(conn, message.strip())
            return
        fault = self.fault
        if fault is not None:
            message = fault("write", message)
            if message is None:
                return
        emulator = self.emulator
        with emulator.lock:
            try:
                reply = emulator.handle(message)
            except Exception:  # an emulator bug must not take the port down
                log.exception("port %d: emulator failed on %r", self.port, message)
                return
            if reply is None:
                return
            framed = framed_reply(reply, emulator.read_termination)
            self.last_response = framed
        if fault is not None:
            framed = fault("read", framed)
            if framed is None:
                return
        conn.sendall(framed)

    def _adapter_command(self, conn: socket.socket, message: bytes) -> None:
        if message.lower().startswith(b"++read") and self.emulator.output_policy == "replace":
            with self.emulator.lock:
                framed = self.last_response
            if framed:
                conn.sendall(framed)


class SimServer:
    """Serves emulators on TCP ports; `ports` maps each requested port to the bound one."""

    def __init__(self, emulators: Mapping[int, Emulator], host: str = "127.0.0.1",
                 max_command_bytes: int = MAX_COMMAND_BYTES) -> None:
        self.host = host
        self.max_command_bytes = max_command_bytes
        self.stopping = threading.Event()
        self._requested = dict(emulators)
        self._listeners: dict[int, _Listener] = {}
        self._clients: dict[socket.socket, threading.Thread] = {}
        self._clients_lock = threading.Lock()

    @property
    def ports(self) -> dict[int, int]:
        """Requested port (keys of the mapping given) -> the port actually bound."""
        return {key: listener.port for key, listener in self._listeners.items()}

    def port_of(self, emulator: Emulator) -> int:
        """The TCP port serving this emulator."""
        for listener in self._listeners.values():
            if listener.emulator is emulator:
                return listener.port
        raise KeyError("emulator not served here")

    def set_fault(self, emulator: Emulator, fault) -> None:
        """Insert (or remove, with None) a fault hook (kmor.sim.faults) on the port serving
        `emulator`; the server must be started."""
        for listener in self._listeners.values():
            if listener.emulator is emulator:
                listener.fault = fault
                return
        raise KeyError("emulator not served here")

    def start(self) -> SimServer:
        """Bind every port and start serving. Keys <= 0 ask the OS for a free port."""
        if self._listeners:
            raise RuntimeError("server already started")
        self.stopping.clear()
        try:
            for key, emulator in self._requested.items():
                self._listeners[key] = _Listener(self, emulator, self.host, max(0, key))
        except OSError:
            self.stop()
            raise
        for listener in self._listeners.values():
            listener.thread.start()
        return self

    def track(self, conn: socket.socket, thread: threading.Thread) -> None:
        with self._clients_lock:
            self._clients[conn] = thread

    def untrack(self, conn: socket.socket) -> None:
        with self._clients_lock:
            self._clients.pop(conn, None)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Close every port and client connection and wait for the threads to end."""
        self.stopping.set()
        for listener in self._listeners.values():
            listener.sock.close()
        with self._clients_lock:
            clients = list(self._clients.items())
        for conn, _ in clients:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for listener in self._listeners.values():
            if listener.thread.is_alive():
                listener.thread.join(timeout_s)
        for _, thread in clients:
            thread.join(timeout_s)
        self._listeners.clear()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(emulators: Mapping[int, Emulator], host: str = "127.0.0.1") -> SimServer:
    """A server for `{port: emulator}` (not started: call `.start()`, or use it as a context
    manager). Binds loopback unless another host is given; a port <= 0 picks a free one."""
    return SimServer(emulators, host)
