"""Paper-style PNG figures of the analysis (matplotlib, Agg, no display; docs/decisions/0045).

Each function draws one figure from analysis results into `path` and returns it. Figures are built
with `matplotlib.figure.Figure` directly (no pyplot state), so they work in threads, in tests and
on machines without a display. Axes carry units; signals are shown in uV, fields in uG, rf
frequencies relative to the reference.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .hyperfine import HyperfineResult, RfScanResult, zero_light_line
from .numbers import format_p, format_pm
from .nmor_fit import gamma_nmor_hz
from .zeeman import BScanResult, ZeemanResult

DPI = 110
_SWEEP_STYLE: dict[str, dict[str, Any]] = {"down": dict(marker="v", color="tab:blue"), "up": dict(marker="^", color="tab:orange"),
                "": dict(marker="o", color="tab:gray")}


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def rotation_vs_field(scan: BScanResult, path: Path) -> Path:
    """Fig. 3: optical rotation (urad, from the polarimeter calibration; lock-in X in V without
    one) versus Bz, both sweeps, with the fit."""
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    _draw_bscan(ax, scan, small=False)
    width = "" if not scan.has_width else f": width {format_pm(scan.width_uG, scan.width_err_uG, 'uG')}"
    ax.set_title(f"NMOR rotation, {scan.line}, {scan.light_power_uW:.3g} uW{width}\n"
                 f"{scan.quality.summary()}", fontsize=10)
    return _save(fig, path)


def bscan_overview(scans: Sequence[BScanResult], path: Path, max_panels: int = 24) -> Path:
    """Every B scan with its fit, small multiples (the first `max_panels`)."""
    shown = list(scans)[:max_panels]
    ncols = min(4, len(shown))
    nrows = math.ceil(len(shown) / ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.6 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, scan in zip(axes, shown):
        _draw_bscan(ax, scan, small=True)
        width = f"{scan.width_uG:.3g} uG" if scan.has_width else "no width"
        ax.set_title(f"{Path(scan.file).name}: {scan.light_power_uW:.3g} uW, {width}\n{scan.quality.summary()}",
                     fontsize=7, color="black" if scan.fit_status == "fitted" else "tab:red")
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    if len(scans) > max_panels:
        fig.suptitle(f"first {max_panels} of {len(scans)} B scans")
    return _save(fig, path)


def _draw_bscan(ax: Axes, scan: BScanResult, small: bool) -> None:
    size = 6 if small else 14
    for sweep in ("down", "up", ""):
        sel = scan.direction == sweep
        if sel.any():
            ax.scatter(scan.field_uG[sel], scan.rotation(scan.signal_V[sel]), s=size, alpha=0.6,
                       label=f"{sweep} sweep" if sweep else "points", **_SWEEP_STYLE[sweep])
    grid = np.linspace(scan.field_uG.min(), scan.field_uG.max(), 1200)
    if scan.single is not None and scan.has_width:
        ax.plot(grid, scan.rotation(scan.single.curve(grid)), color="k", lw=1.2, label="dispersive fit")
    if scan.nested is not None:
        kept = "kept" if scan.fit is scan.nested else "not kept"
        ax.plot(grid, scan.rotation(scan.nested.curve(grid)), color="tab:green", lw=1.0, ls="--",
                label=f"two-component fit ({kept})")
    ax.set_xlabel("Bz (uG)", fontsize=8 if small else None)
    ylabel = "rotation (urad)" if scan.calibration_V_per_rad is not None else "lock-in X (uV, no calibration)"
    ax.set_ylabel(ylabel, fontsize=8 if small else None)
    if small:
        ax.tick_params(labelsize=7)
    else:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)


def widths_vs_power(result: ZeemanResult, path: Path) -> Path:
    """Fig. 4: NMOR widths versus light power; the straight line over the low-power points and its
    intercept DeltaB0 at zero power. Left: every scan; right: the fitted range."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_all, ax_low = fig.subplots(1, 2)
    ex = result.extrapolation
    scale = ex.error_scale if ex is not None else 1.0
    for ax in (ax_all, ax_low):
        for used, style in ((True, dict(fmt="o", color="tab:blue", label="in the fit")),
                            (False, dict(fmt="o", mfc="white", color="tab:gray", label="not in the fit"))):
            pts = [s for s, u in zip(result.scans, result.used) if u == used]
            if pts:
                ax.errorbar([s.light_power_uW for s in pts], [s.width_uG for s in pts],
                            yerr=[s.width_err_uG * (scale if used else 1.0) for s in pts],
                            capsize=3, **style)
        bad = [s for s in result.scans if s.fit_status != "fitted"]
        if bad:
            ax.plot([s.light_power_uW for s in bad], [s.width_uG for s in bad], "x", color="tab:red",
                    ms=9, label="model mismatch")
        ax.set_xlabel("light power (uW)")
        ax.set_ylabel("peak-to-peak width DeltaB (uG)")
        ax.grid(alpha=0.3)
    if ex is not None:
        x_hi = max(s.light_power_uW for s, u in zip(result.scans, result.used) if u)
        grid = np.linspace(0.0, x_hi * 1.05, 50)
        for ax in (ax_all, ax_low):
            ax.plot(grid, ex.predict(grid), color="tab:red", lw=1.2, label="straight line")
            ax.errorbar([0.0], [ex.intercept], yerr=[ex.intercept_err], fmt="s", color="tab:red",
                        capsize=4, label=f"DeltaB0 = {_pm(ex.intercept, ex.intercept_err)} uG")
        ax_low.set_xlim(-0.3, x_hi * 1.1)
        low_w = [s.width_uG for s, u in zip(result.scans, result.used) if u]
        ax_low.set_ylim(0.0, max(low_w) * 1.2)
        gamma = gamma_nmor_hz(ex.intercept)
        ax_low.set_title(f"DeltaB0 = {format_pm(ex.intercept, ex.intercept_err, 'uG')}, gamma/2pi = "
                         f"{format_pm(gamma, gamma_nmor_hz(ex.intercept_err), 'Hz')}\n"
                         f"{ex.n_points} scans <= {result.x_max_uW:g} uW; line chi2_red {ex.chi2_red:.2g}, "
                         f"errors x{ex.error_scale:.2g}", fontsize=9)
    else:
        ax_low.set_title(result.note, fontsize=8)
    nested = [(s.light_power_uW, s.nested) for s in result.scans if s.nested is not None and s.fit is s.nested]
    for k, (power_uW, fit) in enumerate(nested):
        ax_all.errorbar([power_uW] * len(fit.components), [c.width_uG for c in fit.components],
                        yerr=[c.width_err_uG for c in fit.components], fmt="D", mfc="white",
                        color="tab:green", capsize=3, label="two-component fit" if k == 0 else None)
    ax_all.set_title(f"NMOR widths, {result.line}")
    ax_all.legend(fontsize=8)
    return _save(fig, path)


def nested_curve(scan: BScanResult, path: Path) -> Path:
    """Fig. 5: the high-power curve with the two-component fit and each component."""
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    ax.scatter(scan.field_uG, scan.rotation(scan.signal_V), s=8, color="tab:gray", alpha=0.6, label="data")
    grid = np.linspace(scan.field_uG.min(), scan.field_uG.max(), 2000)
    fit = scan.nested
    assert fit is not None
    ax.plot(grid, scan.rotation(fit.curve(grid)), color="k", lw=1.3, label="two-component fit")
    for comp, color in zip(fit.components, ("tab:green", "tab:purple")):
        ax.plot(grid, scan.rotation(comp.curve(grid)), color=color, lw=1.0, ls="--",
                label=f"component: width {format_pm(comp.width_uG, comp.width_err_uG * scan.quality.error_scale)} uG")
    ax.set_xlabel("Bz (uG)")
    ax.set_ylabel("rotation (urad)" if scan.calibration_V_per_rad is not None else "lock-in X (uV, no calibration)")
    kept = "kept" if scan.fit is fit else "not kept"
    p = "" if scan.nested_p is None else f", F-test p {format_p(scan.nested_p)}"
    ax.set_title(f"nested NMOR feature, {scan.line}, {scan.light_power_uW:.3g} uW (two components {kept}{p})",
                 fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def zeeman_spectrum(scan: RfScanResult, reference_hz: float, path: Path) -> Path:
    """Fig. 6: a wide rf spectrum with the resolved Zeeman components and their Lorentzian fit."""
    fig = Figure(figsize=(7.5, 4.4), layout="constrained")
    ax = fig.subplots()
    sp = scan.spectrum
    multi = scan.multi
    assert multi is not None

    def change_uV(f: np.ndarray, v: np.ndarray) -> np.ndarray:
        return 1e6 * (v - multi.offset - multi.slope * (f - multi.f_mid_hz))

    x = sp.freq_hz - reference_hz
    ax.plot(x, change_uV(sp.freq_hz, sp.signal_V), ".", ms=3, color="tab:gray", label="average of repeats")
    grid = np.linspace(sp.freq_hz[0], sp.freq_hz[-1], 4000)
    ax.plot(grid - reference_hz, change_uV(grid, multi.curve(grid)), color="k", lw=1.1,
            label=f"{len(multi.lines)} Lorentzians")
    for i, line in enumerate(multi.lines):
        y = float(change_uV(np.array([line.center_hz]), multi.curve([line.center_hz]))[0])
        label = "0-0" if i == scan.zero_zero_index else f"{line.center_hz - reference_hz:+.0f}"
        ax.annotate(label, (line.center_hz - reference_hz, y), textcoords="offset points",
                    xytext=(0, -12 if line.amplitude < 0 else 6), ha="center", fontsize=8)
    ax.set_xlabel(f"rf frequency - {reference_hz:,.1f} Hz (Hz)")
    ax.set_ylabel("transmission change (uV)")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo - 0.2 * (hi - lo), hi + 0.1 * (hi - lo))  # room for the labels and the legend
    ax.set_title(f"Zeeman components: {scan.light_power_uW:.3g} uW, {_rf_label(scan)}, Bz "
                 f"{_fmt(scan.bz_uG)} uG")
    ax.legend(fontsize=8, loc="lower left", ncols=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def rf_spectrum(scan: RfScanResult, reference_hz: float, path: Path) -> Path:
    """Fig. 7: one averaged 0-0 spectrum with its Lorentzian fit."""
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    _draw_rf(ax, scan, reference_hz, small=False)
    fit = scan.fit
    assert fit is not None
    quality = "" if scan.quality is None else f"\n{scan.quality.summary()}"
    ax.set_title(f"0-0 line, {scan.light_power_uW:.3g} uW, {_rf_label(scan)}: FWHM "
                 f"{_pm(fit.fwhm_hz, fit.fwhm_err_hz)} Hz{quality}", fontsize=10)
    return _save(fig, path)


def rf_overview(scans: Sequence[RfScanResult], reference_hz: float, path: Path, max_panels: int = 24) -> Path:
    """Every narrow rf spectrum with its Lorentzian, small multiples."""
    shown = list(scans)[:max_panels]
    ncols = min(3, len(shown))
    nrows = math.ceil(len(shown) / ncols)
    fig = Figure(figsize=(3.6 * ncols, 2.6 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, scan in zip(axes, shown):
        _draw_rf(ax, scan, reference_hz, small=True)
        ax.set_title(f"{scan.light_power_uW:.3g} uW, {_rf_label(scan)}: "
                     f"{scan.zero_zero_fit.fwhm_hz:.3g} Hz", fontsize=8)
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    if len(scans) > max_panels:
        fig.suptitle(f"first {max_panels} of {len(scans)} rf scans")
    return _save(fig, path)


def _draw_rf(ax: Axes, scan: RfScanResult, reference_hz: float, small: bool) -> None:
    """The averaged spectrum and its fit, as the change from the fitted straight background (uV)."""
    sp, fit = scan.spectrum, scan.fit
    assert fit is not None
    x = sp.freq_hz - reference_hz
    base = fit.offset + fit.slope * (sp.freq_hz - fit.f_mid_hz)
    y = 1e6 * (sp.signal_V - base)
    if sp.sigma_V is not None and not small:  # error bars are slow to draw; panels show points
        ax.errorbar(x, y, yerr=1e6 * sp.sigma_V, fmt=".", ms=3, color="tab:gray", elinewidth=0.6,
                    label="average of repeats")
    else:
        ax.plot(x, y, ".", ms=3, color="tab:gray", label="data")
    grid = np.linspace(sp.freq_hz[0], sp.freq_hz[-1], 800)
    line = fit.curve(grid) - (fit.offset + fit.slope * (grid - fit.f_mid_hz))
    ax.plot(grid - reference_hz, 1e6 * line, color="tab:red", lw=1.2, label="Lorentzian fit")
    ax.set_xlabel(f"rf frequency - {reference_hz:,.1f} Hz (Hz)", fontsize=8 if small else None)
    ax.set_ylabel("transmission change (uV)", fontsize=8 if small else None)
    if small:
        ax.tick_params(labelsize=7)
    else:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)


def hyperfine_vs_light(result: HyperfineResult, path: Path) -> Path:
    """Fig. 9: 0-0 widths and centres versus light power, one straight line per rf power."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_w, ax_c = fig.subplots(1, 2)
    ref = result.reference_hz
    colors = _colors(len(result.groups))
    for group, color in zip(result.groups, colors):
        scans = [s for s in group.scans if s.fit is not None]
        p = [s.light_power_uW for s in scans]
        label = f"{group.rf_power_dBm:.3g} dBm ({1e3 * group.rf_power_mW:.2g} uW)"
        ax_w.errorbar(p, [s.zero_zero_fit.fwhm_hz for s in scans], yerr=[s.zero_zero_fit.fwhm_err_hz for s in scans],
                      fmt="o", color=color, capsize=3, label=label)
        ax_c.errorbar(p, [s.zero_zero_fit.center_hz - ref for s in scans],
                      yerr=[s.zero_zero_fit.center_err_hz for s in scans],
                      fmt="o", color=color, capsize=3, label=label)
        grid = np.linspace(0.0, max(p) * 1.05, 50)
        for ax, line, off in ((ax_w, group.fwhm_fit, 0.0), (ax_c, group.center_fit, -ref)):
            if line is not None:
                ax.plot(grid, line.predict(grid) + off, color=color, lw=1.0)
                ax.errorbar([0.0], [line.intercept + off], yerr=[line.intercept_err], fmt="s",
                            mfc="white", color=color, capsize=3)
    for ax, ylabel in ((ax_w, "FWHM (Hz)"), (ax_c, f"centre - {ref:,.1f} Hz (Hz)")):
        ax.set_xlabel("light power (uW)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    ax_w.set_title("0-0 width versus light power (open: zero light)")
    ax_c.set_title("0-0 centre versus light power")
    ax_w.legend(fontsize=8, title="rf power", title_fontsize=8)
    return _save(fig, path)


def hyperfine_vs_rf(result: HyperfineResult, path: Path) -> Path:
    """Fig. 10: the zero-light widths and centres versus rf power (mW) and their straight lines to
    zero rf power; the model-based (FWHM^2) width is shown at zero for comparison."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_w, ax_c = fig.subplots(1, 2)
    ref = result.reference_hz
    groups = [g for g in result.groups if g.fwhm_fit is not None]
    mw = [g.rf_power_mW for g in groups]
    to_uW = 1e3   # the rf powers are a few uW: plotted in uW so the tick labels stay short
    uw = [to_uW * m for m in mw]
    fwhm_lines = [zero_light_line(g.fwhm_fit) for g in groups]
    center_lines = [zero_light_line(g.center_fit) for g in groups]
    ax_w.errorbar(uw, [f.intercept for f in fwhm_lines], yerr=[f.intercept_err for f in fwhm_lines],
                  fmt="o", color="tab:blue", capsize=3, label="zero-light FWHM")
    ax_c.errorbar(uw, [c.intercept - ref for c in center_lines],
                  yerr=[c.intercept_err for c in center_lines], fmt="o", color="tab:blue", capsize=3,
                  label="zero-light centre")
    if mw:
        grid = np.linspace(0.0, max(mw) * 1.05, 50)
        for ax, line, off, name in ((ax_w, result.fwhm_fit, 0.0, "FWHM"),
                                    (ax_c, result.center_fit, -ref, "shift")):
            if line is not None:
                ax.plot(to_uW * grid, line.predict(grid) + off, color="tab:red", lw=1.2)
                ax.errorbar([0.0], [line.intercept + off], yerr=[line.intercept_err], fmt="s",
                            color="tab:red", capsize=4,
                            label=f"{name} = {_pm(line.intercept + off, line.intercept_err)} Hz")
    model = result.model.fit
    if model is not None:
        x_model = -0.02 * to_uW * max(mw) if mw else 0.0  # beside the paper-procedure point, not on it
        ax_w.errorbar([x_model], [model.intercept], yerr=[model.intercept_err], fmt="D", mfc="white",
                      color="tab:green", capsize=4,
                      label=f"model-based (FWHM^2) = {_pm(model.intercept, model.intercept_err)} Hz")
    for ax, ylabel in ((ax_w, "FWHM at zero light (Hz)"), (ax_c, f"centre - {ref:,.1f} Hz (Hz)")):
        ax.set_xlabel("rf power (uW)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_w.set_title("zero-light 0-0 width versus rf power")
    ax_c.set_title("zero-light 0-0 centre versus rf power")
    return _save(fig, path)


def _rf_label(scan: RfScanResult) -> str:
    return "rf power unknown" if scan.rf_power_dBm is None else f"{scan.rf_power_dBm:.3g} dBm"


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"


def _pm(value: float, err: float) -> str:
    """"value +- error" with the error to 2 significant digits and the value to match."""
    return format_pm(value, err)


def _colors(n: int) -> list[str]:
    base = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
            "tab:olive", "tab:cyan", "tab:gray"]
    return [base[i % len(base)] for i in range(n)]
