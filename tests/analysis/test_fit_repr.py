"""Fit results print as one readable line (values ± errors, fit quality), never the covariance."""

from __future__ import annotations

import numpy as np

from kmor.analysis import extrapolate_to_zero, fit_lorentzian, fit_nmor
from kmor.analysis.lineshapes import dispersive, lorentzian


def test_fit_results_have_a_short_readable_repr():
    b = np.linspace(-20, 20, 81)
    nmor = fit_nmor(b, dispersive(b, 0.4, 0.5, 3.0, 0.0, 0.0) + 1e-4 * np.cos(7 * b))
    f = np.linspace(-50, 50, 101)
    line = fit_lorentzian(f, lorentzian(f, -1.0, 2.0, 10.0, 3.0, 0.0, 0.0) + 1e-3 * np.sin(f))
    ext = extrapolate_to_zero([1.0, 2.0, 3.0, 4.0], [2.1, 3.9, 6.2, 7.9])
    for fit, start, name in ((nmor, "NmorFit(width_uG=3", "width_uG"),
                             (line, "LorentzianFit(fwhm_hz=10", "fwhm_hz"),
                             (ext, "LineFit(intercept=", "intercept")):
        text = repr(fit)
        assert text.startswith(start), text
        assert "±" in text and name in text and "covariance" not in text and "\n" not in text
        assert len(text) < 220
