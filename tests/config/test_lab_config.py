"""The shipped configs load, and mistakes in a lab config name the file and the dotted key."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmor.config import ConfigError
from kmor.config.files import load_config

REPO = Path(__file__).resolve().parents[2]


def test_embedded_sim_config_loads():
    loaded = load_config()
    cfg = loaded.config
    assert cfg.lab.simulated and cfg.sim.physics.nmor.intrinsic_width_uG == pytest.approx(2.9)
    assert "[sim]" in loaded.text


def test_repo_sim_toml_is_the_embedded_one():
    assert load_config(REPO / "config" / "sim.toml").text == load_config().text


def test_lab_example_loads():
    cfg = load_config(REPO / "config" / "lab.example.toml").config
    assert not cfg.lab.simulated
    assert cfg.coils.bz.drive == "current_source" and cfg.coils.bz.calibration_uG_per_mA == 100.0


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "config" / "lab.example.toml").read_text()
    assert old in text
    path = tmp_path / "mylab.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "key"), [
    ("max_rf_amplitude_dBm = 0.0", "max_rf_amplitude_dBm = 20.0", "limits.max_rf_amplitude_dBm"),
    ("max_coil_current_mA = 50.0", "max_coil_current_mA = -5", "limits.max_coil_current_mA"),
    ('drive = "current_source"', 'drive = "battery"', "coils.bz.drive"),
    ("calibration_uG_per_mA = 100.0", "calibration_uG_per_mA = 0.0", "coils.bz.calibration_uG_per_mA"),
    ('ao_channel = "ao1"', 'ao_channel = "ao0"', "coils.bx.ao_channel"),
    ("timeout_s = 5.0", "timeout_s = \"five\"", "instruments.rf_generator.timeout_s"),
    ("[instruments.laser]", "[instruments.lazer]", "instruments.lazer"),
])
def test_lab_config_mistakes_name_file_and_key(tmp_path, old, new, key):
    path = write_variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert str(info.value).startswith(f"{path}: {key}: ")


def test_sim_toml_spells_out_every_physics_parameter():
    import tomllib

    from kmor.config.describe import iter_settings
    from kmor.sim.physics.params import PhysicsParams

    table = tomllib.loads(load_config().text)["sim"]["physics"]
    for setting in iter_settings(PhysicsParams()):
        section, key = setting.key.split(".")
        assert key in table[section], f"[sim.physics.{section}] lacks {key}"
