"""The `kmor` command: one entry point for running, checking and analysing experiments.

User mistakes (a bad config or sequence file, an unreachable instrument) end with one line on
stderr naming the file, key or command, and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import kmor
from kmor.config import ConfigError

EXIT_USER_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kmor` console script; returns the process exit status."""
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
    except KeyboardInterrupt:
        print("kmor: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmor",
        description="Run potassium NMOR and rf double-resonance experiments on real instruments "
                    "or on the simulated lab (the default when no --config is given).",
    )
    parser.add_argument("--version", action="version", version=f"kmor {kmor.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_config_command(commands)
    _add_sim_command(commands)
    return parser


def _add_config_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("config", help="validate a lab configuration file and print its settings")
    p.add_argument("config", nargs="?", help="lab config TOML (default: the embedded simulated lab)")
    p.set_defaults(handler=_cmd_config)


def _add_sim_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("sim", help="the simulated laboratory")
    sim = p.add_subparsers(title="sim commands", metavar="SIM_COMMAND")
    d = sim.add_parser("describe", help="print the simulated lab's parameters and derived physics")
    d.add_argument("--config", help="lab config TOML (default: the embedded simulated lab)")
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


def _cmd_sim_describe(args: argparse.Namespace) -> int:
    from kmor.sim.describe import describe_lab

    print(describe_lab(args.config))
    return 0


def _cmd_sim_serve(args: argparse.Namespace) -> int:
    from kmor.sim.serve import serve_lab

    return serve_lab(args.config, host=args.host)


if __name__ == "__main__":
    sys.exit(main())
