"""The `sim_serve` fixture (a real `kmor sim serve` process) for the third-party driver tests."""

from sim_serve_process import sim_serve  # noqa: F401  (a fixture, found by pytest through this conftest)
