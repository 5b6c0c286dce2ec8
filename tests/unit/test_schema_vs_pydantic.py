"""edge_agent.schema against pydantic v2, the library it replaced in the agent: for the same JSON-like input the
two accept and refuse alike, keep equal values and name the same keys, apart from the few places where schema is
stricter on purpose (see `_stricter_on_purpose`). Each record shape is written once and built with each library.
The gaps it found are closed; the cases at the end keep them closed."""

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent import schema


@dataclass(frozen=True)
class _Library:
    """What a record shape is declared with; the same names in both libraries."""

    base: type
    Field: Callable[..., Any]  # noqa: N815
    StringConstraints: Callable[..., Any]  # noqa: N815
    BeforeValidator: type  # noqa: N815
    AfterValidator: type  # noqa: N815
    SecretStr: type  # noqa: N815
    field_validator: Callable[..., Any]
    model_validator: Callable[..., Any]


class _PydanticRecord(pydantic.BaseModel):
    # What every schema.Record is: frozen, and an unknown key is an error.
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


OURS = _Library(schema.Record, schema.Field, schema.StringConstraints, schema.BeforeValidator, schema.AfterValidator,
                schema.SecretStr, schema.field_validator, schema.model_validator)
THEIRS = _Library(_PydanticRecord, pydantic.Field, pydantic.StringConstraints, pydantic.BeforeValidator,
                  pydantic.AfterValidator, pydantic.SecretStr, pydantic.field_validator, pydantic.model_validator)


# ---------------------------------------------------------------------------------------------------------------
# Record shapes, each like a part of the config or a cloud command's arguments


def _limits(lib: _Library) -> type:
    class Limits(lib.base):
        count: int = lib.Field(1, ge=1, le=10)
        ratio: float = lib.Field(0.5, gt=0, lt=1)
        timeout_s: float | None = lib.Field(None, ge=0, le=3600)
        retries: int | None = lib.Field(None, gt=-1, lt=100)
        scale: float = 1.0
        total: int = 0
        band: Literal[2.4, 5, 6] | None = None

    return Limits


def _lowered(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _one_word(value: str) -> str:
    if " " in value:
        raise ValueError("one word, no spaces")
    return value


def _absolute(value: Any) -> Any:
    if isinstance(value, str) and not value.startswith("/"):
        raise ValueError("must be an absolute path")
    return value


def _program_first(argv: list[str]) -> list[str]:
    if not argv or not argv[0]:
        raise ValueError("the program, then its arguments")
    return argv


def _names(lib: _Library) -> type:
    class Names(lib.base):
        name: Annotated[str, lib.StringConstraints(min_length=1, max_length=8, pattern=r"^[a-z][a-z0-9_]*$")]
        issue_id: str | None = lib.Field(None, pattern=r"^[0-9a-f]{4}$")
        label: str = lib.Field("", max_length=5)
        level: Literal["debug", "info"] = "info"
        slug: Annotated[str, lib.BeforeValidator(_lowered), lib.AfterValidator(_one_word)] = "x"
        password: lib.SecretStr | None = None
        enabled: bool = True
        key_file: Annotated[Path, lib.BeforeValidator(_absolute)] | None = None
        argv: Annotated[list[str], lib.AfterValidator(_program_first)] | None = None

    return Names


def _choices(lib: _Library) -> type:
    Interface = Annotated[str, lib.StringConstraints(min_length=1, max_length=6, pattern=r"^[a-z0-9]+$")]

    class Choices(lib.base):
        tls: bool | Literal["auto"] = "auto"
        interfaces: list[Interface] | Literal["auto"] | None = lib.Field(None, max_length=3)
        band: Literal[2.4, 5, 6] | None = None

    return Choices


def _site(lib: _Library) -> type:
    class Radio(lib.base):
        band: Literal[2.4, 5, 6]
        channel: int = lib.Field(1, ge=1, le=14)
        width_mhz: int = 20
        power: int | Literal["auto"] = "auto"

        @lib.model_validator(mode="after")
        def _width_fits_the_band(self):
            if self.band == 2.4 and self.width_mhz > 40:
                raise ValueError("2.4 GHz channels are at most 40 MHz wide")
            return self

    class Site(lib.base):
        radio: Radio = Radio(band=5)
        radios: dict[str, Radio] = lib.Field(default_factory=dict)
        tags: list[str] = lib.Field(default_factory=list, max_length=4)
        action: str | None = lib.Field(None, pattern=r"^[a-z_]{1,8}(:[a-z0-9]{1,4})?$")
        issue_id: str | None = None

        @lib.field_validator("tags")
        @classmethod
        def _each_tag_once(cls, tags):
            if len(set(tags)) != len(tags):
                raise ValueError("each tag once")
            return tags

        @lib.model_validator(mode="after")
        def _action_or_issue(self):
            if self.action is None and self.issue_id is None:
                raise ValueError("name an action or an issue_id")
            return self

    return Site


# ---------------------------------------------------------------------------------------------------------------
# Inputs: JSON values of every kind, and mappings of a shape's keys to near-valid values or any JSON value

# No union member's name ('bool', 'int', "literal['auto']", 'list[...]') can be spelt in these keys, so that a
# member's name in a pydantic error location is never mistaken for a key.
_KEY = st.text(alphabet="abcxyz_-0 \n\x00é", max_size=6)
_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(),
    st.sampled_from([0, 1, -1, 2 ** 53 + 1, 2 ** 63, 10 ** 20, 10 ** 400, -10 ** 400]),
    st.floats(), st.sampled_from([0.0, -0.0, 1.0, 0.5, 2.4, 5.0, 1e20, 1e300, math.inf, math.nan]),
    st.text(max_size=10), st.text(max_size=8).map(lambda text: text + "\n"),
    st.sampled_from(["", "auto", "5", "2.4", "true", "yes", "1", "info", "DEBUG", "wlan0", "a b", "/etc/x"]),
    st.sampled_from(["a\x00b", "\ud800", "ab\udfff"]),  # JSON's "\ud800" is a lone surrogate, no character
)
_JSON = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEY, inner, max_size=4),
                     max_leaves=10)


def _mapping(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the fields, each mostly near-valid, else anything, and now and then an unknown key."""
    value = {name: st.one_of(near, near, _JSON) for name, near in fields.items()}
    given_fields = st.fixed_dictionaries({}, optional=value)
    unknown = st.dictionaries(_KEY, _JSON, max_size=1)
    return st.builds(lambda known, extra: {**extra, **known}, given_fields, unknown)


def _text(pattern: str) -> st.SearchStrategy[str]:
    matching = st.from_regex(pattern, fullmatch=True)
    return st.one_of(matching, matching.map(lambda text: text + "\n"), st.text(max_size=10))


_NUMBER = st.one_of(st.integers(-3, 20), st.floats(-1.5, 20.5), st.sampled_from([2.4, 5, 6, 5.0, 6.0]))
_BAND = st.sampled_from([2.4, 5, 6, 5.0, 6.0, 2, 4, "5", True, None])
_INTERFACES = st.one_of(st.just("auto"), st.lists(_text(r"[a-z0-9]{0,7}"), max_size=5))
_RADIO = _mapping({"band": _BAND, "channel": _NUMBER, "width_mhz": st.sampled_from([20, 40, 80, 80.0, 40.5]),
                   "power": st.one_of(_NUMBER, st.just("auto"))})


@dataclass(frozen=True)
class Shape:
    ours: type
    theirs: type
    inputs: st.SearchStrategy[Any]


def _shape(declare: Callable[[_Library], type], fields: dict[str, st.SearchStrategy[Any]]) -> Shape:
    # Mostly mappings of the record's keys; sometimes any JSON value at all in place of the mapping.
    return Shape(declare(OURS), declare(THEIRS), st.one_of(_mapping(fields), _mapping(fields), _JSON))


SHAPES = {
    "limits": _shape(_limits, {"count": _NUMBER, "ratio": st.floats(-0.5, 1.5), "timeout_s": _NUMBER,
                               "retries": _NUMBER, "scale": _NUMBER, "total": _NUMBER, "band": _BAND}),
    "names": _shape(_names, {"name": _text(r"[a-z][a-z0-9_]{0,9}"), "issue_id": _text(r"[0-9a-f]{3,5}"),
                             "label": _text(r"[a-z]{0,7}"), "level": st.sampled_from(["debug", "info", "INFO"]),
                             "slug": st.sampled_from(["Wlan", "a b", "ok"]), "password": _text(r"[a-z]{0,4}"),
                             "enabled": st.booleans(), "key_file": st.sampled_from(["/etc/x", "x", "", "/"]),
                             "argv": st.lists(st.sampled_from(["", "ip", "-4"]), max_size=3)}),
    "choices": _shape(_choices, {"tls": st.sampled_from([True, False, "auto", 0, 1, "true"]),
                                 "interfaces": _INTERFACES, "band": _BAND}),
    "site": _shape(_site, {"radio": _RADIO, "radios": st.dictionaries(_KEY, _RADIO, max_size=3),
                           "tags": st.lists(st.sampled_from(["a", "b", "c"]), max_size=5),
                           "action": _text(r"[a-z_]{1,9}(:[a-z0-9]{1,5})?"), "issue_id": _text("[0-9a-f]{4}")}),
}


# ---------------------------------------------------------------------------------------------------------------
# Outcomes and how they are compared


@dataclass(frozen=True)
class Outcome:
    dumped: Any  # the accepted record's fields as plain data, None if refused
    errors: list[dict[str, Any]]


def _outcome(record: type, data: Any) -> Outcome:
    try:
        return Outcome(_plain(record.model_validate(data).model_dump()), [])
    except (schema.ValidationError, pydantic.ValidationError) as refused:
        return Outcome(None, refused.errors())


def _plain(value: Any) -> Any:
    """The value with each scalar's type beside it: 5 and 5.0 and True are three different values here."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (schema.SecretStr, pydantic.SecretStr)):
        return ("secret", value.get_secret_value())
    if isinstance(value, PurePath):
        return ("path", str(value))
    return (type(value).__name__, value)


def _stricter_on_purpose(error: dict[str, Any]) -> bool:
    """An error of schema's where pydantic's lax mode would convert the value: the deliberate differences."""
    kind, value = error["type"], error["input"]
    if kind in ("int_type", "float_type"):  # text is no number ("5"), and neither is a boolean
        return isinstance(value, (str, bool))
    if kind == "bool_type":  # text ("true", "yes") and the numbers 0 and 1 are no booleans
        return isinstance(value, str) or _zero_or_one(value)
    if kind == "finite_number":  # nan and inf are refused, and so is an int too large for a float
        return _not_finite(value)
    if kind == "string_type":  # a lone surrogate ("\\ud800" in JSON) is no text, even where nothing bounds it
        return isinstance(value, str) and not schema._encodable(value)
    if kind == "union_type":  # one of those met in a union, as `tls: bool | Literal["auto"] = 1`
        return isinstance(value, (str, bool)) or _zero_or_one(value) or _not_finite(value)
    return False


def _zero_or_one(value: Any) -> bool:
    return type(value) in (int, float) and value in (0, 1)


def _not_finite(value: Any) -> bool:
    if type(value) is int:
        return abs(value) > sys.float_info.max
    return type(value) is float and not math.isfinite(value)


def _is_member_name(part: Any) -> bool:
    # pydantic names the union member in an error's location: ("tls", "bool"), ("interfaces", "list[...]", 0).
    return isinstance(part, str) and (part in ("bool", "int", "float", "str", "none") or "[" in part)


def _union_root(loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The location of the outermost union an error of pydantic's lies in, if it lies in one."""
    for index, part in enumerate(loc):
        if _is_member_name(part):
            return loc[:index]
    return None


def _without_member_names(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(part for part in loc if not _is_member_name(part))


def _cut(loc: tuple[Any, ...], roots: set[tuple[Any, ...]]) -> tuple[Any, ...]:
    """An error in a union is counted at the union: pydantic reports every member's errors, schema the errors of
    the one member the value was meant for, or one error at the union where it cannot tell."""
    for root in roots:
        if loc[:len(root)] == root:
            return root
    return loc


# Errors both report at one location whose wording differs on purpose or by accident of pydantic's internals; the
# wording for everything else must be pydantic's (operators may already know it).
_OWN_WORDING = {
    "path_type",  # pydantic: "Input is not a valid path for <class 'pathlib.Path'>"
    "union_type",  # pydantic has no one error for a union, only each member's
}


def _union_length_bound(error: dict[str, Any]) -> bool:
    """pydantic's error for a length bound set on a union field (or an Optional secret), not on one member."""
    return error["type"] in ("too_long", "too_short") and error.get("ctx", {}).get("field_type") == "Value"


def _pydantic_quirk(error: dict[str, Any]) -> bool:
    """pydantic applies a union field's length bound to a text literal too: `interfaces: list[...] |
    Literal["auto"] = Field(max_length=3)` refuses "auto" for its 4 characters. schema applies the bound to the
    member it fits (tests/unit/test_schema.py: test_a_fields_bound_applies_to_the_member_it_fits)."""
    return _union_length_bound(error) and isinstance(error["input"], str)


def _beyond_64_bits(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 2 ** 63


def _compare(shape: Shape, data: Any) -> None:
    """Asserts that schema decides `data` as pydantic does, but for its deliberate strictness."""
    ours, theirs = _outcome(shape.ours, data), _outcome(shape.theirs, data)
    their_errors = [error for error in theirs.errors if not _pydantic_quirk(error)]
    if not their_errors:
        assert all(_stricter_on_purpose(error) for error in ours.errors), (
            f"pydantic accepts {data!r} as {theirs.dumped}, schema refuses it: {ours.errors}")
        assert ours.errors or theirs.errors or ours.dumped == theirs.dumped, (data, ours.dumped, theirs.dumped)
        return
    assert ours.errors, f"pydantic refuses {data!r} ({their_errors}), schema accepts it as {ours.dumped}"
    roots = {root for error in their_errors if (root := _union_root(error["loc"])) is not None}
    their_locs = {_without_member_names(error["loc"]) for error in their_errors}
    on_purpose = [error for error in ours.errors if _stricter_on_purpose(error)]
    for error in ours.errors:
        explained = (error in on_purpose or error["loc"] in their_locs
                     or (error["type"] == "union_type" and error["loc"] in roots))
        assert explained, f"schema refuses {data!r} at {error['loc']} ({error['msg']}), pydantic not: {their_errors}"
    our_cut = {_cut(error["loc"], roots) for error in ours.errors}
    for error in their_errors:
        # A validator pydantic ran on a value it converted never runs in schema, which refused that value.
        hidden = error["type"] == "value_error" and any(
            mine["loc"][:len(error["loc"])] == error["loc"] for mine in on_purpose)
        assert hidden or _cut(error["loc"], roots) in our_cut, (
            f"pydantic refuses {data!r} at {error['loc']} ({error['msg']}), schema not: {ours.errors}")
    for error in ours.errors:
        if error in on_purpose or error["type"] in _OWN_WORDING:
            continue
        same_place = [their for their in their_errors if _without_member_names(their["loc"]) == error["loc"]]
        if error["type"] in ("too_long", "too_short") and (
                error["loc"] in roots or any(_union_length_bound(their) for their in same_place)):
            # A union's length bound: pydantic checks it after the members (so a long list of bad items gets
            # the items' errors) and words it "Value should have at most 3 items" even for text; schema checks
            # it first, so that a huge list is refused unwalked, and says what it counted.
            continue
        if _beyond_64_bits(error["input"]):
            continue  # pydantic's core has no wording of its own past 64 bits: "Unable to parse input string..."
        # pydantic adds how its conversion failed ("Input should be a valid boolean, unable to interpret input" for
        # 2); schema converts nothing, so says only what was expected.
        wording = {their["msg"].split(", unable to ")[0] for their in same_place}
        assert error["msg"] in wording, f"{data!r} at {error['loc']}: schema says {error['msg']!r}, pydantic {wording}"


# The same 200 examples each run, so that CI cannot turn red by chance; SCHEMA_EXAMPLES=5000 explores anew.
EXPLORE = os.environ.get("SCHEMA_EXAMPLES")


@pytest.mark.parametrize("name", sorted(SHAPES))
@settings(max_examples=int(EXPLORE or 200), derandomize=EXPLORE is None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_schema_decides_like_pydantic_except_where_stricter_on_purpose(name, data):
    shape = SHAPES[name]
    value = data.draw(shape.inputs, label="input")
    _compare(shape, value)


# ---------------------------------------------------------------------------------------------------------------
# Gaps the differential test found and schema.py closed: each case is decided as pydantic decides it.


def _asserting(lib: _Library) -> type:
    class Asserting(lib.base):
        port: int = 1

        @lib.field_validator("port")
        @classmethod
        def _not_reserved(cls, port):
            assert port != 7, "port 7 is reserved"
            return port

    return Asserting


def _patterns(lib: _Library) -> type:
    class Patterns(lib.base):
        either: str = lib.Field("a", pattern=r"^a$|^b$")
        grouped: str = lib.Field("a", pattern=r"^(a$|b$)")
        backslash: str = lib.Field("a\\", pattern=r"^a\\$")  # a backslash, then the end

    return Patterns


def _gap(declare: Callable[[_Library], type], data: dict[str, Any], what: str) -> Any:
    """`what`: the gap, as found."""
    shape = Shape(declare(OURS), declare(THEIRS), st.nothing())
    return pytest.param(shape, data, id=f"{declare.__name__.strip('_')}-{'-'.join(data)}")


@pytest.mark.parametrize("shape, data", [
    _gap(_limits, {"total": 1e20}, "pydantic refuses a whole float past 64 bits for an int "
         "(int_parsing_size); schema keeps it as 10**20"),
    _gap(_limits, {"total": -1e19}, "pydantic refuses a whole float past 64 bits for an int"),
    _gap(_names, {"name": "a", "label": "\ud800"}, "pydantic refuses a lone surrogate in a text with a length "
         "bound (string_unicode); schema accepts it"),
    _gap(_names, {"name": "a", "level": "\ud800"}, "a lone surrogate for a text literal: pydantic says it is no "
         "text; schema said it was none of the options (found by SCHEMA_EXAMPLES exploring)"),
    _gap(_names, {"name": "\ud800"}, "pydantic names a lone surrogate 'Input should be a valid string, unable "
         "to parse raw data as a unicode string'; schema says the pattern does not match"),
    _gap(_asserting, {"port": 7}, "pydantic words a failed assert 'Assertion failed, ...'; schema 'Value "
         "error, ...'"),
    _gap(_patterns, {"either": "a\n"}, "a `$` that does not end the pattern still matches before a trailing "
         "newline in schema (Python's re); pydantic's regex refuses"),
    _gap(_patterns, {"grouped": "a\n"}, "a `$` inside a group still matches before a trailing newline"),
    _gap(_patterns, {"backslash": "a\\\n"}, "a pattern ending in an escaped backslash and `$` is taken for one "
         "ending in a literal `$`, so its `$` still matches before a trailing newline"),
])
def test_a_closed_gap_stays_closed(shape, data):
    _compare(shape, data)
