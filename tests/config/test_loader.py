"""The config loader validates a whole file and names the file and dotted key of every mistake."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kmor.config import ConfigError
from kmor.config.loader import build, read_toml
from kmor.config.schema import param, section


@dataclass(frozen=True, kw_only=True)
class Inner:
    power_uW: float = param(10.0, units="uW", min=0.0, max=150.0, doc="light power")
    line: str = param("D1", choices=("D1", "D2"), doc="which line")
    field_uG: tuple[float, float, float] = param((0.0, 0.0, 0.0), units="uG", min=-1000, max=1000, doc="field")


@dataclass(frozen=True, kw_only=True)
class Outer:
    name: str = param(doc="required name")
    repeats: int = param(1, min=1, max=1000, doc="repeats")
    enabled: bool = param(True, doc="on or off")
    inner: Inner = section(Inner)


def load(tmp_path: Path, text: str) -> Outer:
    path = tmp_path / "lab.toml"
    path.write_text(text)
    data, _ = read_toml(path)
    return build(Outer, data, file=str(path))


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value


def test_valid_file_fills_defaults(tmp_path):
    cfg = load(tmp_path, 'name = "x"\n[inner]\npower_uW = 5\n')
    assert cfg.name == "x" and cfg.repeats == 1
    assert cfg.inner.power_uW == 5.0 and isinstance(cfg.inner.power_uW, float)
    assert cfg.inner.line == "D1"


def test_unknown_key_names_file_key_and_suggests(tmp_path):
    err = error_of(tmp_path, 'name = "x"\n[inner]\npower_uw = 5\n')
    assert err.key == "inner.power_uw"
    assert "lab.toml" in str(err) and "did you mean 'power_uW'" in str(err)


def test_wrong_type_says_what_is_allowed(tmp_path):
    err = error_of(tmp_path, 'name = "x"\nrepeats = "many"\n')
    assert err.key == "repeats"
    assert "a whole number from 1 to 1000" in err.message and "'many'" in err.message


def test_bool_is_not_a_number(tmp_path):
    assert error_of(tmp_path, 'name = "x"\n[inner]\npower_uW = true\n').key == "inner.power_uW"


def test_out_of_range_names_units(tmp_path):
    err = error_of(tmp_path, 'name = "x"\n[inner]\npower_uW = 200\n')
    assert err.key == "inner.power_uW" and "from 0 to 150 uW" in err.message


def test_nan_and_inf_refused(tmp_path):
    assert "finite" in error_of(tmp_path, 'name = "x"\n[inner]\npower_uW = nan\n').message
    assert "finite" in error_of(tmp_path, 'name = "x"\n[inner]\npower_uW = inf\n').message


def test_missing_required(tmp_path):
    err = error_of(tmp_path, "repeats = 2\n")
    assert err.key == "name" and "required" in err.message


def test_choices(tmp_path):
    err = error_of(tmp_path, 'name = "x"\n[inner]\nline = "D3"\n')
    assert err.key == "inner.line" and "'D1', 'D2'" in err.message


def test_fixed_length_list(tmp_path):
    assert error_of(tmp_path, 'name = "x"\n[inner]\nfield_uG = [1, 2]\n').message == "expected 3 values, got 2"
    err = error_of(tmp_path, 'name = "x"\n[inner]\nfield_uG = [1, 2, 5000]\n')
    assert err.key == "inner.field_uG[2]"


def test_table_expected(tmp_path):
    assert error_of(tmp_path, 'name = "x"\ninner = 3\n').key == "inner"


def test_syntax_error_and_binary_garbage(tmp_path):
    assert "not valid TOML" in error_of(tmp_path, "name = \n").message
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_toml(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        read_toml(tmp_path / "nope.toml")


def test_an_enormous_integer_is_a_config_error_not_a_crash(tmp_path):
    err = error_of(tmp_path, 'name = "x"\n[inner]\npower_uW = ' + "9" * 400 + "\n")
    assert err.key == "inner.power_uW" and "far too large" in err.message
