"""How the `kmor` command ends: the one table of exit statuses, a closed output pipe, Ctrl-C.

Every status kmor returns is named here, printed at the end of `kmor --help` and listed in
docs/getting-started.md ("Exit status"); tests/test_cli_output.py holds them to it.
"""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_PAUSED = 75
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "done (a run: every job complete)"),
    (EXIT_FAILED, ("a run stopped by an instrument or disk error before the batch began, or by a bug "
                   "(the message says which; the run folder, if any, can be resumed)")),
    (EXIT_USER_ERROR, ("a mistake to fix: bad command line, config or sequence file, a missing file or "
                       "run folder, no display for `kmor gui`")),
    (EXIT_PAUSED, ("a run paused by a persistent instrument or disk fault; the apparatus is safe; "
                   "fix it, then `kmor run --resume RUN_DIR`")),
    (EXIT_INTERRUPTED, "a run stopped by Ctrl-C (or SIGTERM after the current point); resume it"),
    (EXIT_TERMINATED, "a run stopped at once by a second SIGTERM; resume it"),
    (EXIT_BROKEN_PIPE, "the output pipe was closed early (e.g. `| head`); nothing else went wrong"),
)
"""(status, meaning) of every exit status of `kmor`."""


def exit_codes_epilog() -> str:
    """The exit-status table as plain text for `kmor --help`."""
    lines = ["exit status:"]
    for code, meaning in EXIT_CODES:
        lines += textwrap.wrap(meaning, width=96, initial_indent=f"  {code:>3}  ", subsequent_indent=" " * 7)
    return "\n".join(lines)


def quiet_broken_pipe() -> int:
    """After a BrokenPipeError on stdout: point stdout at /dev/null so the interpreter's final
    flush cannot raise again, and return the status a pipe-killed Unix tool would have."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):   # stdout already closed or not a real file: nothing to flush
        pass
    return EXIT_BROKEN_PIPE


def print_interrupted(exc: BaseException) -> int:
    """The lines for a second Ctrl-C / SIGTERM (a stop at once): that it stopped, and how to go on
    (the runner adds the resume command to the exception as a note). Returns the exit status."""
    print("kmor: interrupted", file=sys.stderr)
    for note in getattr(exc, "__notes__", []):
        print(f"kmor: {note}", file=sys.stderr)
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else EXIT_TERMINATED


def resume_dir_problem(run_dir: str) -> str | None:
    """Why `run_dir` cannot be resumed (a user mistake, exit 2), or None if it looks like a run folder."""
    path = Path(run_dir)
    if not path.exists():
        return f"{run_dir}: no such run folder (give the folder `kmor run` printed, e.g. data/20260101-120000-paper)"
    if not path.is_dir():
        return f"{run_dir}: not a folder (give the run folder, not a file in it)"
    if not (path / "queue.json").exists():
        return f"{run_dir}: not a kmor run folder (it has no queue.json)"
    return None
