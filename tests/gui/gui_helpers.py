"""Helpers shared by the GUI tests (imported as a plain module: tests have no packages)."""

from __future__ import annotations

from PySide6.QtCore import Qt

RUN_TIMEOUT_MS = 60_000


def click(qtbot, button) -> None:
    assert button.isEnabled(), f"{button.text()!r} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def type_into(form, name: str, text: str) -> None:
    """Replace the text of a form field as a user would."""
    editor = form.editors[name]
    editor.setFocus()
    editor.selectAll()
    editor.setText(text)
    editor.editingFinished.emit()


def wait_idle(qtbot, win, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Until the session has no run and the window has seen the end of it."""
    qtbot.waitUntil(lambda: win.session.state == "idle" and not win.session.running, timeout=timeout_ms)
    win.tick()


def is_safe(station) -> bool:
    """rf output off and every coil at zero field (the simulated lab's view)."""
    sim = station.sim
    return (not sim.rf_generator.output_on
            and all(abs(v) < 1e-9 for v in sim.coil_fields_uG().values()))
