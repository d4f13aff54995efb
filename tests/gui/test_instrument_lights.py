"""The Instruments tab's lock-in overload light follows the run: a point that ranged the lock-in up
after an overload turns it amber with the sensitivities, a new run starts it green."""

from __future__ import annotations

from gui_helpers import click, wait_idle

from kmor.sequences import events as ev
from kmor.sequences.events import Event

RANGING_UP = """
[batch]
name = "ranging-up"

[[steps]]
kind = "laser"
settle_s = 0.1

[[steps]]
kind = "lock_point_search"
piezo_start_pct = 44.0
piezo_stop_pct = 51.0
piezo_step_pct = 0.5
field_uG = 6.0
light_power_uW = 10.0

[[steps]]
kind = "bscan"
field_range_uG = 40.0
step_uG = 2.0
averages = 2
time_constant_s = 0.03
light_power_uW = 10.0
sensitivity_V = 1e-5
"""


def test_an_overload_during_a_run_lights_the_polarimeter_overload(qtbot, window, tmp_path):
    path = tmp_path / "ranging.toml"
    path.write_text(RANGING_UP)
    lights = window.instruments_panel
    assert window.batch_panel.load(path)
    click(qtbot, window.batch_panel.buttons.start_button)
    qtbot.waitUntil(lambda: lights.light_state("overload_pol") == "warn", timeout=60_000)
    assert "ranged up to" in lights.light_text("overload_pol")
    wait_idle(qtbot, window)


def test_an_overload_at_1_V_is_red_until_the_point_is_taken_again(window):
    lights = window.instruments_panel
    info = {"suspender": "lock-in overload"}
    lights.on_events([Event(kind=ev.RUN_STARTED, time_s=0.0)])
    assert lights.light_state("overload_pol") == "ok"
    lights.on_events([Event(kind=ev.SUSPENDED, time_s=1.0, info=info,
                            message="lock-in overload: lock-in overloaded at its coarsest sensitivity (1 V)")])
    assert lights.light_state("overload_pol") == "bad"
    lights.on_events([Event(kind=ev.RESUMED, time_s=3.0, info=info)])
    assert lights.light_state("overload_pol") == "warn"
    assert lights.light_text("overload_pol") == "overloaded at 1 V; the point was measured again"


def test_read_now_while_another_read_is_in_flight_is_not_ignored(qtbot, window, monkeypatch):
    """The lock tab's monitor reads the instruments a few times a second; Read now must not be
    lost when it lands during one of those reads."""
    import time

    from kmor.gui.panels import instruments

    monkeypatch.setattr(instruments, "POLL_INTERVAL_S", 1e6)   # no periodic read to hide a lost click
    panel = window.instruments_panel
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: window.session.poll(lambda station: time.sleep(0.5), lambda result: None),
                    timeout=10_000)                                   # another read in flight
    panel.status = None
    click(qtbot, panel.refresh_button)
    qtbot.waitUntil(lambda: panel.status is not None, timeout=10_000)
