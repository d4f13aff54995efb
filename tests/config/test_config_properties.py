"""Property tests: no input makes the config loader raise anything but its own clear ConfigError."""

from __future__ import annotations

import copy
import math
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmor.config import ConfigError
from kmor.config.files import default_config_bytes
from kmor.config.loader import build, parse_toml_bytes
from kmor.config.model import KmorConfig

SIM = tomllib.loads(default_config_bytes().decode())

scalars = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def leaf_paths(table, prefix=()):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from leaf_paths(value, prefix + (key,))
        else:
            yield prefix + (key,)


LEAVES = sorted(leaf_paths(SIM))


def assert_only_config_error(data, name="t.toml"):
    try:
        build(KmorConfig, data, file=name)
    except ConfigError as exc:
        assert exc.file == name and str(exc).startswith(name)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=6))
def test_random_tables_give_config_error(data):
    assert_only_config_error(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAVES), toml_values)
def test_one_mutated_value_is_accepted_or_named(path, value):
    data = copy.deepcopy(SIM)
    table = data
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    try:
        cfg = build(KmorConfig, data, file="t.toml")
    except ConfigError as exc:
        assert exc.key.startswith(".".join(path[:-1]))
        return
    got = cfg
    for key in path:
        got = getattr(got, key)
    if isinstance(got, float):
        assert math.isfinite(got)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_binary_garbage_gives_config_error(raw):
    try:
        data, _ = parse_toml_bytes(raw, "g.toml")
    except ConfigError as exc:
        assert exc.file == "g.toml"
        return
    assert_only_config_error(data, "g.toml")


def test_deep_nesting_is_refused_cleanly():
    for text in ("a = " + "[" * 100_000, "a = " + "[" * 3000 + "]" * 3000, "x = " + "{a=" * 3000 + "1" + "}" * 3000):
        try:
            data, _ = parse_toml_bytes(text.encode(), "deep.toml")
        except ConfigError:
            continue
        assert_only_config_error(data, "deep.toml")


def test_huge_file_refused():
    try:
        parse_toml_bytes(b"#" * 2_000_000, "big.toml")
    except ConfigError as exc:
        assert "at most" in exc.message
    else:
        raise AssertionError("a 2 MB config was accepted")
