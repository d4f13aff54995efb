"""The declarative pieces the drivers are built from, and the drivers' import boundary."""

import ast
import pathlib

import pytest

import kmor.drivers
from kmor.drivers.settings import (InRange, IntInRange, NearestInTable, OneOf, Setting,
                                   parse_bool01, parse_int)


def test_in_range_rounds_to_resolution_before_checking():
    check = InRange(0.0, 1.0, resolution=0.1)
    assert check.check(0.04, None) == 0.0
    assert check.check(1.04, None) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        check.check(1.06, None)


def test_in_range_bounds_may_come_from_the_instrument():
    class Inst:
        limit = 3.0
    check = InRange(0.0, lambda inst: inst.limit)
    assert check.check(3.0, Inst()) == 3.0
    assert check.describe(Inst(), "mA") == "0 .. 3 mA"


@pytest.mark.parametrize("value", [True, "1", None, float("nan")])
def test_numbers_only(value):
    with pytest.raises(ValueError):
        InRange(-10, 10).check(value, None)


def test_one_of_keeps_booleans_apart_from_integers():
    flags = OneOf([True, False])
    assert flags.check(True, None) is True
    with pytest.raises(ValueError):
        flags.check(1, None)
    assert OneOf([1, 2, 5]).check(5.0, None) == 5


def test_int_in_range_accepts_integral_floats_only():
    assert IntInRange(1, 19999).check(2.0, None) == 2
    with pytest.raises(ValueError):
        IntInRange(1, 19999).check(2.5, None)


def test_nearest_in_table_is_log_nearest_with_ties_up():
    table = NearestInTable([1.0, 3.0, 10.0])
    assert table.check(1.7, None) == 1.0          # ln 1.7 = 0.53 < ln(3/1.7) = 0.57
    assert table.check(3 ** 0.5, None) == 3.0     # geometric mean: tie -> larger
    assert table.check(5.0, None) == 3.0
    with pytest.raises(ValueError):
        table.check(10.5, None)


def test_parsers():
    assert parse_int("+1") == 1 and parse_int("3.000") == 3
    assert parse_bool01("ON") is True and parse_bool01("+0") is False
    with pytest.raises(ValueError):
        parse_bool01("2")
    with pytest.raises(ValueError):
        parse_int("1.5")


def test_a_setting_needs_a_command():
    with pytest.raises(ValueError):
        Setting()


def test_drivers_never_import_the_simulator():
    package = pathlib.Path(kmor.drivers.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "kmor.sim" or n.startswith("kmor.sim.") for n in names), path
