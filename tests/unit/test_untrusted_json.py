"""JSON from untrusted senders: whatever the bytes, a value or UntrustedJsonError naming the problem."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.untrusted_json import UntrustedJsonError, loads_untrusted, nesting_depth

LIMIT = 64 * 1024


def deep(levels: int) -> bytes:
    return b'{"request_id": "d", "args": {"a": ' + b"[" * levels + b"]" * levels + b"}}"


def test_a_request_nested_thirty_two_thousand_deep_is_refused_naming_the_depth():
    payload = deep(32_000)
    assert len(payload) < LIMIT
    with pytest.raises(UntrustedJsonError, match="nested 32002 levels deep; at most 8"):
        loads_untrusted(payload, LIMIT, max_depth=8)


def test_nesting_at_the_limit_is_parsed():
    assert loads_untrusted(deep(6), LIMIT, max_depth=8)["args"]["a"] == [[[[[[]]]]]]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("payload", [
    b'"' + b'\\"' * 32_000,  # a string that never closes, made of escaped quotes: 31 s of regex before
    b'{"request": "status", "args": {"x": "' + b'\\"' * 32_000,
    b'"' * 65_000,
])
def test_the_depth_scan_of_an_unterminated_string_of_escaped_quotes_is_linear(payload):
    assert nesting_depth(payload) <= 2
    with pytest.raises(UntrustedJsonError, match="not JSON"):
        loads_untrusted(payload, 100_000)


def test_brackets_after_a_string_that_never_closes_are_inside_it_for_the_parser_too():
    # Counted or not, the parser stops at the unterminated string before it could recurse into them.
    payload = b'["' + b"[" * 5000
    assert nesting_depth(payload) == 1
    with pytest.raises(UntrustedJsonError, match="Unterminated string"):
        loads_untrusted(payload, LIMIT, max_depth=4)


def test_brackets_inside_strings_do_not_count_as_nesting():
    payload = json.dumps({"text": "[[[[{{{{" * 100, "q": 'a \\" [[[ "'}).encode()
    assert nesting_depth(payload) == 1
    assert loads_untrusted(payload, LIMIT, max_depth=2)["text"].startswith("[[[[")


@pytest.mark.parametrize("payload", [b'{"x": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}'])
def test_non_finite_constants_are_refused(payload):
    with pytest.raises(UntrustedJsonError, match="is not a number this agent accepts"):
        loads_untrusted(payload, LIMIT)


def test_a_float_beyond_double_range_is_refused_not_turned_into_infinity():
    with pytest.raises(UntrustedJsonError, match="out of range"):
        loads_untrusted(b'{"limit": 1e400}', LIMIT)


def test_an_integer_longer_than_pythons_digit_limit_is_a_clear_error():
    with pytest.raises(UntrustedJsonError, match="not JSON"):
        loads_untrusted(b'{"n": ' + b"9" * 5000 + b"}", LIMIT)


@pytest.mark.parametrize("payload", [
    b'{"request": "status", "request": "reload"}',
    b'{"request": "status", "args": {"issue": "a", "issue": "b"}}',
    b'[{"x": 1}, {"y": 1, "y": 1}]',
])
def test_a_key_given_twice_is_refused_naming_it_not_resolved_to_its_last_value(payload):
    with pytest.raises(UntrustedJsonError, match="key '(request|issue|y)' appears more than once"):
        loads_untrusted(payload, LIMIT)


def test_equal_keys_in_different_objects_are_fine():
    assert loads_untrusted(b'{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}', LIMIT) == {
        "a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}


def test_non_utf8_bytes_are_refused_with_the_offset():
    with pytest.raises(UntrustedJsonError, match="not UTF-8 \\(byte 10\\)"):
        loads_untrusted(b'{"name": "\xff"}', LIMIT)


def test_oversized_payloads_are_refused_before_they_are_scanned():
    with pytest.raises(UntrustedJsonError, match="exceeds the limit of 10"):
        loads_untrusted(b"[" * 11, 10)


@settings(max_examples=500, deadline=None)
@given(payload=st.binary(max_size=400) | st.text(alphabet='[]{}",:\\0123456789eE.-+ aNInfity', max_size=400).map(
    str.encode))
def test_any_bytes_give_a_value_or_the_module_error(payload):
    try:
        loads_untrusted(payload, LIMIT, max_depth=4)
    except UntrustedJsonError as exc:
        assert str(exc)
