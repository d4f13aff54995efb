"""Malformed and hostile sequence files (hypothesis): wrong types, huge numbers, NaN and
infinities, negative steps, unknown keys, binary garbage, deep nesting. Every one ends in one
clear ConfigError naming the file, `kmor check` / `kmor run` print one line and exit 2 with no
traceback, and no station is ever built (nothing is sent to an instrument). Sequences beyond a
safety limit (coil current, field, ramp rate, rf amplitude, light power) are refused at load."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmor import cli
from kmor.config import ConfigError
from kmor.config.files import load_config
from kmor.sequences.batch import load_batch, parse_batch_text

CONFIG = load_config().config
STEPS = [
    {"kind": "laser", "piezo_pct": 47.5, "settle_s": 0.1},
    {"kind": "lock"},
    {"kind": "bscan", "light_power_uW": 3.0, "field_range_uG": 10.0, "step_uG": 1.0, "averages": 1,
     "time_constant_s": 0.01},
    {"kind": "rfscan", "light_power_uW": 5.0, "span_hz": 6.0, "repeats": 2},
]
NUMERIC = [(i, k) for i, step in enumerate(STEPS) for k, v in step.items() if isinstance(v, float)]
COUNTS = {"bad_inputs": 0}


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def render(steps) -> str:
    out = ['[batch]\nname = "hostile"\n']
    for step in steps:
        out.append("[[steps]]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in step.items()))
    return "\n".join(out)


def test_the_unmutated_file_is_valid():
    assert len(parse_batch_text(render(STEPS), "ok.toml", CONFIG).jobs) == 4


wrong_types = st.one_of(st.text(max_size=20), st.booleans(), st.lists(st.floats(-10, 10), max_size=3),
                        st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), min_size=1, max_size=2))
bad_numbers = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e30]),
                        st.floats(min_value=1e9, allow_nan=False, allow_infinity=True))
POSITIVE = [(i, k) for i, k in NUMERIC if k in ("settle_s", "field_range_uG", "step_uG", "time_constant_s",
                                                  "span_hz", "light_power_uW")]


@st.composite
def hostile_text(draw) -> str:
    steps = [dict(s) for s in STEPS]
    how = draw(st.sampled_from(["wrong_type", "bad_number", "negative", "unknown_key", "bad_kind", "deep_nesting",
                                "garbage", "huge_int", "truncated"]))
    if how in ("wrong_type", "bad_number"):
        i, key = draw(st.sampled_from(NUMERIC))
        steps[i][key] = draw(wrong_types if how == "wrong_type" else bad_numbers)
    elif how == "negative":
        i, key = draw(st.sampled_from(POSITIVE))
        steps[i][key] = draw(st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False))
    elif how == "unknown_key":
        i = draw(st.integers(0, len(steps) - 1))
        name = draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(lambda n: n not in steps[i]))
        steps[i]["zz_" + name] = draw(st.one_of(st.integers(), st.text(max_size=5)))
    elif how == "bad_kind":
        steps[draw(st.integers(0, len(steps) - 1))]["kind"] = draw(st.text(max_size=10))
    elif how == "deep_nesting":
        depth = draw(st.integers(50, 5000))
        i, key = draw(st.sampled_from(NUMERIC))
        return render(steps).replace(f'"{key}" = ', f'"{key}" = ' + "[" * depth + "1" + "]" * depth + " # ", 1)
    elif how == "garbage":
        return draw(st.binary(min_size=1, max_size=200)).decode("latin-1")
    elif how == "huge_int":
        i, key = draw(st.sampled_from(NUMERIC))
        return render(steps).replace(f'"{key}" = ', f'"{key}" = {10 ** draw(st.integers(19, 400))} # ', 1)
    elif how == "truncated":
        text = render(steps)
        return text[: draw(st.integers(1, len(text) - 40))] + "= = ["
    return render(steps)


@pytest.fixture
def no_station(monkeypatch):
    """Fail the test if anything tries to build a station (i.e. talk to an instrument)."""
    import kmor.station

    built = []
    monkeypatch.setattr(kmor.station, "build_station", lambda *a, **k: built.append(1) or (_ for _ in ()).throw(
        AssertionError("a station was built for an invalid file")))
    return built


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text())
def test_hostile_sequence_files_are_one_clear_error_and_touch_nothing(text, tmp_path, capsys, no_station):
    path = tmp_path / "hostile.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError) as info:
        load_batch(path, CONFIG)
    assert str(path) in str(info.value) or path.name in str(info.value)
    for argv in (["check", str(path)], ["run", str(path), "--data-dir", str(tmp_path / "data")]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("kmor: error:") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not no_station and not (tmp_path / "data").exists()
    COUNTS["bad_inputs"] += 1


@pytest.mark.parametrize("step, refused", [
    ({"kind": "bscan", "field_range_uG": 6000.0, "step_uG": 100.0}, "limits.max_field_uG"),
    ({"kind": "zeroing", "bx_span_uG": 4000.0}, "uG"),
    ({"kind": "rfscan", "rf_power_dBm": 5.0}, "limits.max_rf_amplitude_dBm"),
    ({"kind": "bscan", "light_power_uW": 500.0}, "limits.max_light_power_uW"),
])
def test_sequences_beyond_a_safety_limit_are_refused_at_load(step, refused, tmp_path, no_station):
    path = tmp_path / "limit.toml"
    path.write_text(render([step]))
    with pytest.raises(ConfigError, match=refused.replace(".", r"\.")):
        load_batch(path, CONFIG)
    assert cli.main(["run", str(path), "--data-dir", str(tmp_path / "data")]) == 2
    assert not no_station


def test_report_bad_input_count():
    """Prints how many hostile files the property test above ran (for docs/reliability.md)."""
    print(f"\nhostile sequence files refused: {COUNTS['bad_inputs']}")
