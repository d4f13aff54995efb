"""TCP server: each emulator on its own loopback port, reached through pyvisa-py SOCKET resources."""

import socket
import threading

import pyvisa
import pytest

from kmor.sim.instruments import HP8647AEmulator, TLB6300Emulator
from kmor.sim.server import serve
from kmor.sim.visa_backend import default_emulators


@pytest.fixture
def served():
    emulators, _ = default_emulators()
    ordered = list(emulators.values())
    server = serve({-i: emu for i, emu in enumerate(ordered)}).start()
    ports = [server.ports[-i] for i in range(len(ordered))]
    yield server, list(zip(ordered, ports))
    server.stop()


def connect(port, timeout_s=2.0):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout_s)


def recv_line(sock, terminator=b"\n"):
    data = b""
    while not data.endswith(terminator):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_every_emulator_answers_through_pyvisa_py_sockets(served):
    server, pairs = served
    assert len(set(server.ports.values())) == len(pairs)
    rm = pyvisa.ResourceManager("@py")
    try:
        for emulator, port in pairs:
            inst = rm.open_resource(f"TCPIP::127.0.0.1::{port}::SOCKET",
                                    read_termination=emulator.read_termination,
                                    write_termination=emulator.write_termination, timeout=2000)
            idn = inst.query("*IDN?")
            assert idn == emulator.handle(b"*IDN?").decode()
            inst.close()
    finally:
        rm.close()


def test_listens_on_loopback_only(served):
    server, pairs = served
    assert server.host == "127.0.0.1"
    with connect(pairs[0][1]) as sock:
        assert sock.getpeername()[0] == "127.0.0.1"


def test_replies_carry_the_instruments_terminator():
    laser = TLB6300Emulator(power_factor=lambda mA: 1.0)
    with serve({0: laser}) as server:
        with connect(server.ports[0]) as sock:
            sock.sendall(b"OUTP 1\r")
            assert recv_line(sock) == b"OK\r\n"


def test_tlb6300_quirk_by_prologix_style_read_request():
    laser = TLB6300Emulator(power_factor=lambda mA: 1.0)
    with serve({0: laser}) as server:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(f"TCPIP::127.0.0.1::{server.ports[0]}::SOCKET",
                                read_termination="\r\n", write_termination="\n", timeout=2000)
        assert inst.query("CURR 45") == "OK"
        assert inst.query("SENS:CURR:DIOD") == "0.0"
        inst.write("++read")
        assert inst.read() == "0.0"
        rm.close()


def test_several_clients_at_once_each_line_runs_as_one_unit():
    gen = HP8647AEmulator()
    with serve({0: gen}) as server:
        port = server.ports[0]
        failures = []

        def client(k):
            with connect(port) as sock:
                for i in range(40):
                    freq = 1_000_000 + 1000 * k + i
                    sock.sendall(f"FREQ:CW {freq};:FREQ:CW?\n".encode())
                    reply = recv_line(sock)
                    if float(reply) != freq:
                        failures.append((k, i, reply))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert not failures
        assert 1_000_000 <= gen.freq_hz < 1_004_000


def test_client_disconnecting_mid_command_does_not_execute_it_or_stop_the_port():
    gen = HP8647AEmulator()
    with serve({0: gen}) as server:
        with connect(server.ports[0]) as sock:
            sock.sendall(b"FREQ:CW 5 MH")
        with connect(server.ports[0]) as sock:
            sock.sendall(b"FREQ:CW?\n")
            assert float(recv_line(sock)) == 1e9
        assert gen.freq_hz == 1e9


def test_oversized_command_closes_that_connection_only():
    gen = HP8647AEmulator()
    with serve({0: gen}) as server:
        with connect(server.ports[0]) as big:
            try:
                big.sendall(b"A" * (70 * 1024))
                closed = big.recv(10) == b""
            except ConnectionResetError:
                closed = True
            assert closed
        with connect(server.ports[0]) as sock:
            sock.sendall(b"*IDN?\n")
            assert recv_line(sock).startswith(b"Hewlett-Packard")


def test_stop_closes_the_ports():
    gen = HP8647AEmulator()
    server = serve({0: gen}).start()
    port = server.ports[0]
    idle = connect(port)
    server.stop()
    try:
        assert idle.recv(10) == b""
    except ConnectionResetError:
        pass  # closed before it was accepted: the kernel resets it
    idle.close()
    with pytest.raises(OSError):
        connect(port, timeout_s=0.5).close()
