"""A writer killed with SIGKILL at random moments leaves files that plain h5py opens, holding every
acknowledged point with the right values (the real thing: a subprocess, killed for real)."""

from __future__ import annotations

import math
import random
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from kmor.storage import read_scan

CHILD = Path(__file__).with_name("writer_child.py")
N_KILLS = 40
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def kill_writer_at_random_moment(path: Path, rng: random.Random) -> int:
    """Start a writer, let it acknowledge a random number of points (sometimes none), spin a random
    while, SIGKILL it; return the highest count it printed (-1: killed before the file existed)."""
    proc = subprocess.Popen([sys.executable, str(CHILD), str(path), "kill"], stdout=subprocess.PIPE, text=True)
    target = rng.choice([-1, 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 40, 41, 56])
    acked = -1
    while acked < target:
        line = proc.stdout.readline()
        if not line:
            break
        acked = int(line)
    for _ in range(rng.randint(0, 30_000)):  # land anywhere inside the next append/flush
        pass
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return max([acked, *map(int, rest.split())])


def expected_rows(n: int) -> dict[str, list]:
    return {"i": [float(i) for i in range(n)], "x_V": [math.sin(i) for i in range(n)],
            "direction": ["up" if i % 2 else "down" for i in range(n)], "k": [7 * i for i in range(n)]}


def test_sigkill_at_random_moments_keeps_every_acknowledged_point(tmp_path):
    rng = random.Random(20261125)
    checked = 0
    for run in range(N_KILLS):
        path = tmp_path / f"{run:02d}-bscan.h5"
        acked = kill_writer_at_random_moment(path, rng)
        if not path.exists():
            assert acked == -1, f"kill {run}: no file, but {acked} points were acknowledged"
            continue
        with h5py.File(path, "r") as f:  # the plain open the issue asks for
            n_plain = int(f.attrs["n_points"])
            assert f["columns/i"][:n_plain].tolist() == expected_rows(n_plain)["i"]
        scan = read_scan(path)
        assert scan.status == "interrupted", f"kill {run}"
        assert acked <= scan.n_points <= acked + 1, f"kill {run}: acked {acked}, file has {scan.n_points}"
        exp = expected_rows(scan.n_points)
        assert scan.columns["i"].tolist() == exp["i"]
        np.testing.assert_allclose(scan.columns["x_V"], exp["x_V"], rtol=0, atol=0)
        assert scan.columns["direction"].tolist() == exp["direction"]
        assert scan.columns["k"].tolist() == exp["k"]
        # After point i: a suspension if i % 13 == 5, an array if i % 17 == 3 (the last may be cut).
        reasons = [f"lock lost at {i}" for i in range(scan.n_points) if i % 13 == 5]
        assert [s.reason for s in scan.suspensions] in (reasons, reasons[:-1]), f"kill {run}"
        # Arrays: each complete one with its values. A kill while one is being added may cost the
        # scan's arrays group (documented, decision 0057); the reader then says so in `warnings`.
        arrays = [f"a{i}" for i in range(scan.n_points) if i % 17 == 3]
        if not any("arrays group is unreadable" in w for w in scan.warnings):
            assert sorted(scan.arrays, key=lambda a: int(a[1:])) in (arrays, arrays[:-1]), f"kill {run}"
        for name, arr in scan.arrays.items():
            assert arr.tolist() == list(np.arange(int(name[1:]) + 1.0)) and arr.units == "V"
        assert all("array" in w for w in scan.warnings), scan.warnings
        checked += 1
    assert checked >= 30
