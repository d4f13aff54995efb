"""Child process for the resume test: runs a batch, printing one line per acknowledged point.

With a third argument "S:I" it stops (blocked on stdin, still holding its files open) right after
acknowledging point I of the S-th scan, so the parent's SIGKILL lands at a known point."""

import sys

from kmor.config.files import load_config
from kmor.sequences import events as ev
from kmor.sequences.runner import run_batch

scans: list[str] = []


def announce(event, hold_at=None):
    if event.kind == ev.POINT:
        if event.scan not in scans:
            scans.append(event.scan)
        print(f"point {event.scan} {event.index}", flush=True)
        if hold_at == (len(scans), event.index):
            sys.stdin.readline()


if __name__ == "__main__":
    batch, data_dir = sys.argv[1], sys.argv[2]
    hold = tuple(int(x) for x in sys.argv[3].split(":")) if len(sys.argv) > 3 else None
    result = run_batch(batch, load_config(), data_dir=data_dir,
                       subscribers=[lambda e: announce(e, hold)])
    print(f"done {result.status} {result.run_dir}", flush=True)
