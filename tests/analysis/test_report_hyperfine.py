"""The hyperfine part of the report: averaging rf repeats, and the two zero-power procedures. The
paper's linear-linear procedure is biased when the rf power is not low; the labelled model-based
alternative (FWHM^2 in rf power, then FWHM in light power) is not."""

from __future__ import annotations

import numpy as np
import pytest
from test_report_synthetic_data import SyntheticLab, write_rfscan

from kmor.analysis.hyperfine import average_repeats, quadratic_zeeman_shift_hz
from kmor.analysis.report import analyze
from kmor.storage import new_run_dir


def test_repeats_are_averaged_per_frequency_with_a_pooled_standard_error():
    rng = np.random.default_rng(5)
    freqs = np.tile(np.arange(100.0, 140.0), 6)             # 40 frequencies x 6 repeats
    signal = 0.01 * freqs + rng.normal(0.0, 0.02, freqs.size)
    sp = average_repeats(freqs, signal, counter_hz=freqs + 0.03)
    assert sp.freq_hz.size == 40 and np.all(sp.n_repeats == 6)
    np.testing.assert_allclose(sp.signal_V, 0.01 * sp.freq_hz, atol=4 * 0.02 / np.sqrt(6))
    assert sp.sigma_V == pytest.approx(np.full(40, 0.02 / np.sqrt(6)), rel=0.1)
    assert sp.counter_offset_hz == pytest.approx(0.03)
    # a partial last repeat (interrupted scan): fewer values there, larger errors
    part = average_repeats(freqs[:220], signal[:220])
    assert part.n_repeats[:20].tolist() == [6] * 20 and part.n_repeats[20:].tolist() == [5] * 20
    assert part.sigma_V[25] / part.sigma_V[5] == pytest.approx(np.sqrt(6 / 5))
    single = average_repeats(freqs[:40], signal[:40])
    assert single.sigma_V is None                            # one repeat: no scatter to pool


def test_quadratic_zeeman_shift_of_the_0_0_line():
    assert quadratic_zeeman_shift_hz(1400.0) == pytest.approx(8506.0 * 1.4e-3**2, rel=1e-3)
    assert quadratic_zeeman_shift_hz(0.0) == 0.0


def test_at_higher_rf_power_the_paper_procedure_is_biased_and_the_model_based_one_is_not(tmp_path):
    # rf grid -32..-24 dBm (config/sequences/paper.toml): noise-free, the linear-linear procedure
    # gives 11.17 Hz for a 10.6 Hz line; the model-based one is exact for this line shape
    run = new_run_dir(tmp_path / "data", "grid")
    lab = SyntheticLab(21)
    for light in (4.0, 8.0, 12.0):
        for level in (-32.0, -28.0, -24.0):
            write_rfscan(run, lab, light, level, span_hz=160.0, step_hz=2.0, repeats=3, noise_V=3e-8)
    hf = analyze([run], tmp_path / "report", figures=False).hyperfine
    paper, model = hf.fwhm_fit, hf.model.fit
    assert model.intercept == pytest.approx(10.6, abs=max(3 * model.intercept_err, 0.05))
    assert model.intercept_err < 0.2
    assert paper.intercept - 10.6 > 0.3                      # the bias the report makes visible
    assert paper.intercept == pytest.approx(11.17, abs=3 * paper.intercept_err + 0.05)
    assert hf.shift_hz == pytest.approx(-9.083, abs=3 * hf.shift_err_hz)
    assert [round(z[0]) for z in hf.model.zero_rf] == [4, 8, 12]
