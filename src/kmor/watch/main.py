"""`kmor watch [DATA_DIR or RUN_DIR] [--host H] [--port P]`: start the page and serve until Ctrl-C."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kmor.watch.paths import RUN_NAME
from kmor.watch.runs import is_run_folder
from kmor.watch.server import WatchServer, is_local


def watch_main(folder: str | Path, *, host: str, port: int, token: str = "") -> int:
    """Serve `folder` (a data folder, or a run folder: its data folder, opening that run).
    Prints the URL (with the token for non-local addresses) and serves until interrupted."""
    path = Path(folder)
    if not path.is_dir():
        print(f"kmor: error: {path}: no such folder (give a data folder or a run folder)", file=sys.stderr)
        return 2
    default_run = None
    if is_run_folder(path) and RUN_NAME.match(path.resolve().name):
        default_run, path = path.resolve().name, path.resolve().parent
    try:
        server = WatchServer(path, host=host, port=port, token=token or None, default_run=default_run)
    except OSError as exc:
        print(f"kmor: error: cannot serve on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    _lower_priority()
    print(f"kmor watch: {server.root} at {server.url}", flush=True)
    if not is_local(host):
        print("kmor watch: reachable from other machines; the token in the URL is required "
              "(read-only page)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _lower_priority() -> None:
    """Let acquisition win any contest for the CPU: the page is an observer (nice +10 on POSIX)."""
    try:
        os.nice(10)
    except (AttributeError, OSError):   # Windows has no os.nice; a refused nice is harmless
        pass
