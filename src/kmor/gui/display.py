"""Can Qt open a window here? Checked before Qt tries, because Qt's own answer to "no display" or
"a system library missing" is a message about platform plugins and an abort (exit 134).

    problems = display_problems(os.environ)   # [] when a window can open
"""

from __future__ import annotations

import ctypes
import re
import sys
from collections.abc import Mapping
from pathlib import Path

OFF_SCREEN_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")
"""Qt platforms that need no X11 or Wayland display."""
OFFSCREEN_HINT = "set QT_QPA_PLATFORM=offscreen to draw the window off screen (for screenshots)"


def display_problems(environ: Mapping[str, str], plugin_dir: Path | None = None) -> list[str]:
    """What stops Qt from opening a window with this environment, one sentence each saying what
    to do; empty when nothing does. Only Linux and other X11/Wayland systems are checked.
    `plugin_dir`: Qt's platform plugins (default: PySide6's)."""
    if sys.platform in ("win32", "darwin"):
        return []
    platform = environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if platform in OFF_SCREEN_PLATFORMS:
        return []
    wayland = platform.startswith("wayland") or (not platform and bool(environ.get("WAYLAND_DISPLAY")))
    problems = []
    if wayland and not environ.get("WAYLAND_DISPLAY"):
        problems.append("no Wayland display (WAYLAND_DISPLAY is unset): run kmor gui from the desktop "
                        f"session, or {OFFSCREEN_HINT}")
    if not wayland:
        if not environ.get("DISPLAY"):
            problems.append("no display (DISPLAY and WAYLAND_DISPLAY are unset: a machine without a "
                            "desktop, or ssh without -X): run kmor gui on the lab PC's desktop or "
                            f"over ssh -X, or {OFFSCREEN_HINT}")
        missing = xcb_plugin_problem(plugin_dir or _qt_platform_plugins())
        if missing:
            problems.append(missing)
    return problems


def xcb_plugin_problem(plugin_dir: Path) -> str | None:
    """Why Qt's X11 (xcb) platform plugin in `plugin_dir` cannot load -- usually a system library
    such as libxcb-cursor0 that the PySide6 wheel does not bring -- or None if it loads."""
    plugin = plugin_dir / "libqxcb.so"
    if not plugin.exists():
        return None   # a Qt built without xcb: nothing to say ahead of Qt
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        library = str(exc).split(":")[0].strip()
        package = debian_package(library)
        install = f" (Debian/Ubuntu: sudo apt install {package})" if package else ""
        return (f"Qt's X11 plugin cannot load: {library or exc} is missing; install it{install} "
                f"and the other X11 libraries docs/gui.md lists, or {OFFSCREEN_HINT}")
    return None


def debian_package(library: str) -> str | None:
    """The Debian/Ubuntu package of a shared library by the usual naming rule:
    libxcb-cursor.so.0 -> libxcb-cursor0, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0."""
    m = re.fullmatch(r"(lib[\w+.-]*?)\.so\.(\d+)(?:\.\d+)*", Path(library).name)
    if m is None:
        return None
    stem, version = m.groups()
    return f"{stem}{'-' if stem[-1].isdigit() else ''}{version}"


def _qt_platform_plugins() -> Path:
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
