"""An rf scan's repeats that drift up or down as a whole (slow light-power drift) do not inflate
the point errors: each repeat's level is taken out before the scatter is pooled (decision 0115)."""

from __future__ import annotations

import numpy as np

from kmor.analysis.hyperfine import average_repeats


def scan(levels_V: np.ndarray, noise_V: float, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    freqs = np.arange(-50.0, 51.0)
    curve = -1e-4 / (1.0 + ((freqs + 9.0) / 10.0) ** 2)
    f = np.tile(freqs, levels_V.size)
    repeat = np.repeat(np.arange(levels_V.size, dtype=float), freqs.size)
    y = 1.0 + np.tile(curve, levels_V.size) + levels_V[repeat.astype(int)] + rng.normal(0.0, noise_V, f.size)
    return f, y, repeat, curve


def test_drifting_repeat_levels_do_not_count_as_point_noise():
    levels = np.random.default_rng(7).normal(0.0, 2e-4, 16)     # 2x the dip, per repeat
    f, y, repeat, curve = scan(levels, noise_V=1e-5)
    with_levels = average_repeats(f, y, repeat=repeat)
    without = average_repeats(f, y)
    assert with_levels.sigma_V is not None and without.sigma_V is not None
    expected = 1e-5 / np.sqrt(16)
    assert 0.8 * expected < np.median(with_levels.sigma_V) < 1.2 * expected
    assert np.median(without.sigma_V) > 5 * expected                 # the old pooling: inflated
    shape = with_levels.signal_V - with_levels.signal_V.mean()
    assert np.max(np.abs(shape - (curve - curve.mean()))) < 5 * expected


def test_without_level_drift_the_errors_are_those_of_plain_pooling():
    f, y, repeat, _ = scan(np.zeros(8), noise_V=1e-5)
    a, b = average_repeats(f, y, repeat=repeat), average_repeats(f, y)
    assert a.sigma_V is not None and b.sigma_V is not None
    assert np.allclose(a.sigma_V, b.sigma_V, rtol=0.05)
    assert np.allclose(a.signal_V, b.signal_V, atol=1e-6)
