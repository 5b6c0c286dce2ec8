"""Frozen records validated from untrusted data (TOML, JSON), declared with type hints.

This is the part of pydantic's model API the agent process uses: fields with bounds, lengths and patterns,
field and record validators, unknown keys refused, and errors that name the key, the value and what was
expected. pydantic builds a compiled schema for every model, which with the config's ~40 records costs the
gateway ~12 MiB of RSS (docs/BENCHMARKS.md, issue 20); the agent validates a config at start and on reload and
a cloud command now and then, so an interpreter over the type hints is fast enough. The fleet side and the
contract's schemas keep pydantic.

Types understood: bool, int, float (finite only), str, Path, SecretStr, None, Any, Literal, unions, list[T],
dict[K, V], records, and Annotated with Field/StringConstraints/BeforeValidator/AfterValidator. Conversions
are the few a config needs (an int for a float, a whole float for an int, text for a path), never text for a
number or a boolean: a quoted "5" is a mistake worth naming.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
import reprlib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any, Literal, Union

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()
_FAILED: Any = type("_Failed", (), {"__repr__": lambda self: "<failed>"})()


# ---------------------------------------------------------------------------------------------------------------
# Declarations


@dataclass(frozen=True)
class Constraints:
    """Bounds on a number and lengths and a pattern for a text, list or mapping; None: no bound."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None

    def over(self, outer: Constraints) -> Constraints:
        """These constraints, with the ones `outer` (the field's, or an enclosing Annotated's) sets in their place."""
        return replace(self, **{name: getattr(outer, name) for name in _CONSTRAINT_NAMES
                                if getattr(outer, name) is not None})


_CONSTRAINT_NAMES = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern")


def StringConstraints(*, min_length: int | None = None, max_length: int | None = None,  # noqa: N802
                      pattern: str | None = None) -> Constraints:
    return Constraints(min_length=min_length, max_length=max_length, pattern=pattern)


class FieldInfo:
    """One field's default, constraints and description (the annotation is added when the record resolves)."""

    def __init__(self, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None,
                 constraints: Constraints = Constraints(), description: str | None = None):
        self.default = default
        self.default_factory = default_factory
        self.constraints = constraints
        self.description = description
        self.annotation: Any = None
        self.check: _Check | None = None

    @property
    def required(self) -> bool:
        return self.default is _MISSING and self.default_factory is None

    def default_value(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        # A list or table written as a plain default would otherwise be one object shared by every record.
        return copy.deepcopy(self.default) if isinstance(self.default, (list, dict)) else self.default


def Field(default: Any = _MISSING, *, default_factory: Callable[[], Any] | None = None,  # noqa: N802
          ge: float | None = None, gt: float | None = None, le: float | None = None, lt: float | None = None,
          min_length: int | None = None, max_length: int | None = None, pattern: str | None = None,
          description: str | None = None) -> Any:
    """A field's default (none: required) and constraints, as `name: int = Field(3, ge=1)`."""
    return FieldInfo(default, default_factory, Constraints(ge, gt, le, lt, min_length, max_length, pattern),
                     description)


@dataclass(frozen=True)
class BeforeValidator:
    """In Annotated: runs on the raw value before its type is checked; raises ValueError to refuse it."""

    func: Callable[[Any], Any]


@dataclass(frozen=True)
class AfterValidator:
    """In Annotated: runs on the checked value; raises ValueError to refuse it, returns the value to keep."""

    func: Callable[[Any], Any]


class SecretStr:
    """A text shown as stars in repr and JSON dumps, so that no log or status prints it."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str):
        self._secret = secret

    def get_secret_value(self) -> str:
        return self._secret

    def __len__(self) -> int:
        return len(self._secret)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self._secret)

    def __str__(self) -> str:
        return "**********" if self._secret else ""

    def __repr__(self) -> str:
        return f"SecretStr('{self}')"


@dataclass(frozen=True)
class _ValidatorDeclaration:
    func: Any  # a classmethod, or a plain function for record validators that run on the record
    fields: tuple[str, ...]
    mode: str


def field_validator(*fields: str, mode: Literal["before", "after"] = "after") -> Callable[[Any], Any]:
    """Decorates a classmethod `(cls, value) -> value` run on each named field, before or after its type check."""
    return lambda func: _ValidatorDeclaration(func, fields, mode)


def model_validator(*, mode: Literal["before", "after"]) -> Callable[[Any], Any]:
    """`after`: a method `(self) -> self` run once every field is valid; `before`: a classmethod
    `(cls, data) -> data` run on the raw mapping."""
    return lambda func: _ValidatorDeclaration(func, (), mode)


# ---------------------------------------------------------------------------------------------------------------
# Errors


class ValidationError(ValueError):
    """Everything wrong with one input; `errors()` lists each problem with its key path (`loc`)."""

    def __init__(self, title: str, errors: list[dict[str, Any]]):
        self.title = title
        self._errors = errors
        lines = [f"{len(errors)} validation error{'s' if len(errors) != 1 else ''} for {title}"]
        for error in errors:
            lines.append(".".join(_short_repr(part) if not isinstance(part, (str, int)) or len(str(part)) > 60
                                  else str(part) for part in error["loc"]) or "<top level>")
            lines.append(f"  {error['msg']} [type={error['type']}, input_value={_short_repr(error['input'])}]")
        super().__init__("\n".join(lines))

    def errors(self) -> list[dict[str, Any]]:
        return [dict(error) for error in self._errors]


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 3, 60, 60, 6, 6


def _short_repr(value: Any) -> str:
    """The value as the error shows it: bounded in depth and length, however deep or long the input."""
    try:
        return _SHORT.repr(value)
    except Exception:  # noqa: BLE001 — an int past 4300 digits has no text; a hostile __repr__ may raise
        return f"<a {type(value).__name__} that cannot be shown>"


Errors = list[dict[str, Any]]
Loc = tuple[Any, ...]  # the key path to a value: field names, list indexes, table keys


def _fail(errors: Errors, kind: str, loc: Loc, msg: str, value: Any) -> Any:
    errors.append({"type": kind, "loc": loc, "msg": msg, "input": value})
    return _FAILED


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _number_text(bound: float) -> str:
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e15 else str(bound)


# ---------------------------------------------------------------------------------------------------------------
# Checks: one per annotation, built once per field


class _Check:
    """Validates one value against one annotation; returns the value to keep, or _FAILED with errors added."""

    expected = "a valid value"

    def run(self, value: Any, loc: Loc, errors: Errors) -> Any:
        raise NotImplementedError

    def describe_schema(self) -> dict[str, Any]:
        return {}


class _AnyCheck(_Check):
    def run(self, value, loc, errors):
        return value


def _bounds(value: float, c: Constraints, loc: Loc, errors: Errors) -> Any:
    tests = (("ge", "greater_than_equal", "greater than or equal to", lambda b: value >= b),
             ("gt", "greater_than", "greater than", lambda b: value > b),
             ("le", "less_than_equal", "less than or equal to", lambda b: value <= b),
             ("lt", "less_than", "less than", lambda b: value < b))
    for name, kind, words, holds in tests:
        bound = getattr(c, name)
        if bound is not None and not holds(bound):
            return _fail(errors, kind, loc, f"Input should be {words} {_number_text(bound)}", value)
    return value


def _length(value: Any, size: int, noun: str, c: Constraints, loc: Loc, errors: Errors) -> Any:
    """`noun` is String, List or Dictionary; the wording is pydantic's, which operators may already know."""
    def amount(n: int) -> str:
        unit = "character" if noun == "String" else "item"
        counted = f"{n} {unit}{'' if n == 1 else 's'}"
        return counted if noun == "String" else f"{counted} after validation, not {size}"

    if c.min_length is not None and size < c.min_length:
        return _fail(errors, "too_short", loc, f"{noun} should have at least {amount(c.min_length)}", value)
    if c.max_length is not None and size > c.max_length:
        return _fail(errors, "too_long", loc, f"{noun} should have at most {amount(c.max_length)}", value)
    return value


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(_end_means_end(pattern))
    return compiled


def _end_means_end(pattern: str) -> str:
    """The pattern with each `$` that anchors (not escaped, not in a [class]) as `\\Z`: Python's `$` also matches
    before a trailing newline, and "wlan0\\n" is no interface name."""
    out, escaped, class_start = [], False, None  # class_start: where the open [class]'s members begin
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif class_start is not None:
            if char == "^" and index == class_start:
                class_start += 1  # [^...]: the members begin after the caret
            elif char == "]" and index > class_start:
                class_start = None  # a `]` first in the class (`[]a]`) is a member, not the end
        elif char == "[":
            class_start = index + 1
        elif char == "$":
            out.append(r"\Z")
            continue
        out.append(char)
    return "".join(out)


class _ScalarCheck(_Check):
    def __init__(self, kind: type, constraints: Constraints = Constraints()):
        self.kind = kind
        self.constraints = constraints
        self.expected = _EXPECTED[kind]
        self.parse = _PARSERS[kind]

    def run(self, value, loc, errors):
        return self.parse(value, self.constraints, loc, errors)

    def describe_schema(self):
        c = self.constraints
        schema: dict[str, Any] = {"type": _JSON_TYPES[self.kind]} if self.kind in _JSON_TYPES else {}
        for name, key in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"),
                          ("lt", "exclusiveMaximum"), ("pattern", "pattern")):
            if getattr(c, name) is not None:
                schema[key] = getattr(c, name)
        if c.min_length is not None:
            schema["minLength"] = c.min_length
        if c.max_length is not None:
            schema["maxLength"] = c.max_length
        return dict(sorted(schema.items()))


def _boolean(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, bool):
        return value
    return _fail(errors, "bool_type", loc, "Input should be a valid boolean", value)


def _integer(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _fail(errors, "int_type", loc, "Input should be a valid integer", value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return _fail(errors, "finite_number", loc, "Input should be a finite number", value)
        if not value.is_integer():
            return _fail(errors, "int_from_float", loc,
                         "Input should be a valid integer, got a number with a fractional part", value)
        if abs(value) >= 2 ** 63:  # 1e300 is no count of anything: as pydantic, no whole floats past 64 bits
            return _fail(errors, "int_parsing_size", loc, "Input should be a valid integer, this float is past 64 "
                         "bits", value)
        value = int(value)
    return _bounds(value, c, loc, errors)


def _number(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _fail(errors, "float_type", loc, "Input should be a valid number", value)
    if isinstance(value, float) and not math.isfinite(value):
        return _fail(errors, "finite_number", loc, "Input should be a finite number", value)
    if _bounds(value, c, loc, errors) is _FAILED:  # a huge int is compared exactly, not as a float
        return _FAILED
    try:
        return float(value)
    except OverflowError:
        return _fail(errors, "finite_number", loc, "Input should be a finite number", value)


def _text(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    if not isinstance(value, str) or not _encodable(value):
        return _fail(errors, "string_type", loc, "Input should be a valid string", value)
    if _length(value, len(value), "String", c, loc, errors) is _FAILED:
        return _FAILED
    if c.pattern is not None and not _compiled(c.pattern).search(value):
        return _fail(errors, "string_pattern_mismatch", loc, f"String should match pattern '{c.pattern}'", value)
    return value


def _secret(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    checked = _text(value, replace(c, pattern=None), loc, errors)
    return SecretStr(checked) if checked is not _FAILED else _FAILED


def _path(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    if isinstance(value, (str, PurePath)):
        return Path(value)
    return _fail(errors, "path_type", loc, "Input should be a valid path", value)


def _none(value: Any, c: Constraints, loc: Loc, errors: Errors) -> Any:
    return None if value is None else _fail(errors, "none_required", loc, "Input should be None", value)


_PARSERS: dict[type, Callable[[Any, Constraints, Loc, Errors], Any]] = {
    bool: _boolean, int: _integer, float: _number, str: _text, SecretStr: _secret, Path: _path, type(None): _none}


def _encodable(text: str) -> bool:
    """False for text with a lone surrogate (JSON's "\\ud800"): no UTF-8 holds it, so a later write would fail."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_EXPECTED = {bool: "a valid boolean", int: "a valid integer", float: "a valid number", str: "a valid string",
             Path: "a valid path", SecretStr: "a valid string", type(None): "None"}
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null",
               SecretStr: "string", Path: "string"}


class _LiteralCheck(_Check):
    def __init__(self, options: tuple[Any, ...]):
        self.options = options
        self.expected = _either([repr(o) if isinstance(o, str) else str(o) for o in options])

    def run(self, value, loc, errors):
        if isinstance(value, str) and not _encodable(value):
            return _fail(errors, "string_type", loc, "Input should be a valid string", value)
        for option in self.options:
            same_kind = (isinstance(option, str) == isinstance(value, str)
                         and isinstance(option, bool) == isinstance(value, bool))
            if same_kind and option == value:
                return option
        return _fail(errors, "literal_error", loc, f"Input should be {self.expected}", value)

    def describe_schema(self):
        schema: dict[str, Any] = {"enum": list(self.options)}
        if all(isinstance(o, str) for o in self.options):
            schema["type"] = "string"
        return schema


class _ListCheck(_Check):
    expected = "a valid list"

    def __init__(self, item: _Check, constraints: Constraints = Constraints()):
        self.item = item
        self.constraints = constraints

    def run(self, value, loc, errors):
        if not isinstance(value, (list, tuple)):
            return _fail(errors, "list_type", loc, "Input should be a valid list", value)
        if _length(value, len(value), "List", self.constraints, loc, errors) is _FAILED:
            return _FAILED  # before the items: a list far too long is refused without walking it
        before = len(errors)
        items = [self.item.run(item, (*loc, index), errors) for index, item in enumerate(value)]
        return _FAILED if len(errors) > before else items


class _DictCheck(_Check):
    expected = "a valid dictionary"

    def __init__(self, key: _Check, item: _Check, constraints: Constraints = Constraints()):
        self.key = key
        self.item = item
        self.constraints = constraints

    def run(self, value, loc, errors):
        if not isinstance(value, Mapping):
            return _fail(errors, "dict_type", loc, "Input should be a valid dictionary", value)
        if _length(value, len(value), "Dictionary", self.constraints, loc, errors) is _FAILED:
            return _FAILED
        before = len(errors)
        checked = {}
        for key, item in value.items():
            checked_key = self.key.run(key, (*loc, key, "[key]"), errors)
            checked_item = self.item.run(item, (*loc, key), errors)
            if checked_key is not _FAILED:
                checked[checked_key] = checked_item
        return _FAILED if len(errors) > before else checked


class _RecordCheck(_Check):
    def __init__(self, record: type[Record]):
        self.record = record
        self.expected = f"a valid dictionary or instance of {record.__name__}"

    def run(self, value, loc, errors):
        if isinstance(value, self.record):
            return value
        return self.record._from_data(value, loc, errors)


class _UnionCheck(_Check):
    """The first member that takes the value; where all refuse, the errors of the one the value was meant for."""

    def __init__(self, members: list[_Check]):
        self.nullable = any(isinstance(m, _ScalarCheck) and m.kind is type(None) for m in members)
        self.members = [m for m in members if not (isinstance(m, _ScalarCheck) and m.kind is type(None))]
        self.expected = _either([m.expected for m in self.members] + (["None"] if self.nullable else []))

    def run(self, value, loc, errors):
        if value is None and self.nullable:
            return None
        if len(self.members) == 1:
            return self.members[0].run(value, loc, errors)
        attempts = []
        for member in self.members:
            member_errors: Errors = []
            checked = member.run(value, loc, member_errors)
            if checked is not _FAILED:
                return checked
            attempts.append(member_errors)
        # A member that refused the value for more than its type (a list too long, a bad item) was the one meant.
        meant = [found for found in attempts if not _type_error_only(found, loc)]
        if len(meant) == 1:
            errors.extend(meant[0])
            return _FAILED
        return _fail(errors, "union_type", loc, f"Input should be {self.expected}", value)

    def describe_schema(self):
        members = [m.describe_schema() for m in self.members]
        if self.nullable:
            members.append({"type": "null"})
        return {"anyOf": members}


_TYPE_ERRORS = {"bool_type", "int_type", "float_type", "string_type", "path_type", "none_required",
                "literal_error", "list_type", "dict_type", "model_type"}


def _type_error_only(found: Errors, loc: Loc) -> bool:
    return len(found) == 1 and found[0]["loc"] == loc and found[0]["type"] in _TYPE_ERRORS


class _ValidatedCheck(_Check):
    """Annotated[T, BeforeValidator(...), AfterValidator(...)]: functions around the type's own check."""

    def __init__(self, inner: _Check, before: list[Callable[[Any], Any]], after: list[Callable[[Any], Any]]):
        self.inner = inner
        self.before = before
        self.after = after
        self.expected = inner.expected

    def run(self, value, loc, errors):
        value = _apply(self.before, value, loc, errors)
        if value is not _FAILED:
            value = self.inner.run(value, loc, errors)
        return _apply(self.after, value, loc, errors) if value is not _FAILED else _FAILED

    def describe_schema(self):
        return self.inner.describe_schema()


def _apply(funcs: list[Callable[[Any], Any]], value: Any, loc: Loc, errors: Errors) -> Any:
    for func in funcs:
        try:
            value = func(value)
        except (ValueError, AssertionError) as exc:
            return _refused_by_validator(exc, loc, errors, value)
    return value


def _refused_by_validator(exc: ValueError | AssertionError, loc: Loc, errors: Errors, value: Any) -> Any:
    if isinstance(exc, AssertionError):
        return _fail(errors, "assertion_error", loc, f"Assertion failed, {exc}", value)
    return _fail(errors, "value_error", loc, f"Value error, {exc}", value)


def _check_for(annotation: Any, constraints: Constraints = Constraints()) -> _Check:
    """The check of one annotation; `constraints` from the field or an enclosing Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        before, after = [], []
        for extra in annotation.__metadata__:
            if isinstance(extra, FieldInfo):
                constraints = extra.constraints.over(constraints)
            elif isinstance(extra, Constraints):
                constraints = extra.over(constraints)
            elif isinstance(extra, BeforeValidator):
                before.append(extra.func)
            elif isinstance(extra, AfterValidator):
                after.append(extra.func)
        inner = _check_for(annotation.__origin__, constraints)
        return _ValidatedCheck(inner, before, after) if before or after else inner
    if origin in (Union, types.UnionType):
        return _UnionCheck([_check_for(member, constraints) for member in typing.get_args(annotation)])
    if origin is Literal:
        return _LiteralCheck(typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return _ListCheck(_check_for(item), constraints)
    if origin is dict:
        key, item = typing.get_args(annotation)
        return _DictCheck(_check_for(key), _check_for(item), constraints)
    if annotation is Any:
        return _AnyCheck()
    if annotation is None:
        annotation = type(None)
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return _RecordCheck(annotation)
    if annotation in _EXPECTED:
        return _ScalarCheck(annotation, constraints)
    raise TypeError(f"edge_agent.schema cannot check {annotation!r}")


# ---------------------------------------------------------------------------------------------------------------
# Records


class _RecordType(type):
    @property
    def model_fields(cls) -> dict[str, FieldInfo]:
        return cls._resolved()[0]


class Record(metaclass=_RecordType):
    """A frozen record: `Record(**fields)` and `Record.model_validate(mapping)` check every field, refuse unknown
    keys and raise ValidationError naming each problem."""

    model_fields_set: frozenset[str]

    def __init__(self, **data: Any):
        errors: Errors = []
        if not self._fill(data, (), errors):
            raise ValidationError(type(self).__name__, errors)

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        errors: Errors = []
        record = cls._from_data(data, (), errors)
        if record is _FAILED:
            raise ValidationError(cls.__name__, errors)
        return record

    @classmethod
    def _from_data(cls, data: Any, loc: Loc, errors: Errors) -> Any:
        record = cls.__new__(cls)
        return record if record._fill(data, loc, errors) else _FAILED

    def _fill(self, data: Any, loc: Loc, errors: Errors) -> bool:
        """Checks `data` into this record's fields; False (with `errors` added) when anything is wrong."""
        cls = type(self)
        fields, _, before_record, after_record = cls._resolved()
        for name in before_record:
            data = _apply([getattr(cls, name)], data, loc, errors)
            if data is _FAILED:
                return False
        if not isinstance(data, Mapping):
            _fail(errors, "model_type", loc, f"Input should be a valid dictionary or instance of {cls.__name__}",
                  data)
            return False
        values = cls._field_values(data, loc, errors)
        if values is _FAILED:
            return False
        given = frozenset(key for key in data if key in fields)
        object.__setattr__(self, "__dict__", {**values, "model_fields_set": given})
        for name in after_record:  # only once every field is valid: a record validator may rely on each
            try:
                getattr(self, name)()
            except (ValueError, AssertionError) as exc:
                _refused_by_validator(exc, loc, errors, dict(data))
                return False
        return True

    @classmethod
    def _field_values(cls, data: Mapping[Any, Any], loc: Loc, errors: Errors) -> Any:
        """Each field's checked value or default, or _FAILED with every problem of `data` in `errors`."""
        fields, field_validators, _, _ = cls._resolved()
        before = len(errors)
        for key in data:
            if key not in fields:
                _fail(errors, "extra_forbidden", (*loc, key), "Extra inputs are not permitted", data[key])
        values = {}
        for name, info in fields.items():
            if name not in data:
                if info.required:
                    _fail(errors, "missing", (*loc, name), "Field required", dict(data))
                values[name] = None if info.required else info.default_value()
                continue
            value_loc = (*loc, name)
            run_before, run_after = field_validators.get(name, ([], []))
            value = _apply([getattr(cls, v) for v in run_before], data[name], value_loc, errors)
            if value is not _FAILED:
                value = info.check.run(value, value_loc, errors)  # type: ignore[union-attr]
            if value is not _FAILED:
                value = _apply([getattr(cls, v) for v in run_after], value, value_loc, errors)
            values[name] = value
        return _FAILED if len(errors) > before else values

    @classmethod
    def _resolved(cls) -> tuple[dict[str, FieldInfo], dict[str, tuple[list[str], list[str]]], list[str], list[str]]:
        """Fields in declaration order (a base's first), each with its check; the validators' attribute names."""
        cached = cls.__dict__.get("_schema_resolved")
        if cached is not None:
            return cached
        hints = typing.get_type_hints(cls, include_extras=True)
        fields: dict[str, FieldInfo] = {}
        for name, annotation in hints.items():
            if name == "model_fields_set" or typing.get_origin(annotation) is typing.ClassVar:
                continue
            declared = getattr(cls, name, _MISSING)
            info = declared if isinstance(declared, FieldInfo) else FieldInfo(default=declared)
            field = FieldInfo(info.default, info.default_factory, info.constraints, info.description)
            field.annotation = annotation
            field.check = _check_for(annotation, info.constraints)
            fields[name] = field
        field_validators: dict[str, tuple[list[str], list[str]]] = {}
        before_record, after_record = [], []
        for attr, declaration in _declarations(cls).items():
            if not declaration.fields:
                (before_record if declaration.mode == "before" else after_record).append(attr)
            for name in declaration.fields:
                if name not in fields:
                    raise TypeError(f"{cls.__name__}.{attr} validates {name!r}, which is no field")
                field_validators.setdefault(name, ([], []))[declaration.mode == "after"].append(attr)
        resolved = (fields, field_validators, before_record, after_record)
        type.__setattr__(cls, "_schema_resolved", resolved)
        return resolved

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        # Each validator becomes the plain classmethod or method again; its declaration is kept aside.
        declarations = {}
        for attr, value in list(cls.__dict__.items()):
            if isinstance(value, _ValidatorDeclaration):
                declarations[attr] = value
                runs_on_the_class = value.fields or value.mode == "before"
                if runs_on_the_class and not isinstance(value.func, classmethod):
                    value = _ValidatorDeclaration(classmethod(value.func), value.fields, value.mode)
                type.__setattr__(cls, attr, value.func)
        type.__setattr__(cls, "_schema_declarations", declarations)

    def __setattr__(self, name: str, value: Any) -> None:
        raise ValidationError(type(self).__name__, [{"type": "frozen_instance", "loc": (name,),
                                                     "msg": "Instance is frozen", "input": value}])

    def __delattr__(self, name: str) -> None:
        raise ValidationError(type(self).__name__, [{"type": "frozen_instance", "loc": (name,),
                                                     "msg": "Instance is frozen", "input": None}])

    def _values(self) -> dict[str, Any]:
        return {name: self.__dict__[name] for name in type(self).model_fields}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), *self._values().values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._values().items())})"

    def model_dump(self, *, mode: Literal["python", "json"] = "python", exclude_none: bool = False) -> dict[str, Any]:
        """The fields as plain data; in JSON mode paths are text and secrets stars."""
        return {name: _dumped(value, mode, exclude_none) for name, value in self._values().items()
                if not (exclude_none and value is None)}

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Any:
        """A copy with `update`'s fields replaced, unchecked (as pydantic's): pass values of the right type."""
        copy = type(self).__new__(type(self))
        update = dict(update or {})
        object.__setattr__(copy, "__dict__", {**self.__dict__, **update,
                                              "model_fields_set": self.model_fields_set | set(update)})
        return copy


def _declarations(cls: type) -> dict[str, _ValidatorDeclaration]:
    found: dict[str, _ValidatorDeclaration] = {}
    for klass in reversed(cls.__mro__):
        found.update(klass.__dict__.get("_schema_declarations", {}))
    return found


def _dumped(value: Any, mode: str, exclude_none: bool) -> Any:
    if isinstance(value, Record):
        return value.model_dump(mode=mode, exclude_none=exclude_none)  # type: ignore[arg-type]
    if isinstance(value, (list, tuple)):
        return [_dumped(item, mode, exclude_none) for item in value]
    if isinstance(value, dict):
        return {key: _dumped(item, mode, exclude_none) for key, item in value.items()}
    if mode == "json" and isinstance(value, (PurePath, SecretStr)):
        return str(value)
    return value


def json_schema(record: type[Record]) -> dict[str, Any]:
    """A JSON Schema of a flat record (fields of scalars, literals and their unions), as pydantic writes one."""
    properties = {}
    for name, info in record.model_fields.items():
        schema = {**info.check.describe_schema(), "title": name.replace("_", " ").title()}  # type: ignore[union-attr]
        if not info.required and info.default_factory is None:
            schema["default"] = info.default
        if info.description:
            schema["description"] = info.description
        properties[name] = dict(sorted(schema.items()))
    schema = {"additionalProperties": False, "properties": properties, "title": record.__name__, "type": "object"}
    required = [name for name, info in record.model_fields.items() if info.required]
    if required:
        schema["required"] = required
    if record.__doc__:
        schema["description"] = inspect.cleandoc(record.__doc__)
    return dict(sorted(schema.items()))
