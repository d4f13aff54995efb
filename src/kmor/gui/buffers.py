"""Pre-allocated numpy buffers for live plots: appending a point is a store into an array, and
the plot is handed views of the filled part (no per-point allocation, no Python lists).

`Columns` grows by doubling (amortised O(1) per point; a 10,000-point curve reallocates about 7
times). `Strip` is a fixed-size ring for strip charts (the newest `capacity` samples).
"""

from __future__ import annotations

import numpy as np


class Columns:
    """Named float columns filled row by row; `view(name)` is the filled part."""

    def __init__(self, names: tuple[str, ...], capacity: int = 1024) -> None:
        self.names = names
        self._index = {n: i for i, n in enumerate(names)}
        self._data = np.full((len(names), max(16, capacity)), np.nan)
        self.n = 0

    def clear(self, capacity: int | None = None) -> None:
        """Empty the buffer (pre-allocating `capacity` rows when the expected size is known)."""
        if capacity is not None and capacity > self._data.shape[1]:
            self._data = np.full((len(self.names), capacity), np.nan)
        self.n = 0

    def append(self, *values: float) -> None:
        """Add one row (values in the order of `names`)."""
        if self.n == self._data.shape[1]:
            grown = np.full((len(self.names), 2 * self._data.shape[1]), np.nan)
            grown[:, :self.n] = self._data
            self._data = grown
        self._data[:, self.n] = values
        self.n += 1

    def view(self, name: str) -> np.ndarray:
        """The filled part of column `name` (a view: do not keep it across appends)."""
        return self._data[self._index[name], :self.n]


class Strip:
    """Ring buffer of (t, values...) samples for a strip chart."""

    def __init__(self, n_values: int, capacity: int = 4000) -> None:
        self._data = np.full((1 + n_values, capacity), np.nan)
        self._next = 0
        self.n = 0

    @property
    def capacity(self) -> int:
        return self._data.shape[1]

    def append(self, t: float, *values: float) -> None:
        self._data[:, self._next] = (t, *values)
        self._next = (self._next + 1) % self.capacity
        self.n = min(self.n + 1, self.capacity)

    def clear(self) -> None:
        self._next = 0
        self.n = 0

    def series(self) -> np.ndarray:
        """(1 + n_values, n) array, oldest sample first."""
        if self.n < self.capacity:
            return self._data[:, :self.n]
        return np.roll(self._data, -self._next, axis=1)
