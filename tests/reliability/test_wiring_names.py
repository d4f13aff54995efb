"""Everything a sequence names is checked against the lab config before anything is touched:
`kmor check` refuses a hardware-timed B scan whose signal_ai is not the polarimeter input, with
file, key and what this lab allows; `kmor run` builds no station and leaves no run folder."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rel_helpers import SMALL_BATCH, config_with

from kmor.config.files import load_config
from kmor.config.loader import ConfigError
from kmor.sequences.runner import check_batch

TIMED = SMALL_BATCH + """
[[steps]]
kind = "bscan"
light_power_uW = 3.0
field_range_uG = 10.0
step_uG = 1.0
hardware_timed = true
signal_ai = "{ai}"
"""


def sequence(tmp_path, ai):
    path = tmp_path / f"timed-{ai.replace('/', '_')}.toml"
    path.write_text(TIMED.format(ai=ai))
    return path


@pytest.mark.parametrize("ai", ["ai99", "ai0", "Dev1/ai3", "ai3 "])
def test_a_signal_input_the_lab_does_not_wire_is_refused_by_check(tmp_path, ai):
    with pytest.raises(ConfigError, match=r"steps\[4\]\.signal_ai: .*use 'ai3' \(daq\.polarimeter_ai; wired "
                                          r"inputs: ai0 \(lock error\), ai1"):
        check_batch(sequence(tmp_path, ai), load_config())


def test_the_wired_input_passes(tmp_path):
    assert len(check_batch(sequence(tmp_path, "ai3"), load_config()).jobs) == 6


def test_a_lab_without_a_polarimeter_input_refuses_hardware_timed_scans(tmp_path):
    loaded = config_with(tmp_path, {"daq": {"polarimeter_ai": ""}})
    with pytest.raises(ConfigError, match=r"steps\[4\]\.hardware_timed: this lab wires no DAQ input"):
        check_batch(sequence(tmp_path, "ai3"), loaded)


def test_run_refuses_before_connecting_anything(tmp_path):
    out = subprocess.run([sys.executable, "-m", "kmor", "run", str(sequence(tmp_path, "ai99")),
                          "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "signal_ai" in out.stderr, out.stderr
    assert not (tmp_path / "data").exists()
