"""`kmor sim serve`: the simulated lab's instruments on TCP ports, in real time, until Ctrl-C.

Any VISA client reaches an instrument as `TCPIP::127.0.0.1::PORT::SOCKET` through pyvisa-py. The
lab runs at real time here (whatever `sim.speed` says) because the clients wait on their own clocks.
"""

from __future__ import annotations

import signal
import threading

from kmor.config.files import load_config
from kmor.sim.lab import SimLab, emulators_by_name
from kmor.sim.server import serve

NAMES = {"rf_generator": "HP 8647A", "counter": "SR620", "lockin_polarimeter": "SR830 (1f, polarimeter)",
         "lockin_reference": "SR830 (2f, reference cell)", "laser": "TLB-6300"}


def instrument_name(key: str) -> str:
    """What `kmor sim serve` calls the instrument on port `[sim.ports] key`."""
    return NAMES.get(key, f"Keithley 6221 (coil {key})")


def serve_lab(config_path: str | None, host: str = "127.0.0.1") -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    loaded = load_config(config_path)
    lab = SimLab(loaded.config, speed=loaded.config.sim.speed or 1.0)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    served = emulators_by_name(lab)
    ports = loaded.config.sim.ports
    try:
        server = serve({getattr(ports, key): emulator for key, emulator in served.items()}, host=host).start()
    except OSError as exc:
        print(f"kmor: error: cannot serve on {host}: {exc.strerror or exc} (ports from [sim.ports] in {loaded.source})")
        return 2
    if lab.io_fault is not None:
        role, fault = lab.io_fault
        server.set_fault(getattr(lab, role), fault)
        print(f"kmor sim serve: fault injection: {fault.kind} on {NAMES[role]}", flush=True)
    print(f"kmor sim serve: the simulated lab from {loaded.source}, real time, on {host}", flush=True)
    for key in served:
        print(f"  {instrument_name(key):<28s} TCPIP::{host}::{server.ports[getattr(ports, key)]}::SOCKET",
              flush=True)
    print("Ctrl-C stops.", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    print("kmor sim serve: stopped", flush=True)
    return 0
