"""The text progress line shows the step, the point in the scan and the time left."""

from __future__ import annotations

import io

from kmor.sequences import events as ev
from kmor.sequences.events import Event
from kmor.sequences.progress import TextProgress


def test_progress_line_and_scan_lines():
    out = io.StringIO()
    show = TextProgress(out, min_interval_s=0.0)
    common = dict(step=4, n_steps=7, label="bscan 2 uW", remaining_s=3725.0)
    show(Event(kind=ev.SCAN_STARTED, time_s=0.0, scan="00003-bscan.h5", total=802, **common))
    show(Event(kind=ev.POINT, time_s=1.0, index=400, total=802, **common))
    show(Event(kind=ev.SUSPENDED, time_s=2.0, message="laser lock lost", **common))
    show(Event(kind=ev.SCAN_FINISHED, time_s=3.0, scan="00003-bscan.h5", status="complete",
               index=802, total=802, **common))
    shown = [part.rstrip() for part in out.getvalue().replace("\n", "\r").split("\r")]
    assert "step 5/7 bscan 2 uW [##########..........] 401/802  left: 1 h 02 min lab time" in shown
    assert "suspended: laser lock lost" in shown
    assert "scan complete: 00003-bscan.h5 (802 points)" in shown
    assert out.getvalue().endswith("\n")
