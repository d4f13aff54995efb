"""Settings forms built from the sequences' own parameter classes, validated by the same rules as
a batch file.

A `ParamForm` shows chosen fields of a `param(...)` dataclass (e.g. BScanParams): the editor, the
units, the allowed range and the meaning as a tooltip, and an error line right under the field.
`validate()` parses the text, then builds the dataclass with `kmor.config.loader.build` (types,
ranges, choices, the class's own `problems()`) and checks the lab's limits and wiring with
`kmor.sequences.batch.check_limits`: exactly what `kmor check` does with a batch file. It returns
the parameters, or None with a message next to the offending field; the caller sends nothing then.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QLabel, QLineEdit, QSizePolicy,
                               QWidget)

from kmor.config.loader import ConfigError, build
from kmor.config.schema import ParamInfo, param_info
from kmor.sequences.batch import check_limits

ERROR_STYLE = "color: #b00020;"


def describe_allowed(info: ParamInfo) -> str:
    """'0.001 .. 1e+06 uG' or "one of 'D1', 'D2'" for a tooltip or placeholder."""
    if info.choices is not None:
        return "one of " + ", ".join(str(c) for c in info.choices)
    units = f" {info.units}" if info.units else ""
    if info.min is not None and info.max is not None:
        return f"{info.min:g} .. {info.max:g}{units}"
    return info.units


def display_units(units: str) -> str:
    """'uG' -> 'µG', 'uW' -> 'µW' (the schema writes micro as u)."""
    return re.sub(r"\bu(?=[A-Za-z])", "µ", units)


def pretty_name(name: str, units: str) -> str:
    """'field_range_uG' -> 'field range' (the units are shown separately)."""
    text = name
    if units:
        suffix = "_" + units.replace("/", "_per_").replace("%", "pct")
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    for unit_suffix in ("_uG", "_uW", "_hz", "_Hz", "_s", "_V", "_pct", "_mA", "_dBm", "_per_s"):
        if text.endswith(unit_suffix):
            text = text[: -len(unit_suffix)]
            break
    return text.replace("_", " ")


class ParamForm(QWidget):
    """Editors for `names` of the dataclass `cls`, with per-field error messages.

    `values` gives initial values (else the class defaults); `fixed` are values sent with every
    validation but not shown. `limits_kind` is the batch step kind whose lab limits apply
    (e.g. "bscan"), `config` the lab config.
    """

    edited = Signal()

    def __init__(self, cls: type, names: Sequence[str], *, title: str, config: Any = None,
                 limits_kind: str | None = None, values: Mapping[str, Any] | None = None,
                 fixed: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cls = cls
        self.title = title
        self.config = config
        self.limits_kind = limits_kind
        self.fixed = dict(fixed or {})
        self._fields = {f.name: f for f in dataclasses.fields(cls)}
        self._hints = typing.get_type_hints(cls)
        defaults = {**self._defaults(), **dict(values or {})}
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self._form_error = QLabel("")
        self._form_error.setStyleSheet(ERROR_STYLE)
        self._form_error.setWordWrap(True)
        self._form_error.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        row = 0
        for name in names:
            f = self._fields[name]
            info = param_info(f)
            label = QLabel((labels or {}).get(name, pretty_name(name, info.units)))
            editor = self._editor(name, info, defaults.get(name))
            units = QLabel(display_units(info.units))
            tip = f"{name}: {info.doc}" + (f" ({describe_allowed(info)})" if describe_allowed(info) else "")
            for w in (label, editor, units):
                w.setToolTip(tip)
            error = QLabel("")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            grid.addWidget(label, row, 0)
            grid.addWidget(editor, row, 1)
            grid.addWidget(units, row, 2)
            grid.addWidget(error, row + 1, 0, 1, 3)
            self.editors[name] = editor
            self.errors[name] = error
            row += 2
        grid.addWidget(self._form_error, row, 0, 1, 3)
        grid.setColumnStretch(1, 1)

    # ------------------------------------------------------------------ editors
    def _defaults(self) -> dict[str, Any]:
        out = {}
        for name, f in self._fields.items():
            if f.default is not dataclasses.MISSING:
                out[name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[name] = f.default_factory()
        return out

    def _editor(self, name: str, info: ParamInfo, value: Any) -> QWidget:
        hint = self._hints[name]
        origin = typing.get_origin(hint)
        if hint is bool:
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(self.edited)
            return box
        if info.choices is not None:
            combo = QComboBox()
            options = _list_options(info.choices) if origin is list else list(info.choices)
            for option in options:
                combo.addItem(_show(option), option)
            if value is not None:
                shown = _show(value)
                if combo.findText(shown) < 0:
                    combo.addItem(shown, value)
                combo.setCurrentIndex(combo.findText(shown))
            combo.currentIndexChanged.connect(self.edited)
            return combo
        edit = QLineEdit("" if value is None else _show(value))
        edit.setPlaceholderText(describe_allowed(info) or ("comma-separated" if origin is list else ""))
        edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        edit.editingFinished.connect(self.edited)
        return edit

    def text_values(self) -> dict[str, Any]:
        """The raw entries: text for line edits, the chosen value for boxes."""
        out: dict[str, Any] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                out[name] = editor.currentData()
            elif isinstance(editor, QLineEdit):
                out[name] = editor.text()
            else:
                raise TypeError(f"{self.title}: field {name!r} has an editor of unknown kind "
                                f"{type(editor).__name__}")
        return out

    # ------------------------------------------------------------------ validation
    def validate(self) -> Any | None:
        """The parameters as the dataclass, or None after showing why next to the field."""
        self.clear_errors()
        data: dict[str, Any] = dict(self.fixed)
        ok = True
        for name, raw in self.text_values().items():
            try:
                data[name] = _parse(raw, self._hints[name])
            except ValueError as exc:
                self.show_error(name, str(exc))
                ok = False
        if not ok:
            return None
        try:
            params: Any = build(self.cls, data, file=self.title)
            if self.limits_kind is not None and self.config is not None:
                check_limits(self.limits_kind, params, self.config, file=self.title, key="")
        except ConfigError as exc:
            self.show_error(_field_of(exc.key), exc.message)
            return None
        return params

    def show_error(self, name: str, message: str) -> None:
        """Show `message` under field `name` (or under the form if it has no such field)."""
        label = self.errors.get(name)
        if label is None:
            label = self._form_error
            message = f"{name}: {message}" if name else message
        label.setText(message)
        label.show()

    def clear_errors(self) -> None:
        for label in (*self.errors.values(), self._form_error):
            label.setText("")
            label.hide()

def _field_of(key: str) -> str:
    """'.steps[0].field_range_uG' or 'field_range_uG' -> 'field_range_uG'."""
    last = key.split(".")[-1] if key else ""
    return re.sub(r"\[\d+\]$", "", last)


def _list_options(choices: tuple[Any, ...]) -> list[list[Any]]:
    """Every non-empty ordered selection of `choices` (e.g. [down, up], [up, down], [down], [up])."""
    options: list[list[Any]] = []
    for k in range(len(choices), 0, -1):
        options += [list(p) for p in itertools.permutations(choices, k)]
    return options


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    return str(value)


def _parse(raw: Any, hint: Any) -> Any:
    """Text from an editor -> the value for `build` (which then checks type, range, choices)."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    origin = typing.get_origin(hint)
    if origin is list:
        item = typing.get_args(hint)[0]
        parts = [p for p in re.split(r"[,\s;]+", text) if p]
        if not parts:
            return []
        return [_parse(p, item) for p in parts]
    if hint is float:
        if not text:
            raise ValueError("enter a number")
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if hint is int:
        if not text:
            raise ValueError("enter a whole number")
        try:
            return int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a whole number") from None
            if value != int(value):
                raise ValueError(f"{text!r} is not a whole number") from None
            return int(value)
    return text
