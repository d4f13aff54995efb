"""Which lab config a `--resume` uses, and the exact command that continues a run.

A run folder records the lab config it started with (queue.json: `config_text`, `config_source`).
`kmor run --resume DIR` uses that recorded config, so a batch started on the real lab never
continues on the simulated one because a `--config` was left out. A `--config` whose text differs
is refused unless the user says `--config-change-ok` (the scans would otherwise mix two labs
silently). The printed resume commands come from `resume_command`, so following them verbatim
does what the run did.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from kmor.config.files import LoadedConfig, load_config
from kmor.config.loader import ConfigError, build, parse_toml_bytes
from kmor.config.model import KmorConfig
from kmor.storage.queue_journal import QUEUE_FILE
from kmor.storage import load_json
from kmor.storage.errors import StorageError

CHANGE_FLAG = "--config-change-ok"


def recorded_config(run_dir: str | Path) -> LoadedConfig:
    """The lab config recorded in a run folder, validated again by this kmor."""
    queue_path = Path(run_dir) / QUEUE_FILE
    data = load_json(queue_path)
    text = data.get("config_text") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise StorageError(queue_path, "records no lab config (config_text); resume with --config FILE "
                                       f"{CHANGE_FLAG}")
    source = str(data.get("config_source") or "?")
    label = f"{queue_path} (the lab config {source} recorded at the start)"
    parsed, text = parse_toml_bytes(text.encode("utf-8"), label)
    return LoadedConfig(config=build(KmorConfig, parsed, file=label), source=source, text=text)


def config_for_resume(run_dir: str | Path, config_path: str | None, change_ok: bool) -> LoadedConfig:
    """The config `--resume` runs with: the recorded one, or `config_path` if it has the same
    text or `change_ok` is set; a different one without it is a ConfigError naming both."""
    recorded = recorded_config(run_dir)
    if config_path is None:
        return recorded
    given = load_config(config_path)
    if given.text != recorded.text and not change_ok:
        raise ConfigError(str(config_path), "", f"differs from the lab config this run started with "
                                                f"({recorded.source}, recorded in {Path(run_dir) / QUEUE_FILE}); "
                                                f"leave out --config to use the recorded one, or add "
                                                f"{CHANGE_FLAG} to continue with this one")
    return given


def resume_command(run_dir: str | Path, used: LoadedConfig, recorded_text: str | None) -> str:
    """The shell command that continues the run in `run_dir` with the config it was running with."""
    command = f"kmor run --resume {shlex.quote(str(run_dir))}"
    if recorded_text is not None and used.text != recorded_text:
        command += f" --config {shlex.quote(used.source)} {CHANGE_FLAG}"
    return command
