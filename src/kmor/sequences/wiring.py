"""Names in a sequence checked against the lab config's wiring, before anything is touched.

A sequence may name things the lab config defines: the DAQ input of a hardware-timed B scan
(`signal_ai`), coil axes, the laser line. Names with a fixed set of values (coil axes, laser
lines, filter slopes) are checked by the schema (`choices`), and every lab config defines all
coils and instruments; the names that depend on the lab's wiring are checked here, so `kmor check` refuses
them with the file, the key and what this lab allows, and `kmor run` never starts a batch that
would fail at that step.
"""

from __future__ import annotations

from typing import Any

_AI_ROLES = (("lock_error_ai", "lock error"), ("light_monitor_ai", "light monitor"),
             ("transmission_ai", "transmission"), ("polarimeter_ai", "polarimeter lock-in"))


def signal_ai_problems(signal_ai: str, daq: Any) -> list[tuple[str, str]]:
    """(key relative to the step, message) if the lab config wires no DAQ input `signal_ai` to
    the polarimeter lock-in (a hardware-timed B scan's input; steps/bscan.py checks it)."""
    wired = ", ".join(f"{getattr(daq, key)} ({role})" for key, role in _AI_ROLES if getattr(daq, key))
    if not daq.polarimeter_ai:
        message = (f"this lab wires no DAQ input to the polarimeter lock-in "
                   f"(daq.polarimeter_ai is empty; wired inputs: {wired}); use hardware_timed = false")
        return [("hardware_timed", message)]
    if signal_ai != daq.polarimeter_ai:   # a channel name without the device, as in the config
        message = (f"{signal_ai!r} is not the polarimeter lock-in's input in this lab: use "
                   f"{daq.polarimeter_ai!r} (daq.polarimeter_ai; wired inputs: {wired})")
        return [("signal_ai", message)]
    return []

