"""Lab configuration: TOML files validated whole against a declarative schema before use."""

from kmor.config.loader import ConfigError

__all__ = ["ConfigError"]
