"""Read a TOML file into schema dataclasses, validating the whole file before anything uses it.

Every mistake becomes one `ConfigError` that names the file, the dotted key and what is allowed.
The loader never executes anything from the file: TOML is data.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import stat
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from kmor.config.schema import param_info

T = TypeVar("T")
MAX_FILE_BYTES = 1_000_000


class ConfigError(Exception):
    """A configuration or sequence file that cannot be used, with where and why."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = file
        self.key = key
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


def read_toml(path: Path | str, *, label: str | None = None) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; return its table and its text. Any failure is a `ConfigError`.

    Only a regular file is read: a named pipe, a device or a folder is refused at once (reading
    a pipe would wait forever)."""
    path = Path(path)
    name = label or printable_path(path)
    try:
        raw = _read_regular_file(path)
    except FileNotFoundError:
        raise ConfigError(name, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(name, "", "is a folder; give a TOML file") from None
    except _NotRegular as exc:
        raise ConfigError(name, "", f"is {exc}, not a regular file; give a TOML file") from None
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the file ({exc.strerror or exc})") from None
    return parse_toml_bytes(raw, name)


def printable_path(path: Path | str) -> str:
    """`path` as text that can always be printed and stored as UTF-8 (bytes of a file name that are
    not UTF-8 are shown as \\xNN escapes)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class _NotRegular(OSError):
    pass


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file, at most MAX_FILE_BYTES + 1 (enough to refuse a larger one)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
            raise _NotRegular(kind)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_toml_bytes(raw: bytes, name: str) -> tuple[dict[str, Any], str]:
    """Parse TOML from bytes read elsewhere; `name` labels errors."""
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(name, "", f"file is {len(raw)} bytes; a config or sequence file is at most {MAX_FILE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(name, "", f"not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(name, "", "not usable TOML: nested too deeply") from None
    _refuse_deep_nesting(data, name)
    return data, text


MAX_NESTING = 32
"""Deepest nesting of tables and lists a config or sequence file may have (they need about 4);
deeper data would exhaust Python's recursion in the checks that walk it."""


def _refuse_deep_nesting(data: Any, name: str) -> None:
    """ConfigError naming the key where tables/lists nest deeper than MAX_NESTING (walked
    without recursion, so any depth tomllib accepts is refused cleanly)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, key, depth = stack.pop()
        if depth > MAX_NESTING:
            shown = key if len(key) <= 60 else key[:57] + "..."
            raise ConfigError(name, shown, f"nested {depth} levels deep; at most {MAX_NESTING} are allowed")
        if isinstance(value, dict):
            stack += [(v, _join(key, str(k)), depth + 1) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(v, f"{key}[{i}]", depth + 1) for i, v in enumerate(value)]


def build(cls: type[T], data: Any, *, file: str, key: str = "") -> T:
    """Turn a parsed TOML table into an instance of the dataclass `cls`, checking every value."""
    if not isinstance(data, Mapping):
        raise ConfigError(file, key or "(top level)", f"expected a table, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(typing.cast(Any, cls)) if f.init}   # cls: a dataclass
    for name in data:
        if name not in fields:
            raise ConfigError(file, _join(key, name), _unknown_key_message(name, fields))
    values = {}
    for name, f in fields.items():
        sub = _join(key, name)
        if name in data:
            values[name] = _convert(hints[name], data[name], f, file=file, key=sub)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(file, sub, f"missing; required ({_allowed(hints[name], f)})")
    instance = cls(**values)
    check = getattr(instance, "problems", None)
    if callable(check):
        for rel_key, message in check():
            raise ConfigError(file, _join(key, rel_key), message)
    return instance


def _convert(hint: Any, value: Any, f: dataclasses.Field[Any] | None, *, file: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value, f, file=file, key=key)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return build(hint, value, file=file, key=key)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(file, key, f"expected a table, got {_describe(value)}")
        return {str(k): _convert(args[1], v, f, file=file, key=_join(key, str(k))) for k, v in value.items()}
    if origin in (tuple, list):
        return _convert_sequence(hint, origin, args, value, f, file=file, key=key)
    return _convert_scalar(hint, value, f, file=file, key=key)


def _convert_sequence(hint: Any, origin: Any, args: tuple[Any, ...], value: Any, f: Any, *, file: str, key: str) -> Any:
    if not isinstance(value, list):
        raise ConfigError(file, key, f"expected {_allowed(hint, f)}, got {_describe(value)}")
    fixed = origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)
    if fixed and len(value) != len(args):
        raise ConfigError(file, key, f"expected {len(args)} values, got {len(value)}")
    item_types = args if fixed else [args[0]] * len(value)
    items = [_convert(t, v, f, file=file, key=f"{key}[{i}]") for i, (t, v) in enumerate(zip(item_types, value))]
    return tuple(items) if origin is tuple else items


def _convert_scalar(hint: Any, value: Any, f: Any, *, file: str, key: str) -> Any:
    info = param_info(f) if f is not None else None
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            try:
                value = float(value)
            except OverflowError:
                raise ConfigError(file, key, f"{str(value)[:20]}... is far too large ({_allowed(hint, f)})") from None
            if not math.isfinite(value):
                raise ConfigError(file, key, f"must be a finite number ({_allowed(hint, f)}), got {value}")
    elif hint is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"schema type {hint!r} at {key} is not supported by the config loader")
    if not ok:
        raise ConfigError(file, key, f"expected {_allowed(hint, f)}, got {_describe(value)}")
    if info is not None:
        _check_range(value, info, hint, f, file=file, key=key)
    return value


def _check_range(value: Any, info: Any, hint: Any, f: Any, *, file: str, key: str) -> None:
    if info.choices is not None and value not in info.choices:
        raise ConfigError(file, key, f"must be one of {', '.join(repr(c) for c in info.choices)}; got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (info.min is not None and value < info.min) or (info.max is not None and value > info.max):
            raise ConfigError(file, key, f"{value!r} is outside the allowed range ({_allowed(hint, f)})")


def _allowed(hint: Any, f: Any) -> str:
    """Human description of what a field accepts, e.g. 'a number from 0 to 100 uW'."""
    info = param_info(f) if f is not None else None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _allowed([a for a in args if a is not type(None)][0], f)
    if dataclasses.is_dataclass(hint):
        return "a table"
    if origin is dict:
        return "a table of tables"
    if origin in (tuple, list):
        fixed = origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)
        count = f"{len(args)} " if fixed else ""
        return f"a list of {count}{_allowed(args[0], f).removeprefix('a ').removeprefix('an ')}s"
    base = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(hint, str(hint))
    if info is None:
        return base
    if info.choices is not None:
        return "one of " + ", ".join(repr(c) for c in info.choices)
    units = f" {info.units}" if info.units else ""
    if info.min is not None and info.max is not None:
        return f"{base} from {info.min:g} to {info.max:g}{units}"
    if info.min is not None:
        return f"{base} >= {info.min:g}{units}"
    if info.max is not None:
        return f"{base} <= {info.max:g}{units}"
    return base + (f" in {info.units}" if info.units else "")


def _unknown_key_message(name: str, fields: Mapping[str, Any]) -> str:
    near = difflib.get_close_matches(name, list(fields), n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    return f"unknown key{hint}; allowed here: {', '.join(sorted(fields))}"


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "a whole number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} ({shown})" if not isinstance(value, (list, dict)) else kind


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
