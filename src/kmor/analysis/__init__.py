"""kmor.analysis: line-shape fits, extrapolations to zero power and the relaxation budget.

Imports nothing else of kmor. Every fit needs only the data (starting values are found from it),
uses analytic Jacobians, returns frozen results with `as_dict()` for JSON, and raises `FitError`
instead of returning NaN.
"""

from .budget import (BudgetRow, adiabatic_phase_rad, format_budget, gamma_adiabatic_hz,
                     gamma_se_00_hz, gamma_se_nmor_hz, mean_speed_m_s, relative_speed_m_s,
                     relaxation_budget, slowdown_00, temperature_for_density_C, vapor_density_cm3,
                     wall_collision_time_s)
from .constants import LARMOR_F2_HZ_PER_UG
from .extrapolation import LineFit, extrapolate_to_zero
from .fitcore import FitError
from .lineshapes import dispersive, dispersive_sum, lorentzian
from .lorentzian_fit import LorentzianFit, MultiLorentzianFit, fit_lorentzian, fit_lorentzians
from .nmor_fit import NmorFit, fit_nmor, gamma_nmor_hz

__all__ = [
    "BudgetRow", "FitError", "LARMOR_F2_HZ_PER_UG", "LineFit", "LorentzianFit",
    "MultiLorentzianFit", "NmorFit", "adiabatic_phase_rad", "dispersive", "dispersive_sum",
    "extrapolate_to_zero", "fit_lorentzian", "fit_lorentzians", "fit_nmor", "format_budget",
    "gamma_adiabatic_hz", "gamma_nmor_hz", "gamma_se_00_hz", "gamma_se_nmor_hz", "lorentzian",
    "mean_speed_m_s", "relative_speed_m_s", "relaxation_budget", "slowdown_00",
    "temperature_for_density_C", "vapor_density_cm3", "wall_collision_time_s",
]

# From scan files to numbers and a report (kmor analyze): files.py, zeeman.py, hyperfine.py, report.py.
from .files import AnalysisInputError, ScanData, ScanProblem, find_scan_files, load_scan  # noqa: E402
from .hyperfine import HyperfineResult, RfScanResult  # noqa: E402
from .report import (AnalysisOptions, ScanRecord, Summary, analyze, read_summary,  # noqa: E402
                     render_report)
from .zeeman import BScanResult, ZeemanResult  # noqa: E402

__all__ += [
    "AnalysisInputError", "AnalysisOptions", "BScanResult", "HyperfineResult", "RfScanResult",
    "ScanData", "ScanProblem", "ScanRecord", "Summary", "ZeemanResult", "analyze", "find_scan_files",
    "load_scan", "read_summary", "render_report",
]
