"""Which files `kmor watch` may serve: only regular files inside the data folder.

A request path is decoded once, split into parts, and refused if any part is empty, "." or "..",
holds a backslash or a NUL, or if the resolved path (symlinks followed) leaves the data folder.
Run folders are named by a single safe part (`RUN_NAME`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
"""A run folder's name as new_run_dir makes it (no leading dot: temporary and hidden files)."""


class NotAllowed(Exception):
    """The request names a path outside the data folder, or one that is not served."""


def inside(root: Path, *parts: str) -> Path:
    """`root/parts...` resolved, or NotAllowed if it would leave `root` (`root` is resolved)."""
    for part in parts:
        if (not part or part in (".", "..") or "\\" in part or "\x00" in part or "/" in part
                or os.path.isabs(part)):
            raise NotAllowed(f"path part {part!r} is not allowed")
    target = Path(os.path.realpath(root.joinpath(*parts)))
    if target != root and not str(target).startswith(str(root) + os.sep):
        raise NotAllowed("the path leaves the data folder")
    return target


def split_url_path(path: str) -> list[str]:
    """URL path parts after percent-decoding each part once ("%2e%2e" is "..", refused later by
    `inside`; an encoded "/" inside a part is refused too)."""
    from urllib.parse import unquote

    raw = path.split("?", 1)[0].split("#", 1)[0]
    return [unquote(p, errors="strict") for p in raw.split("/")[1:]]


def run_dir(root: Path, name: str) -> Path:
    """The run folder `name` in `root` (a direct child, a safe name, an existing folder)."""
    if not RUN_NAME.match(name):
        raise NotAllowed(f"{name!r} is not a run folder name")
    folder = inside(root, name)
    if not folder.is_dir():
        raise FileNotFoundError(name)
    return folder
