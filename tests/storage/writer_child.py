"""A writer process for the storage tests (not a test module).

    python writer_child.py PATH kill      append forever, printing each acknowledged count
    python writer_child.py PATH live N    append N points, print N, wait for stdin to close, close
    python writer_child.py PATH diskfull  cap the file size just above the new file (RLIMIT_FSIZE),
                                          append until StorageError; print "acked N" and "error MSG"

Row i holds i, sin(i), "up"/"down", 7*i; every 13th point adds a suspension and every 17th an
array, so kills also land inside those writes. Columns grow 8 rows at a time to exercise growth.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

from kmor.storage import ScanWriter, StorageError

COLUMNS = {"i": "", "x_V": "V", "direction": ("", "str"), "k": ("", "i8")}


def row(i: int) -> dict:
    return {"i": float(i), "x_V": math.sin(i), "direction": "up" if i % 2 else "down", "k": 7 * i}


def open_writer(path: str) -> ScanWriter:
    return ScanWriter(path, kind="bscan", columns=COLUMNS, parameters={"step_uG": 1.0},
                      snapshot={"lockin": {"tau_s": 0.1}}, config_text="[lab]\n", kmor_version="test",
                      expected_points=16, chunk_rows=8, min_free_bytes=0)


def kill_mode(path: str) -> None:
    w = open_writer(path)
    print(0, flush=True)
    i = 0
    while True:
        n = w.append(row(i))
        if i % 13 == 5:
            w.add_suspension(float(i), i + 0.5, f"lock lost at {i}")
        if i % 17 == 3:
            w.write_array(f"a{i}", np.arange(i + 1.0), "V")
        print(n, flush=True)
        i += 1


def live_mode(path: str, n: int) -> None:
    with open_writer(path) as w:
        for i in range(n):
            w.append(row(i))
        print(n, flush=True)
        sys.stdin.read()


def diskfull_mode(path: str) -> None:
    import resource
    import signal

    w = open_writer(path)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG from write() instead of a signal
    limit = os.path.getsize(path) + 512
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    acked = 0
    try:
        for i in range(100_000):
            acked = w.append(row(i))
    except StorageError as e:
        print(f"error {e}", flush=True)
    try:
        w.append(row(acked))
    except StorageError as e:
        print(f"again {e}", flush=True)
    w.close()
    print(f"acked {acked}", flush=True)


if __name__ == "__main__":
    mode = sys.argv[2]
    if mode == "kill":
        kill_mode(sys.argv[1])
    elif mode == "live":
        live_mode(sys.argv[1], int(sys.argv[3]))
    else:
        diskfull_mode(sys.argv[1])
