"""Hyperfine (0-0) relaxation from stepped rf scans: average the repeats, fit the 0-0 Lorentzian
(or the resolved Zeeman components of a wide scan), and extrapolate widths and centres to zero
light power and then to zero rf power (the paper's Figs. 6, 7, 9 and 10).

Frequencies in Hz, light powers in uW, rf powers in dBm and mW (the extrapolation variable), the
transmission in V. Two zero-power procedures are reported (docs/decisions/0047):

- "paper" (the default, the paper's procedure): at each rf power, width and centre linear in light
  power -> zero-light values; those linear in rf power (mW) -> intrinsic FWHM and centre.
- "model" (labelled alternative): at each light power, FWHM^2 linear in rf power -> zero-rf width;
  those linear in light power -> intrinsic FWHM. Exact for the two-level line
  FWHM = (1/pi) sqrt(G2^2 + Omega_R^2 G2/G1) with G2 linear in light power, Omega_R^2 linear in rf
  power and G1/G2 fixed, where the paper's linear-linear procedure is biased at higher rf power.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from .constants import BOHR_MAGNETON_HZ_PER_UG, K39_G_I, K39_G_J, K39_HFS_REFERENCE_HZ
from .extrapolation import LineFit, extrapolate_to_zero
from .files import ScanData, ScanProblem, cluster_labels, good_point_mask, nominal_light_uW
from .fitcore import FitError
from .jackknife import MIN_JACKKNIFE_REPEATS, delete_one_errors
from .lorentzian_fit import (LorentzianFit, MultiLorentzianFit, best_candidate_rss, fit_lorentzian,
                             fit_lorentzians)
from .quality import FITTED, NO_SIGNAL, FitQuality, f_test_p, judge, lack_of_fit, weighted_line_rss

FREQ_COLUMNS = ("freq_set_hz", "set_freq_hz", "freq_hz", "frequency_hz")
COUNTER_COLUMNS = ("freq_counter_hz", "counter_hz")
SIGNAL_COLUMNS = ("transmission_V", "signal_V")
LIGHT_COLUMNS = ("light_power_uW", "light_uW", "power_uW")
RF_POWER_PARAMETERS = ("rf_power_dBm", "rf_amplitude_dBm", "amplitude_dBm")
BZ_PARAMETERS = ("bz_read_uG", "bz_uG")
MAX_ZEEMAN_LINES = 9
MIN_FREQUENCIES = 8


def quadratic_zeeman_shift_hz(field_uG: float, nu_hfs_hz: float = K39_HFS_REFERENCE_HZ) -> float:
    """Second-order Zeeman shift of the 0-0 line (Hz) in a field of `field_uG` (uG), from the
    Breit-Rabi formula: nu_hfs (sqrt(1 + x^2) - 1), x = (g_J - g_I) mu_B B / (h nu_hfs)
    (about 8506 Hz/G^2 x B^2: 0.017 Hz at 1.4 mG)."""
    x = (K39_G_J - K39_G_I) * BOHR_MAGNETON_HZ_PER_UG * field_uG / nu_hfs_hz
    return nu_hfs_hz * x * x / (1.0 + math.sqrt(1.0 + x * x))


@dataclass(frozen=True)
class RfSpectrum:
    """The repeats of one rf scan averaged per set frequency.

    `sigma_V` is the standard error of each mean from the pooled scatter of the repeats about their
    means, s_pooled/sqrt(n_k) (None with a single repeat: the fits then take the noise from the
    scatter about the curve). `counter_offset_hz` is the median of counter minus set frequency.
    """

    freq_hz: NDArray[np.float64]
    signal_V: NDArray[np.float64]
    sigma_V: NDArray[np.float64] | None
    n_repeats: NDArray[np.int64]
    counter_offset_hz: float | None


def average_repeats(freq_hz: NDArray[np.float64], signal_V: NDArray[np.float64],
                    counter_hz: NDArray[np.float64] | None = None,
                    repeat: NDArray[np.float64] | None = None) -> RfSpectrum:
    """Mean signal per set frequency (frequencies equal to 1 mHz are one), with pooled standard
    errors (docs/decisions/0046).

    With `repeat` (each point's repeat number), each repeat's level is taken out before the scatter
    is pooled: slow drifts of the light move a whole 30 s repeat up or down, which is the same for
    every frequency of that repeat and cancels in the averaged curve's shape (its offset is a fit
    parameter), so it must not count as noise of the points (docs/decisions/0115). The levels are
    the additive two-way model signal = curve(f) + level(repeat), solved by alternating means."""
    keys = np.round(freq_hz, 3)
    freqs, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    levels = np.zeros(signal_V.size)
    n_levels = 0
    if repeat is not None and np.all(np.isfinite(repeat)):
        reps, rep_index, rep_counts = np.unique(repeat, return_inverse=True, return_counts=True)
        if reps.size > 1:
            n_levels = reps.size - 1
            level = np.zeros(reps.size)
            for _ in range(20):
                curve = np.bincount(inverse, weights=signal_V - level[rep_index]) / counts
                new = np.bincount(rep_index, weights=signal_V - curve[inverse]) / rep_counts
                new -= new.mean()
                if np.allclose(new, level, rtol=0.0, atol=1e-12 * (np.abs(signal_V).max() or 1.0)):
                    level = new
                    break
                level = new
            levels = level[rep_index]
    mean = np.bincount(inverse, weights=signal_V - levels) / counts
    resid = signal_V - levels - mean[inverse]
    dof = signal_V.size - freqs.size - n_levels
    sigma = None
    if dof >= 2 and np.any(resid != 0.0):
        pooled = float(np.dot(resid, resid) / dof)
        sigma = np.sqrt(pooled / counts)
    offset = None
    if counter_hz is not None:
        diff = counter_hz - freq_hz
        diff = diff[np.isfinite(diff)]
        offset = float(np.median(diff)) if diff.size else None
    return RfSpectrum(freq_hz=freqs.astype(float), signal_V=mean, sigma_V=sigma,
                      n_repeats=counts.astype(np.int64), counter_offset_hz=offset)


@dataclass(frozen=True)
class RfScanResult:
    """One rf scan: its averaged spectrum and either the 0-0 fit (`fit`, narrow scans) or the
    multi-Lorentzian fit of a wide scan showing the Zeeman components (`multi`; `zero_zero_index`
    is the line nearest the reference). `rf_power_dBm` is None if the file does not say (the scan
    is then fitted but kept out of the extrapolations)."""

    file: str
    status: str
    light_power_uW: float
    nominal_power_uW: float
    rf_power_dBm: float | None
    bz_uG: float | None
    span_hz: float
    n_points: int
    excluded: dict[str, int]
    wide: bool
    spectrum: RfSpectrum = field(repr=False, compare=False)
    fit: LorentzianFit | None = None
    multi: MultiLorentzianFit | None = None
    zero_zero_index: int | None = None
    notes: tuple[str, ...] = ()
    quality: FitQuality | None = None
    unscaled_errors_hz: dict[str, float] = field(default_factory=dict)
    """The 0-0 fit's own FWHM and centre errors before the sqrt(max(1, chi2_red)) scaling
    (docs/decisions/0110); empty for wide scans."""
    repeat_errors_hz: dict[str, float] = field(default_factory=dict)
    """FWHM and centre errors from refits with each repeat left out (docs/decisions/0116); `fit`
    carries the larger of these and the scaled fit errors. Empty below MIN_JACKKNIFE_REPEATS."""

    @property
    def fit_status(self) -> str:
        return FITTED if self.quality is None else self.quality.status

    @property
    def rf_power_mW(self) -> float | None:
        return None if self.rf_power_dBm is None else 10.0 ** (self.rf_power_dBm / 10.0)

    @property
    def zero_zero_fit(self) -> LorentzianFit:
        """`fit`, for a narrow scan that has one (the only scans the extrapolations use)."""
        if self.fit is None:
            raise ValueError(f"{self.file}: no Lorentzian fit of the 0-0 line (a wide scan or no signal)")
        return self.fit

    @property
    def known_rf_power_dBm(self) -> float:
        """`rf_power_dBm`, for a scan whose file gives it (the only scans the extrapolations use)."""
        if self.rf_power_dBm is None:
            raise ValueError(f"{self.file}: no rf power in the parameters (rf_power_dBm)")
        return self.rf_power_dBm

    @property
    def known_rf_power_mW(self) -> float:
        return float(10.0 ** (self.known_rf_power_dBm / 10.0))

    def as_dict(self, reference_hz: float = K39_HFS_REFERENCE_HZ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file, "status": self.status, "light_power_uW": self.light_power_uW,
            "nominal_power_uW": self.nominal_power_uW, "rf_power_dBm": self.rf_power_dBm,
            "rf_power_mW": self.rf_power_mW, "bz_uG": self.bz_uG, "span_hz": self.span_hz,
            "n_points_fitted": self.n_points, "excluded_points": dict(self.excluded),
            "n_frequencies": int(self.spectrum.freq_hz.size),
            "repeats_max": int(self.spectrum.n_repeats.max()) if self.spectrum.n_repeats.size else 0,
            "counter_offset_hz": self.spectrum.counter_offset_hz, "wide": self.wide,
            "fit_status": self.fit_status, "quality": None if self.quality is None else self.quality.as_dict(),
            "unscaled_errors_hz": dict(self.unscaled_errors_hz), "repeat_errors_hz": dict(self.repeat_errors_hz),
            "notes": list(self.notes),
        }
        if self.fit is not None:
            out["fwhm_hz"] = _value(self.fit.fwhm_hz, self.fit.fwhm_err_hz, "Hz")
            out["center_hz"] = _value(self.fit.center_hz, self.fit.center_err_hz, "Hz")
            out["center_minus_reference_hz"] = _value(self.fit.center_hz - reference_hz,
                                                      self.fit.center_err_hz, "Hz")
            out["fit"] = _strip(self.fit.as_dict())
        if self.multi is not None:
            out["lines"] = [{"center_minus_reference_hz": _value(line.center_hz - reference_hz,
                                                                 line.center_err_hz, "Hz"),
                             "fwhm_hz": _value(line.fwhm_hz, line.fwhm_err_hz, "Hz"),
                             "amplitude_V": _value(line.amplitude, line.amplitude_err, "V"),
                             "zero_zero": i == self.zero_zero_index}
                            for i, line in enumerate(self.multi.lines)]
            out["chi2_red"] = self.multi.chi2_red
        return out


def fit_rfscan(scan: ScanData, reference_hz: float = K39_HFS_REFERENCE_HZ,
               wide_span_hz: float = 3000.0) -> RfScanResult:
    """Average the repeats of one rf scan and fit it: one Lorentzian for a scan spanning at most
    `wide_span_hz`, several (the resolved Zeeman components, counted from the peaks of the
    spectrum) for a wider one. Raises ScanProblem or FitError."""
    freq = scan.column(FREQ_COLUMNS, "Hz", "the set rf frequency")
    signal = scan.column(SIGNAL_COLUMNS, "V", "the transmission")
    light = scan.column(LIGHT_COLUMNS, "uW", "the measured light power")
    counter_name = scan.has(*COUNTER_COLUMNS)
    counter = scan.column([counter_name], "Hz") if counter_name else None
    keep, excluded = good_point_mask(scan, [freq, signal])
    light_ok = keep & np.isfinite(light)
    if not light_ok.any():
        raise ScanProblem("the light-power column has no finite value at the good points")
    repeat_name = scan.has("repeat")
    repeat = scan.column([repeat_name]) if repeat_name else None
    spectrum = average_repeats(freq[keep], signal[keep], None if counter is None else counter[keep],
                               None if repeat is None else np.asarray(repeat[keep], dtype=float))
    if spectrum.freq_hz.size < MIN_FREQUENCIES:
        raise ScanProblem(f"only {spectrum.freq_hz.size} distinct frequencies with good points "
                          f"(need >= {MIN_FREQUENCIES})")
    power = float(np.mean(light[light_ok]))
    span = float(spectrum.freq_hz[-1] - spectrum.freq_hz[0])
    notes: list[str] = []
    rf_dBm = _number(scan.param(*RF_POWER_PARAMETERS))
    if rf_dBm is None:
        notes.append("no rf power in the parameters (rf_power_dBm): kept out of the extrapolations")
    if scan.status != "complete":
        notes.append(f"file status {scan.status}: analysed the {scan.n_points} points it holds")
    if spectrum.counter_offset_hz is not None and abs(spectrum.counter_offset_hz) > 0.1:
        notes.append(f"counter reads {spectrum.counter_offset_hz:+.3g} Hz from the set frequency")
    common: dict[str, Any] = dict(file=str(scan.path), status=scan.status, light_power_uW=power,
                  nominal_power_uW=nominal_light_uW(scan, power), rf_power_dBm=rf_dBm,
                  bz_uG=_number(scan.param(*BZ_PARAMETERS)), span_hz=span, n_points=int(keep.sum()),
                  excluded=excluded, spectrum=spectrum)
    raw_f, raw_y = freq[keep], signal[keep]
    line_rss = weighted_line_rss(spectrum.freq_hz, spectrum.signal_V, spectrum.sigma_V)
    if span > wide_span_hz:
        try:
            multi = _fit_zeeman_components(spectrum)
            rss = _rss(multi.curve, spectrum)
        except FitError as exc:
            multi, rss, failure = None, best_candidate_rss(spectrum.freq_hz, spectrum.signal_V, spectrum.sigma_V), exc
        k = 5 if multi is None else 2 + 3 * len(multi.lines)
        quality = _quality(None if multi is None else multi.curve, spectrum, raw_f, raw_y,
                           f_test_p(line_rss, rss, spectrum.freq_hz.size, 2, k), k,
                           None if multi is None else _background(multi.offset, multi.slope, multi.f_mid_hz))
        if quality.status == NO_SIGNAL:
            return RfScanResult(wide=True, quality=quality, notes=tuple(notes), **common)
        if multi is None:
            raise failure
        centers = np.array([line.center_hz for line in multi.lines])
        index = int(np.argmin(np.abs(centers - reference_hz)))
        return RfScanResult(wide=True, multi=multi, zero_zero_index=index, notes=tuple(notes), quality=quality,
                            **common)
    fit: LorentzianFit | None
    try:
        fit = fit_lorentzian(spectrum.freq_hz, spectrum.signal_V, spectrum.sigma_V)
        rss = _rss(fit.curve, spectrum)
    except FitError as exc:
        fit, rss, failure = None, best_candidate_rss(spectrum.freq_hz, spectrum.signal_V, spectrum.sigma_V), exc
    quality = _quality(None if fit is None else fit.curve, spectrum, raw_f, raw_y,
                       f_test_p(line_rss, rss, spectrum.freq_hz.size, 2, 5), 5,
                       None if fit is None else _background(fit.offset, fit.slope, fit.f_mid_hz))
    if quality.status == NO_SIGNAL:
        return RfScanResult(wide=False, quality=quality, notes=tuple(notes), **common)
    if fit is None:
        raise failure
    low, high = float(spectrum.freq_hz.min()), float(spectrum.freq_hz.max())
    if not low <= fit.center_hz <= high:
        quality = dataclasses.replace(quality, status=NO_SIGNAL, reason=(
            f"no resonance to measure: the line is not inside the scanned frequencies (fitted centre "
            f"{fit.center_hz:.1f} Hz, data from {low:.1f} to {high:.1f} Hz)"))
        return RfScanResult(wide=False, quality=quality, notes=tuple(notes), **common)
    scale = quality.error_scale
    unscaled = {"fwhm_hz": fit.fwhm_err_hz, "center_hz": fit.center_err_hz}
    jack = {} if repeat is None else repeat_jackknife(raw_f, raw_y, np.asarray(repeat[keep], dtype=float))
    fit = dataclasses.replace(fit, fwhm_err_hz=max(fit.fwhm_err_hz * scale, jack.get("fwhm_hz", 0.0)),
                              center_err_hz=max(fit.center_err_hz * scale, jack.get("center_hz", 0.0)),
                              amplitude_err=fit.amplitude_err * scale)
    return RfScanResult(wide=False, fit=fit, notes=tuple(notes), quality=quality, unscaled_errors_hz=unscaled,
                        repeat_errors_hz=jack, **common)


def repeat_jackknife(freq_hz: NDArray[np.float64], signal_V: NDArray[np.float64],
                     repeat: NDArray[np.float64]) -> dict[str, float]:
    """FWHM and centre errors (Hz) of the 0-0 Lorentzian from refitting the averaged spectrum with
    each repeat left out in turn (docs/decisions/0116): they hold whatever the noise's correlation
    along a sweep. Empty with fewer than MIN_JACKKNIFE_REPEATS repeats or when a refit fails (the
    fit's own errors then stand alone)."""
    if not np.all(np.isfinite(repeat)):
        return {}
    numbers = np.unique(repeat)
    if numbers.size < MIN_JACKKNIFE_REPEATS:
        return {}
    estimates = []
    for number in numbers:
        rest = repeat != number
        spectrum = average_repeats(freq_hz[rest], signal_V[rest], repeat=repeat[rest])
        try:
            fit = fit_lorentzian(spectrum.freq_hz, spectrum.signal_V, spectrum.sigma_V)
        except FitError:
            return {}
        estimates.append((fit.fwhm_hz, fit.center_hz))
    fwhm_err, center_err = delete_one_errors(estimates)
    return {"fwhm_hz": float(fwhm_err), "center_hz": float(center_err)}


def _background(offset: float, slope: float, f_mid_hz: float) -> Callable[[Any], NDArray[np.float64]]:
    """The fitted straight background c0 + c1 (f - f_mid) as a function of frequency (Hz)."""
    return lambda f: offset + slope * (np.asarray(f, dtype=float) - f_mid_hz)


def _rss(curve: Callable[[Any], NDArray[np.float64]], spectrum: RfSpectrum) -> float:
    resid = spectrum.signal_V - curve(spectrum.freq_hz)
    if spectrum.sigma_V is not None:
        resid = resid / spectrum.sigma_V
    return float(resid @ resid)


def _quality(curve: Callable[[Any], NDArray[np.float64]] | None, spectrum: RfSpectrum,
             raw_freq_hz: NDArray[np.float64], raw_signal_V: NDArray[np.float64], signal_p: float,
             n_params: int, background: Callable[[Any], NDArray[np.float64]] | None = None) -> FitQuality:
    """Status, chi2_red (with the pooled errors of the repeat averages), scatter ratio and the
    lack-of-fit test against the repeats at each frequency."""
    if curve is None or background is None:
        return judge(signal_p=signal_p, chi2_red=None, scatter_ratio=None, lof=None, signal_rms=None,
                     what="rf resonance")
    dof = max(1, spectrum.freq_hz.size - n_params)
    resid = spectrum.signal_V - curve(spectrum.freq_hz)
    chi2_red = scatter = None
    if spectrum.sigma_V is not None:
        chi2_red = float(np.sum((resid / spectrum.sigma_V) ** 2) / dof)
        scatter = float(np.sqrt(resid @ resid / dof) / np.sqrt(np.mean(spectrum.sigma_V ** 2)))
    lof = lack_of_fit(raw_signal_V - curve(raw_freq_hz), np.round(raw_freq_hz, 3), n_params)
    return judge(signal_p=signal_p, chi2_red=chi2_red, scatter_ratio=scatter, lof=lof,
                 signal_rms=float(np.sqrt(np.mean((curve(raw_freq_hz) - background(raw_freq_hz)) ** 2))),
                 what="rf resonance")


def _fit_zeeman_components(spectrum: RfSpectrum) -> MultiLorentzianFit:
    """Fit as many Lorentzians as the spectrum shows clear peaks (or dips), at most 9; if that fit
    fails, one fewer, and so on."""
    from scipy.signal import find_peaks  # scipy.signal takes ~0.5 s to import; only wide scans need it

    y = spectrum.signal_V
    dev = y - np.median(y)
    s = dev * np.sign(dev[np.argmax(np.abs(dev))])
    noise = 1.4826 * float(np.median(np.abs(np.diff(y)))) / math.sqrt(2.0)
    peaks, _ = find_peaks(s, prominence=max(6.0 * noise, 0.03 * float(s.max())))
    n = int(min(max(peaks.size, 1), MAX_ZEEMAN_LINES))
    last: FitError | None = None
    while n >= 1:
        try:
            return fit_lorentzians(spectrum.freq_hz, y, n, spectrum.sigma_V)
        except FitError as exc:
            last = exc
            n -= 1
    raise FitError(f"no multi-Lorentzian fit of the wide spectrum converged ({last})")


@dataclass(frozen=True)
class RfPowerGroup:
    """The narrow scans at one rf power, and their widths and centres extrapolated to zero light."""

    rf_power_dBm: float
    rf_power_mW: float
    scans: tuple[RfScanResult, ...]
    used: tuple[bool, ...]
    fwhm_fit: LineFit | None
    center_fit: LineFit | None
    note: str = ""

    def as_dict(self, reference_hz: float) -> dict[str, Any]:
        return {
            "rf_power_dBm": self.rf_power_dBm, "rf_power_mW": self.rf_power_mW,
            "files": [s.file for s, u in zip(self.scans, self.used) if u],
            "light_power_uW": [s.light_power_uW for s in self.scans],
            "fwhm_hz": [_value(s.fit.fwhm_hz, s.fit.fwhm_err_hz, "Hz") for s in self.scans if s.fit],
            "center_minus_reference_hz": [_value(s.fit.center_hz - reference_hz, s.fit.center_err_hz, "Hz")
                                          for s in self.scans if s.fit],
            "zero_light_fwhm_hz": _line_value(self.fwhm_fit, "Hz"),
            "fwhm_slope_hz_per_uW": _slope_value(self.fwhm_fit, "Hz/uW"),
            "zero_light_center_minus_reference_hz": _line_value(self.center_fit, "Hz", -reference_hz),
            "center_slope_hz_per_uW": _slope_value(self.center_fit, "Hz/uW"),
            "chi2_red": {"fwhm": None if self.fwhm_fit is None else self.fwhm_fit.chi2_red,
                         "center": None if self.center_fit is None else self.center_fit.chi2_red},
            "note": self.note,
        }


@dataclass(frozen=True)
class ModelExtrapolation:
    """The labelled alternative: per light power FWHM^2 versus rf power (mW) to zero rf power,
    then the square roots versus light power to zero light. `zero_rf` holds, per light-power
    group, (mean light power uW, zero-rf FWHM Hz, its error Hz, files)."""

    zero_rf: tuple[tuple[float, float, float, tuple[str, ...]], ...]
    fit: LineFit | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": ("model-based alternative: FWHM^2 linear in rf power at each light power, then "
                      "FWHM linear in light power (exact if FWHM = (1/pi) sqrt(G2^2 + Omega_R^2 G2/G1) "
                      "with G2 linear in light power and G1/G2 fixed)"),
            "fwhm_hz": _line_value(self.fit, "Hz"),
            "chi2_red": None if self.fit is None else self.fit.chi2_red,
            "zero_rf": [{"light_power_uW": p, "fwhm_hz": _value(w, e, "Hz"), "files": list(f)}
                        for p, w, e, f in self.zero_rf],
            "note": self.note,
        }


@dataclass(frozen=True)
class HyperfineResult:
    """The 0-0 line extrapolated to zero light and rf power.

    Paper procedure: `groups` (one per rf power, zero-light values) and `fwhm_fit`/`center_fit`
    (those versus rf power in mW); `fwhm_hz` and `shift_hz` (centre minus `reference_hz`) are their
    intercepts. `model` is the FWHM^2 alternative, `center_all` the centre of every narrow scan
    versus light power in one line (the paper saw no rf dependence). `quadratic_zeeman_hz` is the
    second-order Zeeman shift at the scans' mean Bz, included in the measured centre.
    """

    reference_hz: float
    groups: tuple[RfPowerGroup, ...]
    fwhm_fit: LineFit | None
    center_fit: LineFit | None
    model: ModelExtrapolation
    center_all: LineFit | None
    quadratic_zeeman_hz: float | None
    wide_scans: tuple[RfScanResult, ...]
    notes: tuple[str, ...] = ()

    @property
    def fwhm_hz(self) -> float | None:
        return None if self.fwhm_fit is None else self.fwhm_fit.intercept

    @property
    def fwhm_err_hz(self) -> float | None:
        return None if self.fwhm_fit is None else self.fwhm_fit.intercept_err

    @property
    def shift_hz(self) -> float | None:
        return None if self.center_fit is None else self.center_fit.intercept - self.reference_hz

    @property
    def shift_err_hz(self) -> float | None:
        return None if self.center_fit is None else self.center_fit.intercept_err

    def files(self) -> list[str]:
        """Scans that entered the paper-procedure extrapolation."""
        return [s.file for g in self.groups for s, u in zip(g.scans, g.used) if u]

    def as_dict(self) -> dict[str, Any]:
        ref = self.reference_hz
        shift = _line_value(self.center_fit, "Hz", -ref)
        corrected = None
        if shift is not None and self.quadratic_zeeman_hz is not None:
            corrected = _value(shift["value"] - self.quadratic_zeeman_hz, shift["error"], "Hz")
        return {
            "reference_hz": {"value": ref, "error": None, "units": "Hz"},
            "procedure": ("paper: at each rf power, width and centre linear in light power to zero "
                          "light; those linear in rf power (mW) to zero rf power"),
            "fwhm_hz": _line_value(self.fwhm_fit, "Hz"),
            "shift_hz": shift,
            "fwhm_slope_hz_per_mW": _slope_value(self.fwhm_fit, "Hz/mW"),
            "center_slope_hz_per_mW": _slope_value(self.center_fit, "Hz/mW"),
            "chi2_red": {"fwhm": None if self.fwhm_fit is None else self.fwhm_fit.chi2_red,
                         "center": None if self.center_fit is None else self.center_fit.chi2_red},
            "quadratic_zeeman_hz": None if self.quadratic_zeeman_hz is None
            else _value(self.quadratic_zeeman_hz, None, "Hz"),
            "shift_without_quadratic_zeeman_hz": corrected,
            "files": self.files(),
            "by_rf_power": [g.as_dict(ref) for g in self.groups],
            "model_based": self.model.as_dict(),
            "center_all_scans_vs_light": {
                "label": "every narrow scan's centre linear in light power, no rf dependence",
                "shift_hz": _line_value(self.center_all, "Hz", -ref),
                "chi2_red": None if self.center_all is None else self.center_all.chi2_red},
            "zeeman_spectra": [s.file for s in self.wide_scans],
            "notes": list(self.notes),
        }


def extrapolate_hyperfine(results: list[RfScanResult], reference_hz: float = K39_HFS_REFERENCE_HZ,
                          light_x_max_uW: float | None = None,
                          rf_x_max_mW: float | None = None, include_mismatched: bool = False) -> HyperfineResult:
    """Both zero-power procedures over the narrow scans with a known rf power (wide scans are
    kept for the Zeeman figure only). `light_x_max_uW` and `rf_x_max_mW` restrict the straight
    lines to low powers (nominal light power, 0.1 % tolerance). Each step needs >= 3 points.
    Scans with no signal have no fit; scans with a model mismatch are left out unless
    `include_mismatched`."""
    narrow = [r for r in results if not r.wide and r.fit is not None and r.rf_power_dBm is not None
              and (r.fit_status == FITTED or include_mismatched)]
    wide = tuple(r for r in results if r.wide and r.multi is not None)
    notes: list[str] = []
    no_rf = [r for r in results if not r.wide and r.fit is not None and r.rf_power_dBm is None]
    if no_rf:
        notes.append(f"{len(no_rf)} narrow scan(s) without an rf power kept out of the extrapolations")
    if not narrow:
        notes.append("no narrow 0-0 scan with a known rf power to extrapolate")
    groups = _rf_groups(narrow, light_x_max_uW)
    good = [g for g in groups if g.fwhm_fit is not None and g.center_fit is not None]
    good = [g for g in good if rf_x_max_mW is None or g.rf_power_mW <= rf_x_max_mW * (1 + 1e-3)]
    fwhm_fit = center_fit = None
    if len(good) >= 3:
        mw = [g.rf_power_mW for g in good]
        try:
            fwhm_fit = extrapolate_to_zero(mw, [zero_light_line(g.fwhm_fit).intercept for g in good],
                                           [zero_light_line(g.fwhm_fit).intercept_err for g in good])
            center_fit = extrapolate_to_zero(mw, [zero_light_line(g.center_fit).intercept for g in good],
                                             [zero_light_line(g.center_fit).intercept_err for g in good])
        except FitError as exc:
            notes.append(f"extrapolation to zero rf power failed: {exc}")
            fwhm_fit = center_fit = None
    elif narrow:
        notes.append(f"extrapolation to zero rf power needs >= 3 rf powers with a zero-light value; "
                     f"{len(good)} available")
    used_files = {s.file for g in good for s, u in zip(g.scans, g.used) if u} if fwhm_fit else set()
    kept = tuple(_restrict(g if fwhm_fit else _unused(g), used_files) for g in groups)
    center_all = None
    in_light = [r for r in narrow if light_x_max_uW is None or r.nominal_power_uW <= light_x_max_uW * (1 + 1e-3)]
    if len(in_light) >= 3 and np.ptp([r.light_power_uW for r in in_light]) > 0:
        try:
            center_all = extrapolate_to_zero([r.light_power_uW for r in in_light],
                                             [r.zero_zero_fit.center_hz for r in in_light],
                                             [r.zero_zero_fit.center_err_hz for r in in_light])
        except FitError:
            center_all = None
    fields = [abs(r.bz_uG) for r in narrow if r.bz_uG is not None]
    quad = quadratic_zeeman_shift_hz(float(np.mean(fields)), reference_hz) if fields else None
    return HyperfineResult(reference_hz=reference_hz, groups=kept, fwhm_fit=fwhm_fit,
                           center_fit=center_fit, model=_model_extrapolation(narrow, rf_x_max_mW, light_x_max_uW),
                           center_all=center_all, quadratic_zeeman_hz=quad, wide_scans=wide,
                           notes=tuple(notes))


def _rf_groups(narrow: list[RfScanResult], light_x_max_uW: float | None) -> list[RfPowerGroup]:
    labels = cluster_labels([r.known_rf_power_dBm for r in narrow], rel_tol=0.0, abs_tol=0.05)
    groups = []
    for label in sorted(set(labels)):
        scans = sorted((r for r, k in zip(narrow, labels) if k == label), key=lambda r: r.light_power_uW)
        dBm = float(np.mean([r.known_rf_power_dBm for r in scans]))
        used = tuple(light_x_max_uW is None or r.nominal_power_uW <= light_x_max_uW * (1 + 1e-3)
                     for r in scans)
        pts = [r for r, u in zip(scans, used) if u]
        fwhm_fit = center_fit = None
        note = ""
        if len(pts) < 3 or np.ptp([r.light_power_uW for r in pts]) == 0:
            note = f"needs >= 3 scans at two or more light powers; {len(pts)} available"
        else:
            x = [r.light_power_uW for r in pts]
            try:
                fwhm_fit = extrapolate_to_zero(x, [r.zero_zero_fit.fwhm_hz for r in pts], [r.zero_zero_fit.fwhm_err_hz for r in pts])
                center_fit = extrapolate_to_zero(x, [r.zero_zero_fit.center_hz for r in pts],
                                                 [r.zero_zero_fit.center_err_hz for r in pts])
            except FitError as exc:
                note = f"extrapolation to zero light failed: {exc}"
                fwhm_fit = center_fit = None
        if fwhm_fit is None:
            used = tuple(False for _ in scans)
        groups.append(RfPowerGroup(rf_power_dBm=dBm, rf_power_mW=10.0 ** (dBm / 10.0), scans=tuple(scans),
                                   used=used, fwhm_fit=fwhm_fit, center_fit=center_fit, note=note))
    return groups


def zero_light_line(line: LineFit | None) -> LineFit:
    """An rf power group's straight line to zero light, for the groups that have one."""
    if line is None:
        raise ValueError("an rf power group without a straight line to zero light")
    return line


def _unused(g: RfPowerGroup) -> RfPowerGroup:
    return RfPowerGroup(g.rf_power_dBm, g.rf_power_mW, g.scans, tuple(False for _ in g.scans),
                        g.fwhm_fit, g.center_fit, g.note)


def _restrict(g: RfPowerGroup, used_files: set[str]) -> RfPowerGroup:
    used = tuple(u and s.file in used_files for s, u in zip(g.scans, g.used))
    return RfPowerGroup(g.rf_power_dBm, g.rf_power_mW, g.scans, used, g.fwhm_fit, g.center_fit, g.note)


def _model_extrapolation(narrow: list[RfScanResult], rf_x_max_mW: float | None,
                         light_x_max_uW: float | None) -> ModelExtrapolation:
    pts = [r for r in narrow
           if (rf_x_max_mW is None or r.known_rf_power_mW <= rf_x_max_mW * (1 + 1e-3))
           and (light_x_max_uW is None or r.nominal_power_uW <= light_x_max_uW * (1 + 1e-3))]
    labels = cluster_labels([r.nominal_power_uW for r in pts])
    zero_rf = []
    skipped = []
    for label in sorted(set(labels)):
        group = [r for r, k in zip(pts, labels) if k == label]
        mw = [r.known_rf_power_mW for r in group]
        light = float(np.mean([r.light_power_uW for r in group]))
        if len(group) < 3 or np.ptp(mw) == 0:
            skipped.append(f"{light:.3g} uW ({len(group)} scans)")
            continue
        w = np.array([r.zero_zero_fit.fwhm_hz for r in group])
        e = np.array([r.zero_zero_fit.fwhm_err_hz for r in group])
        try:
            line = extrapolate_to_zero(mw, w * w, 2.0 * w * e)
        except FitError:
            skipped.append(f"{light:.3g} uW (fit failed)")
            continue
        if line.intercept <= 0:
            skipped.append(f"{light:.3g} uW (FWHM^2 at zero rf power <= 0)")
            continue
        w0 = math.sqrt(line.intercept)
        zero_rf.append((light, w0, line.intercept_err / (2.0 * w0), tuple(r.file for r in group)))
    note = ("light powers without >= 3 scans at two or more rf powers: " + ", ".join(skipped)) if skipped else ""
    fit = None
    if len(zero_rf) >= 3:
        try:
            fit = extrapolate_to_zero([z[0] for z in zero_rf], [z[1] for z in zero_rf], [z[2] for z in zero_rf])
        except FitError as exc:
            note = (note + "; " if note else "") + f"extrapolation to zero light failed: {exc}"
    elif pts:
        note = (note + "; " if note else "") + f"needs >= 3 light powers with a zero-rf width; {len(zero_rf)} available"
    return ModelExtrapolation(zero_rf=tuple(zero_rf), fit=fit, note=note)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _value(value: float | None, error: float | None, units: str) -> dict[str, Any]:
    return {"value": value, "error": error, "units": units}


def _line_value(fit: LineFit | None, units: str, offset: float = 0.0) -> dict[str, Any] | None:
    return None if fit is None else _value(fit.intercept + offset, fit.intercept_err, units)


def _slope_value(fit: LineFit | None, units: str) -> dict[str, Any] | None:
    return None if fit is None else _value(fit.slope, fit.slope_err, units)


def _strip(d: dict[str, Any]) -> dict[str, Any]:
    d.pop("param_names", None)
    d.pop("covariance", None)
    return d
