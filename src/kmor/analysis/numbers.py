"""How the analysis writes a measured number: the error to two significant digits and the value
rounded to the same decimal place ("11.934 +- 0.068 uG", "-9.13 +- 0.21 Hz", "2900 +- 130 Hz").
One function, used by report.md, the command line's headline and the figures, so a number reads
the same everywhere.
"""

from __future__ import annotations

import math


def decimals_for(error: float) -> int:
    """Decimal places that show `error` (> 0, finite) to two significant digits (0 for errors
    >= 10: those are rounded to two significant digits as integers)."""
    return max(0, 1 - int(math.floor(math.log10(error))))


def format_pm(value: float | None, error: float | None, units: str = "") -> str:
    """"value +- error units" with the error to two significant digits and the value to match.

    Without a usable error (None, 0, NaN) the value is shown to four significant digits; without a
    value, "-". Errors of 10 or more are rounded to two significant digits (1234 +- 56 -> "1230 +- 56").
    """
    tail = f" {units}" if units else ""
    if value is None or not math.isfinite(value):
        return "-"
    if error is None or not math.isfinite(error) or error <= 0:
        return f"{value:.4g}{tail}"
    error = float(f"{error:.2g}")          # 0.996 -> 1.0: then one decimal, not two
    digits = decimals_for(error)
    if digits == 0:
        step = 10.0 ** (math.floor(math.log10(error)) - 1)
        return f"{round(value / step) * step:.0f} +- {round(error / step) * step:.0f}{tail}"
    return f"{value:.{digits}f} +- {error:.{digits}f}{tail}"


def format_p(p: float) -> str:
    """A p-value to two significant digits; below 1e-16 (beyond double precision of 1 - p) as
    "< 1e-16" rather than a bare 0."""
    return "< 1e-16" if p < 1e-16 else f"= {p:.2g}"
