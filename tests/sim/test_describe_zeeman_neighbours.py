"""`kmor sim describe` lists the 0-0 line's Zeeman neighbours at the rf scans' field."""

from __future__ import annotations

import re

from kmor.sim.describe import describe_lab
from kmor.sim.physics.constants import LARMOR_F2_HZ_PER_UG


def _rows(text: str) -> dict[tuple[int, int], float]:
    return {(int(a), int(b)): float(f) for a, b, f in
            re.findall(r"^\s+(-?\d) -> (-?\d)\s+(?:pi|sigma)\s+(-?[\d.]+) Hz", text, re.MULTILINE)}


def test_describe_prints_the_nine_lines_at_1400_uG():
    text = describe_lab()
    assert "Zeeman neighbours of the 0-0 line at Bz = 1400 uG" in text
    rows = _rows(text)
    assert len(rows) == 9 and rows[(0, 0)] == 0.0
    # the nearest neighbours sit one F=2 Larmor frequency away (linear Zeeman effect at 1.4 mG)
    assert abs(rows[(0, 1)] - LARMOR_F2_HZ_PER_UG * 1400) < 1.0
    assert rows[(0, -1)] == -rows[(0, 1)] and rows[(1, 2)] > rows[(1, 1)] > rows[(0, 1)]


def test_the_field_can_be_chosen():
    rows = _rows(describe_lab(bz_uG=700.0))
    assert abs(rows[(0, 1)] - LARMOR_F2_HZ_PER_UG * 700) < 1.0
