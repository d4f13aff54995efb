"""kmor watch: a read-only live web page of the runs in a data folder (docs/watch.md).

It reads only what runs leave on disk (status.json, live-scan.json, queue.json, run.log, closed scan
files, analysis reports) and imports only kmor.storage and kmor.analysis: it never talks to
instruments and cannot change a run.
"""

from kmor.watch.server import WatchServer, is_local, new_token

__all__ = ["WatchServer", "is_local", "new_token"]
