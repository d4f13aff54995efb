"""`analyze`: from scan files to numbers, a summary.json, a report.md and paper-style figures.

    summary = analyze(["data/20260329-013005-paper"], Path("report"))
    print("\\n".join(summary.headline()))

Loads every scan named (folders are searched), fits each B scan and rf scan, extrapolates the NMOR
widths to zero light power (Zeeman relaxation) and the 0-0 widths and centres to zero light and rf
power (hyperfine relaxation), puts the measured numbers next to the relaxation budget, and writes
into the report folder (never into a data folder). A scan that cannot be analysed is listed with
the reason; a path that is not a kmor scan at all stops the analysis with AnalysisInputError.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .budget import BudgetRow, relaxation_budget
from .constants import K39_HFS_REFERENCE_HZ
from .files import AnalysisInputError, DamagedScanError, ScanData, ScanProblem, find_scan_files, load_scan
from .fitcore import FitError
from .hyperfine import HyperfineResult, RfScanResult, extrapolate_hyperfine, fit_rfscan
from .numbers import format_p, format_pm
from .quality import FITTED, MISMATCH, NO_SIGNAL
from .zeeman import BScanResult, ZeemanResult, extrapolate_widths, fit_bscan

from kmor.storage import StorageError
from kmor.storage.queue_journal import QUEUE_FILE, ScanRole, scan_roles

SUMMARY_VERSION = 1
FIGURE_DIR = "figures"
_BUDGET_KEYS = frozenset(inspect.signature(relaxation_budget).parameters) - {"measured_nmor_hz",
                                                                             "measured_hf_hz"}


@dataclass(frozen=True)
class AnalysisOptions:
    """Choices of `analyze` (keyword options; units in the names).

    x_max_uW: Zeeman widths are extrapolated over scans asked for at most this light power (the
        paper used < 10 uW). nested_min_power_uW: B scans at or above it (the F=1 feature biases a
        one-component fit from about 20 uW, docs/decisions/0011) also get the two-component
        (nested) fit. reference_hz: the 0-0 shift is the zero-power centre minus this.
    wide_span_hz: rf scans spanning more are Zeeman-resolved spectra (multi-Lorentzian fit, kept out
        of the 0-0 extrapolation). rf_light_x_max_uW / rf_x_max_mW: restrict the hyperfine straight
        lines to low light / rf powers (None: all). include_mismatched: put scans flagged "model
        mismatch" back into the extrapolations. figures: write the PNG figures.
    budget: overrides of `relaxation_budget` inputs (temperatures, densities, radius, stem rates);
        the measured shift replaces hf_shift_hz unless given here.
    """

    x_max_uW: float = 10.0
    nested_min_power_uW: float = 20.0
    reference_hz: float = K39_HFS_REFERENCE_HZ
    wide_span_hz: float = 3000.0
    rf_light_x_max_uW: float | None = None
    rf_x_max_mW: float | None = None
    include_mismatched: bool = False
    figures: bool = True
    budget: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("x_max_uW", "nested_min_power_uW", "reference_hz", "wide_span_hz"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"analysis option {name} must be a number > 0, got {value!r}")
        for name in ("rf_light_x_max_uW", "rf_x_max_mW"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"analysis option {name} must be > 0 or None, got {value!r}")
        unknown = sorted(set(self.budget) - _BUDGET_KEYS)
        if unknown:
            raise ValueError(f"unknown relaxation-budget inputs {unknown}; known: {sorted(_BUDGET_KEYS)}")

    @classmethod
    def from_kwargs(cls, options: dict[str, Any]) -> AnalysisOptions:
        """Build from `analyze(**options)`; ValueError naming an unknown option."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown analysis option(s) {unknown}; known: {sorted(known)}")
        return cls(**options)


@dataclass(frozen=True)
class ScanRecord:
    """One input file in the report: what it is and what became of it.

    outcome: "used" (entered an extrapolation), "fitted" (fitted, not extrapolated: see reason),
    "model mismatch" or "no signal" (fit quality, see `fit_status` of the scan results; never
    extrapolated unless asked), "failed" (could not be analysed: reason), "skipped" (a kind this
    analysis does not use), "superseded" or "aborted" (the queue journal says the scan did not
    complete its job: never fitted).
    """

    file: str
    kind: str
    status: str
    n_points: int
    outcome: str
    reason: str = ""
    light_power_uW: float | None = None
    rf_power_dBm: float | None = None
    result: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Summary:
    """What `analyze` found and wrote. `document` is exactly the content of summary.json."""

    out_dir: Path
    summary_path: Path
    report_path: Path
    figures: tuple[Path, ...]
    document: dict[str, Any]
    scans: tuple[ScanRecord, ...]
    zeeman: dict[str, ZeemanResult]
    hyperfine: HyperfineResult | None
    budget: tuple[BudgetRow, ...]

    @property
    def failed(self) -> list[ScanRecord]:
        """Scans that could not be analysed, with their reasons."""
        return [s for s in self.scans if s.outcome == "failed"]

    def headline(self) -> list[str]:
        """A few lines for the command line: the main numbers, scans not counted, failures, where
        the report is."""
        lines = []
        for line, z in self.zeeman.items():
            if z.extrapolation is not None:
                lines.append(f"Zeeman ({line}): DeltaB0 = {format_pm(z.delta_b0_uG, z.delta_b0_err_uG, 'uG')}, "
                             f"gamma/2pi = {format_pm(z.gamma_hz, z.gamma_err_hz, 'Hz')} "
                             f"({z.extrapolation.n_points} scans <= {z.x_max_uW:g} uW)")
            else:
                lines.append(f"Zeeman ({line}): no extrapolation: {z.note}")
        hf = self.hyperfine
        if hf is not None:
            if hf.fwhm_fit is not None:
                lines.append(f"0-0 line: FWHM = {format_pm(hf.fwhm_hz, hf.fwhm_err_hz, 'Hz')}, shift = "
                             f"{format_pm(hf.shift_hz, hf.shift_err_hz, 'Hz')} (paper procedure, "
                             f"{len(hf.files())} scans)")
            else:
                lines.append("0-0 line: no extrapolation: " + "; ".join(hf.notes or ("see report",)))
            if hf.model.fit is not None:
                lines.append("0-0 line, model-based alternative (FWHM^2): FWHM = "
                             + format_pm(hf.model.fit.intercept, hf.model.fit.intercept_err, "Hz"))
        for outcome in (MISMATCH, NO_SIGNAL, "superseded", "aborted"):
            named = [s for s in self.scans if s.outcome == outcome]
            if named:
                lines.append(f"{len(named)} scan(s) {outcome} (not counted): "
                             + ", ".join(Path(s.file).name for s in named))
        failed = self.failed
        if failed:
            lines.append(f"{len(failed)} scan(s) failed to analyse:")
            lines += [f"  {s.file}: {s.reason}" for s in failed]
        lines.append(f"report: {self.report_path}")
        return lines


def read_summary(path: str | Path) -> dict[str, Any]:
    """Read a summary.json back (a dict; see `Summary.document`)."""
    with open(path, encoding="utf-8") as fh:
        summary: dict[str, Any] = json.load(fh)
    return summary


def analyze(paths: Sequence[str | Path], out_dir: str | Path, **options: Any) -> Summary:
    """Analyse the scans in `paths` (files or run folders) and write the report into `out_dir`.

    Options: see `AnalysisOptions` (e.g. x_max_uW=10.0, reference_hz=461_719_720.1). Writes
    out_dir/summary.json, out_dir/report.md and out_dir/figures/*.png, replacing the files of an
    earlier analysis there; refuses an out_dir inside a folder holding the scans. Raises
    AnalysisInputError (naming the file) for a path that does not exist or is not a readable kmor
    scan, and ValueError for an unknown option. Scans that cannot be analysed are listed as failed.
    """
    opts = AnalysisOptions.from_kwargs(options)
    if not paths:
        raise AnalysisInputError("(no paths)", "give at least one run folder or scan file")
    files = find_scan_files(paths)
    out = Path(out_dir)
    _check_out_dir(out, files)
    records: dict[str, ScanRecord] = {}
    scans = []
    for p in files:   # every bad input is reported before anything is written
        try:
            scans.append(load_scan(p))
        except DamagedScanError as exc:   # skipped and listed; the other scans are analysed
            records[str(p)] = ScanRecord(file=str(p), kind="?", status="damaged", n_points=0,
                                         outcome="failed", reason=str(exc))
    roles = _journal_roles(files)
    bscans: list[BScanResult] = []
    rfscans: list[RfScanResult] = []
    for scan in scans:
        role = roles.get(scan.path)
        if role is not None and role.role != "completed":
            records[str(scan.path)] = ScanRecord(file=str(scan.path), kind=scan.kind, status=scan.status,
                                                 n_points=scan.n_points, outcome=role.role, reason=role.reason)
            continue
        records[str(scan.path)] = _analyse_one(scan, opts, bscans, rfscans)
    zeeman = extrapolate_widths(bscans, opts.x_max_uW, opts.include_mismatched)
    hyperfine = (extrapolate_hyperfine(rfscans, opts.reference_hz, opts.rf_light_x_max_uW, opts.rf_x_max_mW,
                                       opts.include_mismatched) if rfscans else None)
    _mark_used(records, zeeman, hyperfine, opts)
    budget = _budget(zeeman, hyperfine, opts)
    out.mkdir(parents=True, exist_ok=True)
    _remove_old_figures(out)
    figure_paths = _write_figures(out, zeeman, bscans, rfscans, hyperfine, opts) if opts.figures else {}
    document = _document(paths, opts, list(records.values()), zeeman, bscans, rfscans, hyperfine,
                         budget, figure_paths, out)
    summary_path = out / "summary.json"
    _write_text(summary_path, json.dumps(document, indent=1, allow_nan=False) + "\n")
    report_path = out / "report.md"
    _write_text(report_path, render_report(document))
    return Summary(out_dir=out, summary_path=summary_path, report_path=report_path,
                   figures=tuple(figure_paths.values()), document=document, scans=tuple(records.values()),
                   zeeman=zeeman, hyperfine=hyperfine, budget=tuple(budget))


# -- per scan ----------------------------------------------------------------------------------

def _journal_roles(files: list[Path]) -> dict[Path, ScanRole]:
    """For scans in a run folder with a batch queue: what the queue journal says each one is.

    Only the scan that completed its job counts; a partial scan whose job ran again is
    "superseded", one whose job never completed "aborted", and a scan file the journal does not
    list at all (opened as the run was killed, before its journal line) is "superseded" too.
    """
    roles: dict[Path, ScanRole] = {}
    by_folder: dict[Path, dict[str, ScanRole] | None] = {}
    for path in files:
        folder = path.parent
        if folder not in by_folder:
            by_folder[folder] = _folder_roles(folder)
        folder_roles = by_folder[folder]
        if folder_roles is None:
            continue
        roles[path] = folder_roles.get(path.name) or ScanRole(
            "superseded", "", "superseded: not listed in the queue journal (opened as the run was "
                              "interrupted, before its journal line); not counted")
    return roles


def _folder_roles(folder: Path) -> dict[str, ScanRole] | None:
    """The journal's roles of the scans of `folder`, or None if it holds no batch queue."""
    if not (folder / QUEUE_FILE).exists():
        return None
    try:
        return scan_roles(folder)
    except StorageError as exc:
        raise AnalysisInputError(folder / QUEUE_FILE, f"the batch queue cannot be read ({exc}); "
                                 "restore it, or copy the scans to analyse into another folder") from exc


def _analyse_one(scan: ScanData, opts: AnalysisOptions, bscans: list[BScanResult],
                 rfscans: list[RfScanResult]) -> ScanRecord:
    base: dict[str, Any] = dict(file=str(scan.path), kind=scan.kind, status=scan.status, n_points=scan.n_points)
    if scan.kind not in ("bscan", "rfscan"):
        return ScanRecord(outcome="skipped", reason=f"kind {scan.kind!r} is not analysed", **base)
    try:
        if scan.kind == "bscan":
            b = fit_bscan(scan, opts.nested_min_power_uW)
            bscans.append(b)
            text = "" if not b.has_width else f"width {format_pm(b.width_uG, b.width_err_uG, 'uG')}"
            return ScanRecord(outcome=b.fit_status, light_power_uW=b.light_power_uW, reason=b.quality.reason,
                              result="; ".join(filter(None, [text, b.quality.summary()])), **base)
        r = fit_rfscan(scan, opts.reference_hz, opts.wide_span_hz)
        rfscans.append(r)
        if r.multi is not None:
            text = f"{len(r.multi.lines)} Zeeman components"
        elif r.fit is not None:
            text = (f"FWHM {format_pm(r.fit.fwhm_hz, r.fit.fwhm_err_hz, 'Hz')}, centre - ref "
                    f"{format_pm(r.fit.center_hz - opts.reference_hz, r.fit.center_err_hz, 'Hz')}")
        else:
            text = ""
        quality = "" if r.quality is None else r.quality.summary()
        return ScanRecord(outcome=r.fit_status, light_power_uW=r.light_power_uW, rf_power_dBm=r.rf_power_dBm,
                          reason="" if r.quality is None else r.quality.reason,
                          result="; ".join(filter(None, [text, quality])), **base)
    except (ScanProblem, FitError) as exc:
        return ScanRecord(outcome="failed", reason=str(exc), **base)
    except Exception as exc:  # noqa: BLE001 - one odd scan must not stop the report; it is listed
        return ScanRecord(outcome="failed", reason=f"internal error ({type(exc).__name__}: {exc})", **base)


_PUT_BACK = "left out of the extrapolations (--include-mismatched puts it back)"


def _mark_used(records: dict[str, ScanRecord], zeeman: dict[str, ZeemanResult],
               hyperfine: HyperfineResult | None, opts: AnalysisOptions) -> None:
    """Turn "fitted" into "used" for scans in an extrapolation, and say why the others are not.
    A scan with a model mismatch keeps that outcome (with its reason) unless it was put back."""
    for z in zeeman.values():
        for s, used in zip(z.scans, z.used):
            rec = records[s.file]
            if used:
                reason = "" if s.fit_status == FITTED else f"{s.fit_status}, included as asked: {rec.reason}"
                records[s.file] = dataclasses.replace(rec, outcome="used", reason=reason)
            elif s.fit_status != FITTED:
                records[s.file] = dataclasses.replace(rec, reason=f"{rec.reason}; {_PUT_BACK}")
            elif z.extrapolation is None:
                records[s.file] = dataclasses.replace(rec, reason=f"no Zeeman extrapolation for {z.line}: {z.note}")
            else:
                records[s.file] = dataclasses.replace(rec, reason=f"above x_max = {opts.x_max_uW:g} uW "
                                                                  "(shown in Fig. 4)")
    if hyperfine is None:
        return
    used_files = set(hyperfine.files())
    for g in hyperfine.groups:
        for r in g.scans:
            rec = records[r.file]
            if r.file in used_files:
                reason = "" if r.fit_status == FITTED else f"{r.fit_status}, included as asked: {rec.reason}"
                records[r.file] = dataclasses.replace(rec, outcome="used", reason=reason)
            else:
                why = g.note or "; ".join(hyperfine.notes) or "outside the power limits"
                records[r.file] = dataclasses.replace(rec, reason=f"not in the 0-0 extrapolation: {why}")
    for r in hyperfine.wide_scans:
        rec = records[r.file]
        records[r.file] = dataclasses.replace(rec, reason="; ".join(filter(None, [
            "wide scan: Zeeman components (Fig. 6 and their table), not in the 0-0 extrapolation", rec.reason])))
    for rec in list(records.values()):
        if rec.kind == "rfscan" and rec.outcome == FITTED and not rec.reason:
            records[rec.file] = dataclasses.replace(rec, reason="no rf power in the parameters")
        elif rec.kind == "rfscan" and rec.outcome == MISMATCH and not _is_wide(rec, hyperfine):
            records[rec.file] = dataclasses.replace(rec, reason=f"{rec.reason}; {_PUT_BACK}")


def _is_wide(rec: ScanRecord, hyperfine: HyperfineResult) -> bool:
    """Whether the record is one of the wide (Zeeman-spectrum) scans."""
    return any(s.file == rec.file for s in hyperfine.wide_scans)


def _budget(zeeman: dict[str, ZeemanResult], hyperfine: HyperfineResult | None,
            opts: AnalysisOptions) -> list[BudgetRow]:
    inputs: dict[str, Any] = {}
    primary = _primary_zeeman(zeeman)
    if primary is not None and primary.extrapolation is not None:
        inputs["measured_nmor_hz"] = primary.gamma_hz
    if hyperfine is not None and hyperfine.fwhm_fit is not None:
        inputs["measured_hf_hz"] = hyperfine.fwhm_hz
        inputs["hf_shift_hz"] = hyperfine.shift_hz
    inputs.update(opts.budget)
    return relaxation_budget(**inputs)


def _primary_zeeman(zeeman: dict[str, ZeemanResult]) -> ZeemanResult | None:
    """The D1 result if there is one (the paper's main number), else the first with a value."""
    if "D1" in zeeman:
        return zeeman["D1"]
    with_value = [z for z in zeeman.values() if z.extrapolation is not None]
    return with_value[0] if with_value else next(iter(zeeman.values()), None)


# -- figures -----------------------------------------------------------------------------------

def _write_figures(out: Path, zeeman: dict[str, ZeemanResult], bscans: list[BScanResult],
                   rfscans: list[RfScanResult], hf: HyperfineResult | None,
                   opts: AnalysisOptions) -> dict[str, Path]:
    """Draw every figure the data allow; returns {key: path}."""
    from . import figures  # matplotlib is imported only when figures are drawn (0.4 s)

    fig_dir = out / FIGURE_DIR
    fig_dir.mkdir(exist_ok=True)
    paths: dict[str, Path] = {}
    primary = _primary_zeeman(zeeman)
    if primary is not None and primary.scans:
        rep = min(primary.scans, key=lambda s: (s.fit_status != FITTED, abs(s.light_power_uW - 10.7)))
        paths["fig3"] = figures.rotation_vs_field(rep, fig_dir / "fig03_rotation_vs_field.png")
    if bscans:
        ordered = sorted(bscans, key=lambda s: (s.line, s.light_power_uW))
        paths["fig3_all"] = figures.bscan_overview(ordered, fig_dir / "fig03_all_bscans.png")
    for line, z in zeeman.items():
        paths[f"fig4_{line}"] = figures.widths_vs_power(z, fig_dir / f"fig04_widths_vs_power_{line}.png")
    nested = [s for s in bscans if s.nested is not None]
    if nested:
        paths["fig5"] = figures.nested_curve(max(nested, key=lambda s: s.light_power_uW),
                                             fig_dir / "fig05_nested_curve.png")
    wide = [r for r in rfscans if r.wide and r.multi is not None]
    if wide:
        paths["fig6"] = figures.zeeman_spectrum(wide[0], opts.reference_hz, fig_dir / "fig06_zeeman_spectrum.png")
    narrow = [r for r in rfscans if not r.wide and r.fit is not None]
    if narrow:
        dBm = [r.rf_power_dBm for r in narrow if r.rf_power_dBm is not None]
        mid = float(np.median(dBm)) if dBm else 0.0
        rep_rf = min(narrow, key=lambda r: (abs(r.light_power_uW - 12.0),
                                            abs((r.rf_power_dBm if r.rf_power_dBm is not None else mid) - mid)))
        paths["fig7"] = figures.rf_spectrum(rep_rf, opts.reference_hz, fig_dir / "fig07_rf_spectrum.png")
        ordered_rf = sorted(narrow, key=lambda r: (r.rf_power_dBm if r.rf_power_dBm is not None else -999,
                                                   r.light_power_uW))
        paths["fig7_all"] = figures.rf_overview(ordered_rf, opts.reference_hz, fig_dir / "fig07_all_rf_spectra.png")
    if hf is not None and hf.groups:
        paths["fig9"] = figures.hyperfine_vs_light(hf, fig_dir / "fig09_hyperfine_vs_light.png")
        if any(g.fwhm_fit is not None for g in hf.groups):
            paths["fig10"] = figures.hyperfine_vs_rf(hf, fig_dir / "fig10_hyperfine_vs_rf.png")
    return paths


def _remove_old_figures(out: Path) -> None:
    """Remove the figures an earlier analysis wrote here (ours are figures/fig*.png), so the
    folder never shows a figure that the new report.md does not describe."""
    fig_dir = out / FIGURE_DIR
    if fig_dir.is_dir():
        for old in fig_dir.glob("fig*.png"):
            old.unlink()


# -- the summary document ----------------------------------------------------------------------

def _document(paths: Sequence[str | Path], opts: AnalysisOptions,
              records: list[ScanRecord], zeeman: dict[str, ZeemanResult], bscans: list[BScanResult],
              rfscans: list[RfScanResult], hf: HyperfineResult | None, budget: list[BudgetRow],
              figure_paths: dict[str, Path], out: Path) -> dict[str, Any]:
    primary = _primary_zeeman(zeeman)
    measured = {
        "nmor_gamma_hz": None if primary is None or primary.extrapolation is None
        else {"value": primary.gamma_hz, "error": primary.gamma_err_hz, "units": "Hz"},
        "hf_fwhm_hz": None if hf is None or hf.fwhm_fit is None
        else {"value": hf.fwhm_hz, "error": hf.fwhm_err_hz, "units": "Hz"},
        "hf_shift_hz": None if hf is None or hf.center_fit is None
        else {"value": hf.shift_hz, "error": hf.shift_err_hz, "units": "Hz"},
    }
    doc = {
        "kmor_summary_version": SUMMARY_VERSION,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": [str(p) for p in paths],
        "options": dataclasses.asdict(opts),
        "primary_zeeman_line": None if primary is None else primary.line,
        "zeeman": {line: z.as_dict() for line, z in zeeman.items()},
        "bscans": [b.as_dict() for b in bscans],
        "hyperfine": None if hf is None else hf.as_dict(),
        "rfscans": [r.as_dict(opts.reference_hz) for r in rfscans],
        "budget": {"rows": [row.as_dict() for row in budget], "measured": measured,
                   "note": "inputs not given as options are the paper's (relaxation_budget defaults); "
                           "the measured 0-0 shift is used for the adiabatic phase when available"},
        "scans": [r.as_dict() for r in records],
        "failed": [{"file": r.file, "reason": r.reason} for r in records if r.outcome == "failed"],
        "figures": {k: os.path.relpath(p, out) for k, p in figure_paths.items()},
    }
    document: dict[str, Any] = _jsonable(doc)
    return document


def _jsonable(value: Any) -> Any:
    """Plain JSON types; NaN and infinities become None (strict JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# -- files -------------------------------------------------------------------------------------

def _check_out_dir(out: Path, files: list[Path]) -> None:
    """The report never goes into a folder holding the scans (or below one)."""
    if out.exists() and not out.is_dir():
        raise AnalysisInputError(out, "report folder is an existing file")
    target = out.resolve()
    for folder in {f.resolve().parent for f in files}:
        if target == folder or folder in target.parents:
            raise AnalysisInputError(out, f"report folder is inside the data folder {folder}; "
                                          "choose a folder outside the run folders")


def _write_text(path: Path, text: str) -> None:
    """Replace `path` in one step (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- report.md ---------------------------------------------------------------------------------

def render_report(doc: dict[str, Any]) -> str:
    """The Markdown report for a summary document (what summary.json holds): results first, then
    the figures, the per-scan tables and the list of scans with their outcome."""
    names = _short_names([s["file"] for s in doc["scans"]])
    figs = doc.get("figures", {})
    out: list[str] = ["# kmor analysis report", ""]
    out.append(f"Analysed {len(doc['scans'])} scan file(s) on {doc['created_utc']} from: "
               + ", ".join(f"`{p}`" for p in doc["inputs"]) + ".")
    n_failed = len(doc["failed"])
    if n_failed:
        out.append(f"**{n_failed} scan(s) could not be analysed**; see [Scans](#scans).")
    out += ["", "## Results", "", "| quantity | value | error | units | from |", "|---|---|---|---|---|"]
    for line, z in doc["zeeman"].items():
        n = len(z["files"])
        out.append(_row(f"NMOR width at zero light, DeltaB0 ({line})", z["delta_b0_uG"], f"{n} B scans"))
        out.append(_row(f"Zeeman relaxation gamma/2pi ({line})", z["gamma_hz"], f"{n} B scans"))
        if z["delta_b0_uG"] is None:
            out.append(f"| ({line}: {z['note']}) | | | | |")
    hf = doc["hyperfine"]
    if hf is not None:
        n = len(hf["files"])
        out.append(_row("0-0 intrinsic FWHM (paper procedure)", hf["fwhm_hz"], f"{n} rf scans"))
        out.append(_row("0-0 shift from 461,719,720.1 Hz (paper procedure)", hf["shift_hz"], f"{n} rf scans"))
        model = hf["model_based"]
        out.append(_row("0-0 intrinsic FWHM (model-based alternative, FWHM^2)", model["fwhm_hz"],
                        f"{sum(len(z['files']) for z in model['zero_rf'])} rf scans"))
        out.append(_row("0-0 shift, centre of all scans vs light only",
                        hf["center_all_scans_vs_light"]["shift_hz"], "all narrow rf scans"))
        if hf["quadratic_zeeman_hz"] is not None:
            out.append(_row("second-order Zeeman shift in the measured centre", hf["quadratic_zeeman_hz"],
                            "Breit-Rabi at the scans' Bz"))
        for note in hf["notes"]:
            out.append(f"| (0-0: {note}) | | | | |")
    text = ("Errors: each scan's fit error is multiplied by sqrt(max(1, chi2_red)) of its own fit (a B scan "
            "takes the spread of its refits with each eighth left out where that is larger, docs/decisions/0117; "
            "an rf scan of >= 16 repeats the spread of its refits with each repeat left out, 0116), and the errors "
            "of each straight line by sqrt(max(1, chi2_red)) of the line, as in the paper (docs/decisions/0110). "
            "Scans flagged \"model mismatch\" or \"no signal\" are not in the lines"
            + (" (here the mismatched ones were put back, as asked)." if doc["options"].get("include_mismatched")
               else "."))
    if hf is not None:
        text += (" The paper procedure extrapolates linearly in light power and then in rf power; the "
                 "model-based alternative (FWHM^2 linear in rf power, then FWHM linear in light power) is "
                 "exact for the two-level line shape and shows how much the linear procedure is biased at "
                 "the rf powers used.")
    out += ["", text, ""]
    out += _zeeman_section(doc, names, figs)
    out += _hyperfine_section(doc, names, figs)
    out += _budget_section(doc)
    out += _scans_section(doc, names)
    out += ["## Options", "", "```json", json.dumps(doc["options"], indent=1), "```", ""]
    return "\n".join(out)


def _zeeman_section(doc: dict[str, Any], names: dict[str, str], figs: dict[str, str]) -> list[str]:
    if not doc["bscans"]:
        return []
    out = ["## Zeeman relaxation (B scans)", ""]
    if "fig3" in figs:
        caption = "Fig. 3: optical rotation versus field with the dispersive fit"
        out += [f"![{caption}]({figs['fig3']})", "", f"*{caption}.*", ""]
    for line in doc["zeeman"]:
        key = f"fig4_{line}"
        if key in figs:
            caption = f"Fig. 4 ({line}): widths versus light power and the straight line to zero power"
            out += [f"![{caption}]({figs[key]})", "", f"*{caption}.*", ""]
    if "fig5" in figs:
        caption = "Fig. 5: the nested curve at the highest power, two-component fit"
        out += [f"![{caption}]({figs['fig5']})", "", f"*{caption}.*", ""]
    units = next((b["rotation_amplitude"]["units"] for b in doc["bscans"] if b["rotation_amplitude"]), "urad")
    out += [QUALITY_NOTE, "",
            f"| scan | line | light (uW) | fit status | chi2_red | scatter / errors | residual corr. | blocks / fit | "
            f"width (uG) | down (uG) | up (uG) | centre (uG) | rotation ({units}) | model | points | notes |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b in doc["bscans"]:
        q, sweeps = b["quality"], b["sweeps"]
        nested = ""
        if b["nested"] is not None:
            widths = ", ".join(f"{c['width_uG']:.3g} uG" for c in b["nested"]["components"])
            nested = (f"two-component fit {'kept' if b['nested']['kept'] else 'not kept'} "
                      f"(F-test p {format_p(b['nested']['p_value'])}): {widths}")
        excluded = sum(b["excluded_points"].values())
        notes = "; ".join(filter(None, [q["reason"], nested, f"{excluded} points excluded "
                                        f"({', '.join(f'{k}: {v}' for k, v in b['excluded_points'].items())})"
                                        if excluded else "", *b["notes"]]))
        status = q["status"] if q["status"] == FITTED else f"**{q['status']}**"
        out.append(f"| {names[b['file']]} | {b['line']} | {b['light_power_uW']:.3g} | {status} | "
                   f"{_num2(q['chi2_red'])} | {_num2(q['scatter_ratio'])} | {_num2(q.get('residual_correlation'))} | "
                   f"{_blocks_over_fit(b)} | {_pm(b['width_uG'])} | "
                   f"{_pm_fit(sweeps.get('down'))} | {_pm_fit(sweeps.get('up'))} | {_pm(b['center_uG'])} | "
                   f"{_pm(b['rotation_amplitude'])} | {b['model']} | {b['n_points_fitted']} | {_cell(notes)} |")
    if "fig3_all" in figs:
        out += ["", f"![every B scan with its fit]({figs['fig3_all']})", "",
                "*Every B scan with its fit (the title gives its fit status).*"]
    return out + [""]


QUALITY_NOTE = (
    "Fit quality: chi2_red is computed with the recorded point errors (B scans: the lock-in readings' "
    "standard errors; rf scans: the scatter of the repeats), the scatter ratio is the rms residual over "
    "the rms recorded error. Errors of single fits are multiplied by sqrt(max(1, chi2_red)). "
    "\"no signal\": the resonance is not significant against a straight line (F-test, p >= 1e-6); "
    "\"model mismatch\": the residuals that repeat at the same setting (both sweeps, all repeats) are "
    "significant against the scatter of the repeats (lack-of-fit F-test, p < 1e-6) and their rms exceeds "
    "5 % of the rms of the fitted resonance. Above 20 uW the two-component (nested) curve is also fitted "
    "and kept when an F-test prefers it at p < 1e-6 (docs/decisions/0110). An rf scan of >= 16 repeats is "
    "also refitted with each repeat left out; its width and centre carry the larger of that jackknife error "
    "and the scaled fit error (\"repeats / fit\": the centre's jackknife error over the fit's own, > 1 when "
    "drifts bend whole sweeps; docs/decisions/0116). A B scan is likewise refitted with each eighth of it (in "
    "time order) left out; its width carries the larger of that block-jackknife error and the scaled fit error "
    "(\"blocks / fit\"; \"residual corr.\": the lag-1 correlation of its residuals in time order, "
    "which drifts during a sweep raise; docs/decisions/0117).")


def _hyperfine_section(doc: dict[str, Any], names: dict[str, str], figs: dict[str, str]) -> list[str]:
    if not doc["rfscans"]:
        return []
    out = ["## Hyperfine relaxation (rf scans)", ""]
    for key, caption in (("fig7", "Fig. 7: an averaged 0-0 spectrum with its Lorentzian"),
                         ("fig9", "Fig. 9: widths and centres versus light power, per rf power"),
                         ("fig10", "Fig. 10: zero-light widths and centres versus rf power"),
                         ("fig6", "Fig. 6: a wide spectrum with the resolved Zeeman components")):
        if key in figs:
            out += [f"![{caption}]({figs[key]})", "", f"*{caption}.*", ""]
    hf = doc["hyperfine"]
    if hf is not None and hf["by_rf_power"]:
        out += ["| rf power (dBm) | rf power (uW) | zero-light FWHM (Hz) | zero-light centre - ref (Hz) | "
                "scans | note |", "|---|---|---|---|---|---|"]
        for g in hf["by_rf_power"]:
            out.append(f"| {g['rf_power_dBm']:.4g} | {1e3 * g['rf_power_mW']:.3g} | {_pm(g['zero_light_fwhm_hz'])} | "
                       f"{_pm(g['zero_light_center_minus_reference_hz'])} | {len(g['light_power_uW'])} | "
                       f"{g['note']} |")
        out.append("")
    narrow = [r for r in doc["rfscans"] if not r["wide"]]
    if narrow:
        out += ["| scan | light (uW) | rf (dBm) | fit status | chi2_red | scatter / errors | repeats / fit | "
                "FWHM (Hz) | centre - ref (Hz) | frequencies x repeats | notes |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in narrow:
            q = r["quality"] or {}
            status = r["fit_status"] if r["fit_status"] == FITTED else f"**{r['fit_status']}**"
            rf = "?" if r["rf_power_dBm"] is None else f"{r['rf_power_dBm']:.4g}"
            notes = "; ".join(filter(None, [q.get("reason", ""), *r["notes"]]))
            out.append(f"| {names[r['file']]} | {r['light_power_uW']:.3g} | {rf} | {status} | "
                       f"{_num2(q.get('chi2_red'))} | {_num2(q.get('scatter_ratio'))} | {_repeats_over_fit(r)} | "
                       f"{_pm(r.get('fwhm_hz'))} | "
                       f"{_pm(r.get('center_minus_reference_hz'))} | {r['n_frequencies']} x {r['repeats_max']} | "
                       f"{_cell(notes)} |")
        out.append("")
    wide = [r for r in doc["rfscans"] if r["wide"]]
    if wide:
        out += ["### Zeeman components of the wide scans", "",
                "| scan | light (uW) | rf (dBm) | Bz (uG) | fit status | chi2_red | scatter / errors | component | "
                "centre - ref (Hz) | FWHM (Hz) |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in wide:
            q = r["quality"] or {}
            rf = "?" if r["rf_power_dBm"] is None else f"{r['rf_power_dBm']:.4g}"
            head = (f"| {names[r['file']]} | {r['light_power_uW']:.3g} | {rf} | {_num(r['bz_uG'])} | "
                    f"{r['fit_status']} | {_num2(q.get('chi2_red'))} | {_num2(q.get('scatter_ratio'))} |")
            lines = r.get("lines") or []
            if not lines:
                out.append(f"{head} - | - | - |")
            for k, ln in enumerate(lines):
                label = "0-0" if ln["zero_zero"] else str(k + 1)
                prefix = head if k == 0 else "| | | | | | | |"
                out.append(f"{prefix} {label} | {_pm(ln['center_minus_reference_hz'])} | {_pm(ln['fwhm_hz'])} |")
        out.append("")
    if "fig7_all" in figs:
        out += [f"![every 0-0 spectrum with its fit]({figs['fig7_all']})", "",
                "*Every 0-0 spectrum with its fit.*"]
    return out + [""]


def _blocks_over_fit(b: dict[str, Any]) -> str:
    """The width's block-jackknife error over the fit's own, or "-" without it (0117)."""
    block, fit = b.get("width_block_error_uG"), b.get("width_fit_error_uG")
    return "-" if not block or not fit else _num2(block / fit)


def _repeats_over_fit(r: dict[str, Any]) -> str:
    """The centre's error from the repeats (jackknife) over the fit's own, or "-" without it (0116)."""
    jack, fit = r.get("repeat_errors_hz", {}).get("center_hz"), r.get("unscaled_errors_hz", {}).get("center_hz")
    return "-" if not jack or not fit else _num2(jack / fit)


def _budget_section(doc: dict[str, Any]) -> list[str]:
    out = ["## Relaxation budget", "", doc["budget"]["note"] + ".", "",
           "| quantity | value | units | equation | source |", "|---|---|---|---|---|"]
    for row in doc["budget"]["rows"]:
        out.append(f"| {row['name']} | {row['value']:.4g} | {row['units']} | {row['equation']} | {row['source']} |")
    measured = doc["budget"]["measured"]
    out += ["", "Measured here: " + "; ".join(
        f"{k} = {_pm(v)} {v['units']}" for k, v in measured.items() if v is not None) or "nothing", ""]
    return out


def _scans_section(doc: dict[str, Any], names: dict[str, str]) -> list[str]:
    out = ["## Scans", "", "| scan | kind | file status | points | outcome | result | reason |",
           "|---|---|---|---|---|---|---|"]
    for s in doc["scans"]:
        outcome = f"**{s['outcome']}**" if s["outcome"] == "failed" else s["outcome"]
        out.append(f"| {names[s['file']]} | {s['kind']} | {s['status']} | {s['n_points']} | {outcome} | "
                   f"{s['result']} | {_cell(s['reason'])} |")
    if doc["failed"]:
        out += ["", "### Failed to analyse", ""]
        out += [f"- `{f['file']}`: {f['reason']}" for f in doc["failed"]]
    return out + [""]


def _short_names(files: list[str]) -> dict[str, str]:
    """Scan files shown as run-folder/name when they share a parent tree."""
    if not files:
        return {}
    parents = [str(Path(f).parent) for f in files]
    root = Path(os.path.commonpath(parents)) if len(set(parents)) > 1 else Path(parents[0]).parent
    return {f: os.path.relpath(f, root) for f in files}


def _row(name: str, value: dict[str, Any] | None, source: str) -> str:
    """A results-table row: the value and its error to matching digits (`format_pm`)."""
    if value is None or value.get("value") is None:
        return f"| {name} | not determined | | | |"
    text = format_pm(value["value"], value.get("error")).split(" +- ")
    return f"| {name} | {text[0]} | {text[1] if len(text) > 1 else ''} | {value['units']} | {source} |"


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.4g}"


def _num2(x: float | None) -> str:
    """A figure of merit to two significant digits ("-" when not available)."""
    return "-" if x is None else (f"{x:.2g}" if abs(x) < 100 else f"{x:.0f}")


def _pm(value: dict[str, Any] | None) -> str:
    return "-" if value is None else format_pm(value.get("value"), value.get("error"))


def _pm_fit(fit: dict[str, Any] | None) -> str:
    return "-" if fit is None else format_pm(fit["width_uG"], fit["width_err_uG"])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
