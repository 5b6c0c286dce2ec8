"""edge_agent.schema: the records the agent validates its config and cloud commands with, in place of pydantic.
Each test names a behaviour a hostile or mistaken input meets: the right error at the right key, nothing else."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest

from edge_agent.schema import (
    AfterValidator,
    BeforeValidator,
    Field,
    Record,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    json_schema,
    model_validator,
)


class Inner(Record):
    count: int = Field(1, ge=1, le=10)
    ratio: float = Field(0.5, gt=0, lt=1)


Name = Annotated[str, StringConstraints(min_length=1, max_length=8, pattern=r"^[a-z]+$")]


def _lowercase(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class Outer(Record):
    name: Name
    enabled: bool = True
    path: Path | None = None
    secret: SecretStr | None = Field(None, max_length=16)
    mode: bool | Literal["auto"] = "auto"
    names: list[Name] | Literal["all"] | None = Field(None, max_length=3)
    inner: Inner = Inner()
    table: dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{1,4}$")], Inner] = Field(default_factory=dict)
    limits: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    band: Literal[2.4, 5, 6] | None = None
    shouted: Annotated[str, BeforeValidator(_lowercase)] = "x"

    @field_validator("names")
    @classmethod
    def _distinct(cls, names):
        if isinstance(names, list) and len(set(names)) != len(names):
            raise ValueError("each name once")
        return names

    @model_validator(mode="after")
    def _secret_needs_a_path(self):
        if self.secret is not None and self.path is None:
            raise ValueError("a secret needs a path")
        return self


def problems(data: Any, record: type[Record] = Outer) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        record.model_validate(data)
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


def test_a_valid_mapping_becomes_a_record_with_defaults_and_converted_values():
    record = Outer.model_validate({"name": "gw", "path": "/etc/x", "inner": {"ratio": 0.25}, "band": 5.0,
                                   "table": {"ab": {"count": 2.0}}, "limits": {"cpu": 3}, "shouted": "LOUD"})
    assert record.name == "gw" and record.enabled is True and record.path == Path("/etc/x")
    assert record.inner == Inner(count=1, ratio=0.25)
    assert record.band == 5 and type(record.band) is int  # the literal's own value
    assert record.table["ab"].count == 2 and type(record.table["ab"].count) is int
    assert record.limits == {"cpu": 3.0} and type(record.limits["cpu"]) is float
    assert record.shouted == "loud"
    assert record.model_fields_set == {"name", "path", "inner", "band", "table", "limits", "shouted"}


@pytest.mark.parametrize("value, message", [
    (1, "Input should be a valid boolean"),
    ("true", "Input should be a valid boolean"),
    (None, "Input should be a valid boolean"),
])
def test_a_boolean_is_only_true_or_false(value, message):
    assert problems({"name": "a", "enabled": value}) == [(("enabled",), message)]


@pytest.mark.parametrize("value, message", [
    ("5", "Input should be a valid integer"),  # quoted numbers are a mistake worth naming
    (True, "Input should be a valid integer"),
    (2.5, "Input should be a valid integer, got a number with a fractional part"),
    (float("nan"), "Input should be a finite number"),
    (0, "Input should be greater than or equal to 1"),
    (10 ** 400, "Input should be less than or equal to 10"),
])
def test_integers_refuse_text_booleans_fractions_and_values_out_of_bounds(value, message):
    assert problems({"name": "a", "inner": {"count": value}}) == [(("inner", "count"), message)]


@pytest.mark.parametrize("value, message", [
    (float("inf"), "Input should be a finite number"),
    (float("nan"), "Input should be a finite number"),
    ("0.5", "Input should be a valid number"),
    (False, "Input should be a valid number"),
    (0, "Input should be greater than 0"),
    (1.0, "Input should be less than 1"),
    (10 ** 400, "Input should be less than 1"),  # compared exactly: no OverflowError escapes
])
def test_floats_are_finite_numbers_within_their_bounds(value, message):
    assert problems({"name": "a", "inner": {"ratio": value}}) == [(("inner", "ratio"), message)]


def test_an_integer_too_large_for_a_float_without_a_bound_is_an_error_not_an_exception():
    assert problems({"name": "a", "limits": {"x": 10 ** 400}}) == [(("limits", "x"), "Input should be a finite number")]


@pytest.mark.parametrize("value, message", [
    ("", "String should have at least 1 character"),
    ("abcdefghi", "String should have at most 8 characters"),
    ("Gw", "String should match pattern '^[a-z]+$'"),
    ("gw\n", "String should match pattern '^[a-z]+$'"),  # Python's `$` alone would let a trailing newline in
    (7, "Input should be a valid string"),
])
def test_text_is_checked_for_type_length_and_pattern(value, message):
    assert problems({"name": value}) == [(("name",), message)]


def test_unknown_keys_and_missing_required_keys_are_each_named():
    assert problems({"nmae": "gw", "inner": {"count": 2, "extra": 1}}) == [
        (("nmae",), "Extra inputs are not permitted"),
        (("name",), "Field required"),
        (("inner", "extra"), "Extra inputs are not permitted"),
    ]


def test_every_problem_is_reported_with_its_key_path_not_only_the_first():
    found = problems({"name": "", "names": ["ok", "Bad"], "table": {"toolong": {}, "ok": {"count": 99}},
                      "limits": {"a": -1}})
    assert (("name",), "String should have at least 1 character") in found
    assert (("names", 1), "String should match pattern '^[a-z]+$'") in found
    assert (("table", "toolong", "[key]"), "String should match pattern '^[a-z]{1,4}$'") in found
    assert (("table", "ok", "count"), "Input should be less than or equal to 10") in found
    assert (("limits", "a"), "Input should be greater than or equal to 0") in found
    assert len(found) == 5


def test_a_union_reports_the_member_the_value_was_meant_for():
    assert problems({"name": "a", "names": ["ok", "x1"]}) == [(("names", 1), "String should match pattern "
                                                                             "'^[a-z]+$'")]
    assert problems({"name": "a", "names": "some"}) == [(("names",), "Input should be a valid list, 'all' or None")]
    assert problems({"name": "a", "mode": "yes"}) == [(("mode",), "Input should be a valid boolean or 'auto'")]
    assert Outer.model_validate({"name": "a", "mode": True}).mode is True
    assert Outer.model_validate({"name": "a", "names": "all"}).names == "all"


def test_a_fields_bound_applies_to_the_member_it_fits():
    assert problems({"name": "a", "names": ["a", "b", "c", "d"]}) == [
        (("names",), "List should have at most 3 items after validation, not 4")]
    assert problems({"name": "a", "path": "/x", "secret": "s" * 17}) == [
        (("secret",), "String should have at most 16 characters")]


def test_a_huge_list_is_refused_by_its_length_before_any_item_is_checked():
    found = problems({"name": "a", "names": [object()] * 1_000_000})
    assert found == [(("names",), "List should have at most 3 items after validation, not 1000000")]


def test_input_deeper_than_the_type_stops_at_the_first_level_that_does_not_fit():
    deep: Any = "x"
    for _ in range(100_000):  # far past Python's recursion limit: checks follow the type, not the input
        deep = [deep]
    assert problems({"name": "a", "names": deep}) == [(("names", 0), "Input should be a valid string")]
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"name": "a", "names": deep})
    assert len(str(caught.value)) < 1000  # the message shows the value cut short, never all of it


@pytest.mark.parametrize("value", [2.4, 5, 6.0, None])
def test_numeric_literals_match_by_value(value):
    assert Outer.model_validate({"name": "a", "band": value}).band == value


@pytest.mark.parametrize("value", ["5", True, 2.5])
def test_numeric_literals_refuse_text_booleans_and_other_numbers(value):
    assert problems({"name": "a", "band": value}) == [(("band",), "Input should be 2.4, 5 or 6")]


def test_field_validators_run_after_the_type_check_and_record_validators_after_every_field():
    assert problems({"name": "a", "names": ["b", "b"]}) == [(("names",), "Value error, each name once")]
    assert problems({"name": "a", "secret": "pw"}) == [((), "Value error, a secret needs a path")]
    # A record validator never sees a record with a bad field: the field's error alone is reported.
    assert problems({"name": "A", "secret": "pw"}) == [(("name",), "String should match pattern '^[a-z]+$'")]


def test_a_record_that_is_not_a_mapping_is_refused_naming_what_was_expected():
    assert problems({"name": "a", "inner": [1, 2]}) == [
        (("inner",), "Input should be a valid dictionary or instance of Inner")]
    assert problems("text") == [((), "Input should be a valid dictionary or instance of Outer")]


def test_records_are_frozen_and_copies_change_only_the_copy():
    record = Outer(name="a")
    with pytest.raises(ValidationError, match="Instance is frozen"):
        record.name = "b"
    with pytest.raises(ValidationError, match="Instance is frozen"):
        del record.name
    changed = record.model_copy(update={"enabled": False})
    assert record.enabled is True and changed.enabled is False and changed.name == "a"
    assert "enabled" in changed.model_fields_set and "enabled" not in record.model_fields_set


def test_the_constructor_validates_like_model_validate():
    with pytest.raises(ValidationError, match="count"):
        Inner(count=0)
    assert Inner(count=3) == Inner.model_validate({"count": 3}) and Inner(count=3) != Inner(count=4)
    assert hash(Inner(count=3)) == hash(Inner.model_validate({"count": 3}))


def test_secrets_never_show_in_repr_or_json_dumps():
    record = Outer.model_validate({"name": "a", "path": "/etc/key", "secret": "hunter2"})
    assert "hunter2" not in repr(record) and "hunter2" not in str(record.model_dump(mode="json"))
    assert record.model_dump(mode="json")["secret"] == "**********"
    assert record.model_dump(mode="json")["path"] == "/etc/key"
    assert record.secret.get_secret_value() == "hunter2"
    assert "hunter2" not in str(problems({"name": "a", "path": "/etc/key", "secret": "hunter2" * 3}))


def test_dumps_are_plain_data_and_exclude_none_drops_the_unset():
    dumped = Outer.model_validate({"name": "a", "table": {"ab": {}}}).model_dump(mode="json", exclude_none=True)
    assert dumped["table"] == {"ab": {"count": 1, "ratio": 0.5}} and "path" not in dumped


def test_records_survive_copy_and_pickle():
    record = Outer.model_validate({"name": "a", "path": "/x", "table": {"ab": {"count": 2}}})
    assert copy.deepcopy(record) == record and pickle.loads(pickle.dumps(record)) == record


def test_a_validator_naming_no_field_is_a_programming_error_found_at_first_use():
    class Broken(Record):
        value: int = 1

        @field_validator("valeu")
        @classmethod
        def _check(cls, value):
            return value

    with pytest.raises(TypeError, match="valeu"):
        Broken()


def test_a_before_record_validator_may_reshape_the_raw_mapping():
    class Renamed(Record):
        new: int = 0

        @model_validator(mode="before")
        @classmethod
        def _old_name(cls, data):
            if isinstance(data, dict) and "old" in data:
                data = {"new": data["old"]}
            return data

    assert Renamed.model_validate({"old": 4}).new == 4
    assert problems({"old": "x"}, Renamed) == [(("new",), "Input should be a valid integer")]


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be even")
    return value


class Even(Record):
    value: Annotated[int, AfterValidator(_even)] = 0


def test_after_validators_in_annotated_types_refuse_with_their_message():
    assert problems({"value": 3}, Even) == [(("value",), "Value error, must be even")]


def test_the_json_schema_of_a_flat_record_describes_its_fields():
    schema = json_schema(Outer)
    assert schema["required"] == ["name"] and schema["additionalProperties"] is False
    assert schema["properties"]["name"] == {"maxLength": 8, "minLength": 1, "pattern": "^[a-z]+$",
                                            "title": "Name", "type": "string"}
    assert schema["properties"]["mode"]["anyOf"] == [{"type": "boolean"}, {"enum": ["auto"], "type": "string"}]


class Shared(Record):
    items: list[str] = []
    table: dict[str, int] = {}


def test_a_plain_list_or_table_default_is_each_records_own():
    first, second = Shared(), Shared()
    first.items.append("x")
    first.table["x"] = 1
    assert second.items == [] and second.table == {} and Shared().items == []


@pytest.mark.parametrize("pattern", [r"^a$|^b$", r"^(a$|b$)", r"^a\\$", r"^[$]a$", r"^[]$]a$"])
def test_an_anchoring_dollar_anywhere_in_a_pattern_refuses_a_trailing_newline(pattern):
    class Patterned(Record):
        value: str = Field("", pattern=pattern)

    accepted = "a\\" if pattern.endswith(r"\\$") else ("$a" if "[" in pattern else "a")
    assert Patterned.model_validate({"value": accepted}).value == accepted
    with pytest.raises(ValidationError, match="should match pattern"):
        Patterned.model_validate({"value": accepted + "\n"})


def test_a_value_that_cannot_be_shown_still_gives_a_validation_error():
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"name": "a", "inner": {"count": 10 ** 5000}})  # no text past 4300 digits
    assert "cannot be shown" in str(caught.value)
    assert caught.value.errors()[0]["msg"] == "Input should be less than or equal to 10"


def test_text_with_a_lone_surrogate_is_no_text():
    assert problems({"name": "a\ud800"}) == [(("name",), "Input should be a valid string")]
    assert problems({"name": "a", "path": "/x", "secret": "\udcff"}) == [
        (("secret",), "Input should be a valid string")]


def test_the_message_of_an_error_stays_short_however_long_the_key():
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate({"name": "a", "k" * 1_000_000: 1})
    assert len(str(caught.value)) < 1000 and caught.value.errors()[0]["loc"] == ("k" * 1_000_000,)
