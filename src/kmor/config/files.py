"""Find and load lab configuration files; the simulated lab's file ships inside the package."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kmor.config.loader import build, parse_toml_bytes, read_toml
from kmor.config.model import KmorConfig

DEFAULT_CONFIG_NAME = "sim.toml (embedded default: the simulated lab)"


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration with where it came from and its exact text (stored with the data)."""

    config: KmorConfig
    source: str
    text: str


def default_config_bytes() -> bytes:
    """The embedded simulated-lab configuration (the same file as config/sim.toml in the repository)."""
    return resources.files("kmor").joinpath("data/sim.toml").read_bytes()


def load_config(path: Path | str | None = None) -> LoadedConfig:
    """Load and validate a lab config; `None` means the embedded simulated lab.

    Raises `ConfigError` naming the file and the dotted key for any problem.
    """
    if path is None:
        data, text = parse_toml_bytes(default_config_bytes(), DEFAULT_CONFIG_NAME)
        source = DEFAULT_CONFIG_NAME
    else:
        data, text = read_toml(path)
        source = str(path)
    return LoadedConfig(config=build(KmorConfig, data, file=source), source=source, text=text)
