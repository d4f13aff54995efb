"""kmor: potassium NMOR and rf-optical double-resonance experiments, real or simulated."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kmor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "connect"]


def connect(config: object = None, **kwargs: object) -> object:
    """Open a lab session (see kmor.lab.connect): `with kmor.connect() as lab:` runs the
    simulated lab; `kmor.connect("mylab.toml")` the lab of a config file."""
    from kmor.lab import connect as _connect
    return _connect(config, **kwargs)  # type: ignore[arg-type]
