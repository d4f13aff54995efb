"""Keep CPython 3.11 alive under PySide6 wheels that drop references to singletons.

Measured here (PySide6 6.12.0, pyqtgraph 0.14, CPython 3.11.7): every `Signal.emit()` lowers the
reference count of True by one, `QLabel.setText` lowers None's, and one pyqtgraph `setData` lowers
True's by about 4 and None's by about 12. These wheels behave as if True, None and the small ints
were immortal, which they are only from CPython 3.12 on. On 3.11 the counts reach zero after a few
thousand redraws and the process aborts ("Fatal Python error: bool_dealloc: deallocating True or
False"), at the latest when the interpreter exits. See docs/decisions/0071.

`immortalize_singletons()` gives those objects a reference count so large (2**40) that no session
can use it up, which is what CPython 3.12 does for them. It does nothing on 3.12 and later, on
other Python implementations, and on debug builds (a different object layout).
"""

from __future__ import annotations

import ctypes
import sys

BUMP = 1 << 40
_done = False


def _singletons() -> list[object]:
    constants: list[object] = [True, False, None, Ellipsis, NotImplemented, (), "", b""]
    return (constants + list(range(-5, 257))
            + [chr(i) for i in range(256)] + [bytes([i]) for i in range(256)])


def immortalize_singletons() -> bool:
    """Make True, False, None, the small ints and the one-character strings effectively immortal
    on CPython < 3.12 (as they are on 3.12+). Returns True if it did so (once per process)."""
    global _done
    if _done:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or hasattr(sys, "getobjects"):
        return False
    probe = ctypes.c_ssize_t.from_address(id(True))
    before = sys.getrefcount(True)
    probe.value += BUMP
    if sys.getrefcount(True) - before != BUMP:  # not the layout we expect: undo, change nothing
        probe.value -= BUMP
        return False
    for obj in _singletons()[1:]:
        ctypes.c_ssize_t.from_address(id(obj)).value += BUMP
    _done = True
    return True
