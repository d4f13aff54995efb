"""The `kmor` command: one entry point for running, checking and analysing experiments.

User mistakes (a bad config or sequence file, a missing file or run folder) end with one line on
stderr naming the file, key or command, and exit status 2, never a traceback. Every exit status is
in the table of kmor/cli_output.py, printed at the end of `kmor --help`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import kmor
from kmor import cli_output
from kmor.cli_output import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PAUSED, EXIT_USER_ERROR
from kmor.config import ConfigError

if TYPE_CHECKING:
    from kmor.config.files import LoadedConfig


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kmor` console script; returns the process exit status. Output into a
    pipe closed early (`kmor config | head -2`) ends quietly."""
    try:
        try:
            status = _main(argv)
        except SystemExit as exc:   # argparse after --help, --version or a usage error
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        sys.stdout.flush()   # a closed pipe shows up here when the output fitted in the buffer
        return status
    except BrokenPipeError:
        return cli_output.quiet_broken_pipe()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 0
    try:
        return args.handler(args) or 0
    except ConfigError as exc:
        print(f"kmor: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as exc:   # a second Ctrl-C: stopped at once
        return cli_output.print_interrupted(exc)
    except SystemExit as exc:
        if getattr(exc, "__notes__", None):   # a second SIGTERM inside a run (the runner noted the folder)
            return cli_output.print_interrupted(exc)
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmor",
        description="Run potassium NMOR and rf double-resonance experiments on real instruments "
                    "or on the simulated lab (the default when no --config is given).",
        epilog=cli_output.exit_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kmor {kmor.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_run_command(commands)
    _add_check_command(commands)
    _add_analyze_command(commands)
    _add_gui_command(commands)
    _add_config_command(commands)
    _add_sim_command(commands)
    _add_watch_command(commands)
    return parser


def _add_config_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("config", help="validate a lab configuration file and print its settings")
    p.add_argument("config", nargs="?", help="lab config TOML (default: the embedded simulated lab)")
    p.set_defaults(handler=_cmd_config)


def _add_run_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("run", help="run a sequence file (a batch of steps) and record it to HDF5")
    p.add_argument("sequence", nargs="?", help="sequence TOML, e.g. config/sequences/paper.toml")
    p.add_argument("--config", help="lab config TOML (default: the embedded simulated lab)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the interrupted batch recorded in RUN_DIR "
                                                       "(with the lab config recorded there)")
    p.add_argument("--config-change-ok", action="store_true",
                   help="with --resume: continue with --config although it differs from the recorded one")
    p.add_argument("--data-dir", help="where to create the run folder (default: lab.data_dir of the config)")
    p.add_argument("--watch", action="store_true",
                   help="also start `kmor watch` (the live read-only web page) while the batch runs")
    p.set_defaults(handler=_cmd_run)


def _add_check_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("check", help="validate a sequence file against the lab's limits and print its duration")
    p.add_argument("sequence", help="sequence TOML")
    p.add_argument("--config", help="lab config TOML (default: the embedded simulated lab)")
    p.set_defaults(handler=_cmd_check)


def _add_gui_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("gui", help="open the lab window (the simulated lab in real time without --config)")
    p.add_argument("--config", help="lab config TOML (default: the embedded simulated lab)")
    p.add_argument("--speed", type=float, help="simulated lab only: x real time (default 1; 0 = full speed)")
    p.set_defaults(handler=_cmd_gui)


def _add_analyze_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("analyze", help="fit run folders or scan files; write summary.json, report.md and figures")
    p.add_argument("paths", nargs="+", metavar="RUN_DIR_OR_FILE", help="run folders and/or scan .h5 files")
    p.add_argument("--out", required=True, metavar="REPORT_DIR", help="folder for the report (created if needed)")
    p.add_argument("--zeeman-max-power", type=float, default=10.0, metavar="UW",
                   help="largest light power (uW) in the linear Zeeman extrapolation (default 10, as the paper)")
    p.add_argument("--include-mismatched", action="store_true",
                   help="put scans flagged 'model mismatch' back into the extrapolations (they are left out by default)")
    p.set_defaults(handler=_cmd_analyze)


def _add_watch_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("watch", help="serve a live, read-only web page of the runs in a data folder")
    p.add_argument("folder", nargs="?", metavar="DATA_DIR_OR_RUN_DIR",
                   help="data folder (default: lab.data_dir of the config) or one run folder")
    p.add_argument("--config", help="lab config TOML (its [watch] table and lab.data_dir; default: the embedded one)")
    p.add_argument("--host", help="address to bind (default [watch].host, 127.0.0.1: this machine only; "
                                  "any other address requires the printed token)")
    p.add_argument("--port", type=int, help="TCP port (default [watch].port, 8765; 0: any free port)")
    p.set_defaults(handler=_cmd_watch)


def _add_sim_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("sim", help="the simulated laboratory")
    sim = p.add_subparsers(title="sim commands", metavar="SIM_COMMAND")
    d = sim.add_parser("describe", help="print the simulated lab's parameters and derived physics")
    d.add_argument("--config", help="lab config TOML (default: the embedded simulated lab)")
    d.add_argument("--bz-uG", type=float, default=1400.0, metavar="UG",
                   help="field for the Zeeman neighbours of the 0-0 line (default 1400 uG, the rf scans' field)")
    d.set_defaults(handler=_cmd_sim_describe)
    s = sim.add_parser("serve", help="serve the simulated instruments on TCP ports (reach them with pyvisa-py)")
    s.add_argument("--config", help="lab config TOML with [sim.ports] (default: the embedded simulated lab)")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1, this machine only; 0.0.0.0 exposes the lab to the network)")
    s.set_defaults(handler=_cmd_sim_serve)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])


def _cmd_config(args: argparse.Namespace) -> int:
    from kmor.config.describe import format_value, iter_settings
    from kmor.config.files import load_config

    loaded = load_config(args.config)
    print(f"{loaded.source}: valid")
    for s in iter_settings(loaded.config):
        units = f" {s.units}" if s.units else ""
        print(f"  {s.key} = {format_value(s.value)}{units}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from kmor.config.files import load_config
    from kmor.drivers.errors import InstrumentError
    from kmor.sequences import SequenceError, TextProgress, run_batch
    from kmor.sequences.resume_config import config_for_resume
    from kmor.storage import StorageError

    if (args.sequence is None) == (args.resume is None):
        print("kmor: error: give a SEQUENCE file to run, or --resume RUN_DIR (not both)", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.resume is not None and (problem := cli_output.resume_dir_problem(args.resume)):
        print(f"kmor: error: {problem}", file=sys.stderr)
        return EXIT_USER_ERROR
    watcher = None
    try:
        loaded = config_for_resume(args.resume, args.config, args.config_change_ok) if args.resume \
            else load_config(args.config)
        watcher = _start_watcher(args, loaded) if args.watch else None
        result = run_batch(args.sequence, loaded, resume_dir=args.resume, progress=TextProgress(),
                           data_dir=args.data_dir)
    except (InstrumentError, SequenceError, StorageError, OSError) as exc:
        print(f"kmor: error: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", []):
            print(f"kmor: {note}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.wait(10)
    paused = result.status == "paused"   # the fault is said once, on stderr, with the resume command
    print(f"{result.status}: {len(result.scans)} scans in {result.run_dir}"
          + (f" ({result.message})" if result.message and not paused else ""))
    if result.status == "complete":
        print(f"analyse with: kmor analyze {result.run_dir} --out {result.run_dir}-report")
        return 0
    if paused:
        print(f"kmor: paused: {result.message}", file=sys.stderr)
        print(f"kmor: the apparatus is safe; continue with: {result.resume_command}", file=sys.stderr)
        return EXIT_PAUSED
    print(f"continue with: {result.resume_command}")
    return EXIT_INTERRUPTED if result.status == "aborted" else EXIT_FAILED


def _start_watcher(args: argparse.Namespace, loaded: LoadedConfig) -> subprocess.Popen[bytes]:
    """`kmor watch` in its own process beside the run (a crash or a slow page there cannot touch
    the acquisition); it serves the data folder, or the run folder on --resume."""
    import os
    from pathlib import Path

    config = loaded.config
    folder = args.resume or args.data_dir or config.lab.data_dir
    Path(folder).mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "kmor", "watch", str(folder)]
    if args.config:
        command += ["--config", args.config]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, env=os.environ.copy())


def _cmd_watch(args: argparse.Namespace) -> int:
    from kmor.config.files import load_config
    from kmor.watch.main import watch_main

    settings = load_config(args.config).config
    folder = args.folder or settings.lab.data_dir
    host = args.host or settings.watch.host
    port = args.port if args.port is not None else settings.watch.port
    if not 0 <= port <= 65535:
        print(f"kmor: error: --port {port}: a TCP port is 0..65535", file=sys.stderr)
        return EXIT_USER_ERROR
    return watch_main(folder, host=host, port=port, token=settings.watch.token)


def _cmd_check(args: argparse.Namespace) -> int:
    from kmor.config.files import load_config
    from kmor.sequences import check_batch

    batch = check_batch(args.sequence, load_config(args.config))
    print(batch.summary())
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from kmor.gui.app import main as gui_main

    return gui_main(args.config, args.speed)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from kmor.analysis import AnalysisInputError, analyze

    try:
        summary = analyze(args.paths, args.out, x_max_uW=args.zeeman_max_power,
                          include_mismatched=args.include_mismatched)
    except (AnalysisInputError, ValueError) as exc:
        print(f"kmor: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print("\n".join(summary.headline()))
    return 0


def _cmd_sim_describe(args: argparse.Namespace) -> int:
    from kmor.sim.describe import describe_lab

    print(describe_lab(args.config, bz_uG=args.bz_uG))
    return 0


def _cmd_sim_serve(args: argparse.Namespace) -> int:
    from kmor.sim.serve import serve_lab

    return serve_lab(args.config, host=args.host)


if __name__ == "__main__":
    sys.exit(main())
