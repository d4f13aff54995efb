"""The Log tab words a lock hold as what it is: Lock off releases the lock (not an abort), and the
hold's waiting (the engine's pause) is not logged as a pause; a step's label is not said twice."""

from __future__ import annotations

from gui_helpers import click, wait_idle

from kmor.gui.panels.log import event_detail
from kmor.sequences import events as ev
from kmor.sequences.events import Event


def test_lock_off_is_logged_as_released_not_aborted(qtbot, window):
    panel = window.lock_panel
    window.tabs.setCurrentWidget(panel)
    click(qtbot, panel.lock_on)
    qtbot.waitUntil(lambda: window.session.state == "locked", timeout=30_000)
    click(qtbot, panel.lock_off)
    wait_idle(qtbot, window)
    lines = window.log_panel.visible_lines()
    held = lines[next(i for i, line in enumerate(lines) if "laser lock held by the window" in line):]
    assert any(line.endswith("run: lock released (Lock off)") for line in held), held
    assert any(line.endswith("lock ended: released (Lock off)") for line in held), held
    assert not [line for line in held if "aborted" in line or "paused" in line], held


def test_a_label_equal_to_the_message_is_said_once():
    e = Event(kind=ev.STEP_STARTED, time_s=0.0, label="laser lock", message="laser lock")
    assert event_detail(e) == "laser lock"
