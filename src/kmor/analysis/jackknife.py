"""Errors from the repeats themselves: the delete-one jackknife over whole repeats
(docs/decisions/0116).

A fit of an averaged spectrum takes its errors from the point errors, as if the noise of one
frequency point were independent of the next. Slow drifts of the light within one sweep are not:
they bend a whole repeat, and the fit's errors then understate how much its result scatters (by
about a third on the simulated lab's 0-0 scans). Refitting with each repeat left out in turn
measures how much the result depends on the repeats it came from, whatever the correlations along
the sweep, as long as the repeats are independent of each other.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

MIN_JACKKNIFE_REPEATS = 16
"""Fewer repeats give an error estimate that is itself uncertain by more than ~18 % (1/sqrt(2(n-1)))."""


def delete_one_errors(estimates: ArrayLike) -> NDArray[np.float64]:
    """Jackknife standard errors of k quantities from their n leave-one-out estimates (an n x k
    array): sqrt((n - 1)/n * sum_i (t_i - mean t)^2), same units as the estimates."""
    t: NDArray[np.float64] = np.asarray(estimates, dtype=float)
    if t.ndim != 2 or t.shape[0] < 2:
        raise ValueError(f"need an n x k array of leave-one-out estimates with n >= 2, got shape {t.shape}")
    n = t.shape[0]
    errors: NDArray[np.float64] = np.sqrt((n - 1) / n * np.sum((t - t.mean(axis=0)) ** 2, axis=0))
    return errors
