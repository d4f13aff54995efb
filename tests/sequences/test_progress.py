"""The text progress: the step, the point in the scan, the lab and wall time left; a rewritten line
on a terminal, plain lines into a file."""

from __future__ import annotations

import io

from kmor.sequences import events as ev
from kmor.sequences.events import Event
from kmor.sequences.progress import TextProgress, WallRate


def _shown(out: io.StringIO) -> list[str]:
    return [part.rstrip() for part in out.getvalue().replace("\n", "\r").split("\r")]


def test_progress_line_and_scan_lines():
    out = io.StringIO()
    show = TextProgress(out, min_interval_s=0.0, interactive=True)
    common = {"step": 4, "n_steps": 7, "label": "bscan 2 uW", "remaining_s": 3725.0}
    show(Event(kind=ev.SCAN_STARTED, time_s=0.0, scan="00003-bscan.h5", total=802, **common))
    show(Event(kind=ev.POINT, time_s=1.0, index=400, total=802, **common))
    show(Event(kind=ev.SUSPENDED, time_s=2.0, message="laser lock lost", **common))
    show(Event(kind=ev.SCAN_FINISHED, time_s=3.0, scan="00003-bscan.h5", status="complete",
               index=802, total=802, **common))
    show(Event(kind=ev.FINISHED, time_s=4.0, status="complete", **common))
    shown = _shown(out)
    assert "step 5/7 bscan 2 uW [##########..........] 401/802  left: 1 h 02 min lab time" in shown
    assert "suspended: laser lock lost" in shown
    assert "scan complete: 00003-bscan.h5 (802 points)" in shown
    assert out.getvalue().endswith("\n")


def test_into_a_file_plain_periodic_lines_without_carriage_returns():
    out = io.StringIO()
    show = TextProgress(out, line_interval_s=30.0, interactive=False)
    common = {"step": 0, "n_steps": 2, "label": "bscan", "total": 1000}
    for i in range(1000):   # one point a second of wall time for 1000 s
        show(Event(kind=ev.POINT, time_s=10.0 * i, index=i, remaining_s=10.0 * (1000 - i),
                   wall_time_unix_s=1000.0 + i, **common))
    show(Event(kind=ev.SCAN_FINISHED, time_s=1e4, scan="00001-bscan.h5", status="complete", index=1000,
               wall_time_unix_s=2000.0, **common))
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert 30 <= len(lines) <= 36          # 1000 s / 30 s, plus the first and the scan line
    assert lines[-1] == "scan complete: 00001-bscan.h5 (1000 points)"
    assert lines[-2] == ("step 1/2 bscan [###################.] 991/1000  "
                         "left: 1 min 40 s lab time, ~10 s wall")   # 100 s of lab time x 0.1 wall/lab


def test_wall_estimate_follows_the_station_clock_not_the_estimate_jumps():
    """A job that ends early makes the lab-time estimate drop in a step; the wall rate (wall s per
    lab s on the station clock) must not jump with it."""
    rate = WallRate()
    rates = []
    for i in range(600):   # steady 0.01 wall s per lab s
        rate.add(wall_s=i * 1.0, lab_s=i * 100.0)
        if (r := rate.rate()) is not None:
            rates.append(r)
    assert min(rates) == max(rates) == 0.01


def test_left_is_updated_on_step_events_without_points():
    out = io.StringIO()
    show = TextProgress(out, min_interval_s=0.0, interactive=True)
    show(Event(kind=ev.STEP_STARTED, time_s=0.0, step=1, n_steps=3, label="laser lock", remaining_s=600.0))
    show(Event(kind=ev.LOCK, time_s=20.0, step=1, n_steps=3, label="laser lock", remaining_s=580.0,
               message="locked"))
    show(Event(kind=ev.STEP_FINISHED, time_s=25.0, step=1, n_steps=3, label="laser lock", remaining_s=575.0))
    shown = _shown(out)
    assert shown[-1] == "step 2/3 laser lock  left: 9 min 35 s lab time"


def test_end_events_do_not_repeat_the_error():
    """How a run ended is the caller's to say once (kmor run prints the pause with the resume command)."""
    out = io.StringIO()
    show = TextProgress(out, interactive=True)
    show(Event(kind=ev.ERROR, time_s=0.0, message="StorageError: disk full"))
    show(Event(kind=ev.FINISHED, time_s=0.0, status="failed", message="StorageError: disk full"))
    assert "disk full" not in out.getvalue()
