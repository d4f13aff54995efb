"""Batch files are validated whole, before any hardware; errors name the file and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kmor.config.files import LoadedConfig, load_config
from kmor.config.loader import ConfigError
from kmor.sequences.runner import check_batch, run_batch

REPO = Path(__file__).resolve().parents[2]
GOOD = """
[batch]
name = "t"

[[steps]]
kind = "laser"

[[steps]]
kind = "lock"

[[steps]]
kind = "bscan_series"
light_powers_uW = [2.0, 4.0]
field_range_uG = 100.0
step_uG = 1.0

[[steps]]
kind = "rf_grid"
light_powers_uW = [5.0, 10.0]
rf_powers_dBm = [-30.0, -26.0]
repeats = 3
"""


def write(tmp_path, text, name="seq.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def error_for(tmp_path, text, config=None):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        check_batch(path, config or load_config())
    assert info.value.file == str(path)
    return info.value


def test_a_good_file_expands_into_jobs_with_a_duration(tmp_path):
    batch = check_batch(write(tmp_path, GOOD), load_config())
    assert [j.label for j in batch.jobs] == [
        "laser on D1", "laser lock", "bscan 2 uW", "bscan 4 uW",
        "rf 5 uW -30 dBm", "rf 5 uW -26 dBm", "rf 10 uW -30 dBm", "rf 10 uW -26 dBm"]
    assert all(j.estimate_s > 0 for j in batch.jobs)
    assert batch.estimate_s == pytest.approx(sum(j.estimate_s for j in batch.jobs))
    # 201 fields x 2 sweeps, each 1 s of settling (0.1 s at 24 dB/oct) + 3 more readings 0.5 s apart
    assert 402 * 2.5 < batch.jobs[2].estimate_s < 402 * 2.5 + 60
    assert "estimated duration" in batch.summary()


def test_a_zeroing_says_how_long_it_may_take_if_it_needs_all_its_passes(tmp_path):
    text = GOOD.replace('[[steps]]\nkind = "bscan_series"',
                        '[[steps]]\nkind = "zeroing"\nmax_passes = 4\n\n[[steps]]\nkind = "bscan_series"', 1)
    batch = check_batch(write(tmp_path, text), load_config())
    zeroing = next(j for j in batch.jobs if j.kind == "zeroing")
    assert zeroing.longest_s == pytest.approx(2 * zeroing.estimate_s, rel=0.01)   # 4 passes, 2 assumed
    lines = batch.summary().splitlines()
    assert any("zeroing" in line and "(up to" in line for line in lines)
    assert "(up to" in lines[-1 - len(batch.warnings)]
    assert not any("bscan_series" in line and "(up to" in line for line in lines)


def test_field_beyond_the_lab_limit_names_the_key(tmp_path):
    err = error_for(tmp_path, GOOD.replace("field_range_uG = 100.0", "field_range_uG = 9000.0"))
    assert err.key == "steps[2].field_range_uG"
    assert "limits.max_field_uG" in err.message


def test_coil_voltage_limit_is_checked_with_the_calibration(tmp_path):
    loaded = load_config()
    limits = dataclasses.replace(loaded.config.limits, max_coil_voltage_V=1.0)
    config = LoadedConfig(dataclasses.replace(loaded.config, limits=limits), loaded.source, loaded.text)
    err = error_for(tmp_path, GOOD, config)   # rf grid Bz 1400 uG at 1000 uG/V needs 1.4 V
    assert err.key == "steps[3].bz_uG" and "limits.max_coil_voltage_V" in err.message


def test_light_and_rf_power_limits(tmp_path):
    err = error_for(tmp_path, GOOD.replace("[2.0, 4.0]", "[2.0, 400.0]"))
    assert err.key == "steps[2].light_powers_uW" and "max_light_power_uW" in err.message
    err = error_for(tmp_path, GOOD.replace("[-30.0, -26.0]", "[-30.0, 5.0]"))
    assert err.key == "steps[3].rf_powers_dBm" and "max_rf_amplitude_dBm" in err.message


def test_no_attenuator_means_light_powers_cannot_be_set(tmp_path):
    loaded = load_config()
    daq = dataclasses.replace(loaded.config.daq, attenuator_ao="")
    config = LoadedConfig(dataclasses.replace(loaded.config, daq=daq), loaded.source, loaded.text)
    err = error_for(tmp_path, GOOD, config)
    assert err.key == "steps[2].light_powers_uW" and "no attenuator" in err.message


@pytest.mark.parametrize("change, key, words", [
    (("kind = \"lock\"", "kind = \"lokc\""), "steps[1].kind", "must be one of"),
    (("step_uG = 1.0", "step_ug = 1.0"), "steps[2].step_ug", "did you mean 'step_uG'"),
    (("repeats = 3", "repeats = 0"), "steps[3].repeats", "outside the allowed range"),
    (("repeats = 3", "repeats = \"many\""), "steps[3].repeats", "expected a whole number"),
    (("step_uG = 1.0", "step_uG = 500.0"), "steps[2].step_uG", "larger than field_range_uG"),
    (("[batch]", "[bacth]"), "bacth", "unknown key"),
])
def test_mistakes_name_the_dotted_key(tmp_path, change, key, words):
    err = error_for(tmp_path, GOOD.replace(*change))
    assert err.key == key
    assert words in err.message


def test_unreadable_files(tmp_path):
    assert "not valid TOML" in error_for(tmp_path, "[[steps]\nkind=").message
    assert error_for(tmp_path, "[batch]\nname='x'\n").key == "steps"
    with pytest.raises(ConfigError, match="file not found"):
        check_batch(tmp_path / "missing.toml", load_config())


def test_a_bad_file_touches_no_hardware(tmp_path, monkeypatch):
    import kmor.station
    monkeypatch.setattr(kmor.station, "build_station", lambda *a, **k: pytest.fail("hardware touched"))
    with pytest.raises(ConfigError):
        run_batch(write(tmp_path, GOOD.replace("9000", "1").replace("100.0", "-5.0")), load_config(),
                  data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("name", ["paper.toml", "demo.toml"])
def test_shipped_sequences_are_valid(name):
    batch = check_batch(REPO / "config" / "sequences" / name, load_config())
    assert batch.jobs and not batch.warnings


def test_the_documented_step_reference_is_current():
    from kmor.sequences.batch import step_reference_markdown
    assert step_reference_markdown() in (REPO / "docs" / "sequences.md").read_text()
