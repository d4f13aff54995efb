"""The `slow` marker (registered in pyproject.toml), set here in one list rather than on each
test: tests that take seconds of wall time (whole batches, the window, subprocesses, kill
harnesses, statistical pulls, hypothesis searches). `pytest -m "not slow"` is the quick inner
loop; CI (.ci/run) runs everything. Durations measured with `pytest --durations=60`."""

from __future__ import annotations

import pytest

SLOW_MODULES = (
    "gui/",                                  # every window test builds the window and runs the lab
    "analysis/test_report_analyze.py",       # module fixture: a whole simulated run (~30 s)
    "analysis/test_report_failures.py",
    "analysis/test_report_hyperfine.py",
    "reliability/test_batch_faults.py",
    "reliability/test_hostile_sequences.py",
    "reliability/test_kill_harness.py",
    "storage/test_killed_writer.py",
    "sequences/test_end_to_end.py",
    "test_cli.py",                           # one `kmor` subprocess per test
    "test_scripting_doc.py",
    "test_cli_output.py",                    # real pipes, signals and `kmor` subprocesses
    "thirdparty/",                           # PyMeasure and QCoDeS against a `kmor sim serve` process
    "watch/",                                # HTTP servers, simulated runs, headless Chromium
    "reliability/test_write_limits.py",
    "reliability/test_resume_config.py",
    "reliability/test_one_writer.py",
    "reliability/test_last_hostile_inputs.py",
    "reliability/test_safe_state_log.py",
    "sim/test_sim_keithley_lab.py",
    "analysis/test_interrupted_batch.py",
    "analysis/test_report_units.py",
    "sequences/test_estimates.py",           # each step kind run on the simulated lab
)
SLOW_TESTS = (
    "analysis/test_extrapolation.py::test_intercept_pulls_are_honest_with_correct_errors",
    "analysis/test_files_loading.py::test_only_the_first_n_points_rows_are_read_and_a_dead_writer_reads_interrupted",
    "analysis/test_lorentzian_fit.py::test_pulls_of_fwhm_and_center_have_unit_spread",
    "analysis/test_nmor_fit.py::test_nested_shape_pulls_are_honest",
    "analysis/test_nmor_fit.py::test_pulls_of_width_and_center_have_unit_spread",
    "analysis/test_nmor_fit.py::test_same_result_alone_or_after_thousands_of_fits",
    "config/test_config_properties.py::test_one_mutated_value_is_accepted_or_named",
    "config/test_config_properties.py::test_random_tables_give_config_error",
    "drivers/test_driver_properties.py::test_ramps_never_exceed_step_or_rate_and_end_on_target",
    "sequences/test_bscan_modes.py::test_hardware_timed_sweep_matches_the_stepped_scan",
    "sequences/test_lab_session.py::test_the_interpreter_exit_makes_the_apparatus_safe",
    "sequences/test_resume.py::test_a_scan_completed_just_before_the_kill_is_not_taken_again",
    "sequences/test_resume.py::test_sigkill_mid_batch_then_resume_gives_the_same_scans",
    "sequences/test_suspenders.py::test_mode_hop_mid_scan_is_suspended_relocked_and_the_point_retaken",
    "sim/test_emulator_fuzz.py::test_command_like_garbage_never_raises",
    "sim/test_sim_serve_cli.py::test_sim_serve_over_pyvisa_py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.removeprefix("tests/")
        name = nodeid.split("[")[0]
        if name.startswith(SLOW_MODULES) or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
