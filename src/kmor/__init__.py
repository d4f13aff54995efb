"""kmor: potassium NMOR and rf-optical double-resonance experiments, real or simulated."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kmor")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
