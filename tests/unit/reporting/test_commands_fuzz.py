"""Property-based fuzz of the command gate: whatever arrives, it answers with a decision and a reason."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.reporting.commands import COMMAND_ARGS, CommandGate

DEVICE = "edge/v1/gw-1"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
command_names = st.sampled_from([*COMMAND_ARGS, "reboot", "", "PING", "ping/extra", "#"])


def gate() -> CommandGate:
    return CommandGate(DEVICE, list(COMMAND_ARGS))


@settings(max_examples=400, deadline=None)
@given(name=command_names, payload=st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_and_are_rejected_with_a_reason(name, payload):
    decision = gate().check(f"{DEVICE}/cmd/{name}", payload, now_wall=1_700_000_000.0)
    assert decision.reason
    if decision.accepted:  # only possible when the bytes happen to form a valid request
        request = json.loads(payload)
        assert isinstance(request, dict) and name in COMMAND_ARGS


@settings(max_examples=400, deadline=None)
@given(name=command_names, request=st.dictionaries(st.sampled_from(["request_id", "args", "expires_ts", "x"]),
                                                    json_values, max_size=4))
def test_arbitrary_json_objects_get_a_decision_that_names_the_problem(name, request):
    payload = json.dumps(request).encode()
    decision = gate().check(f"{DEVICE}/cmd/{name}", payload, now_wall=1_700_000_000.0)
    assert decision.reason
    if decision.accepted:
        assert name in COMMAND_ARGS
        assert set(request) <= {"request_id", "args", "expires_ts"}
        assert isinstance(request["request_id"], str)
        assert request.get("expires_ts") is None or request["expires_ts"] >= 1_700_000_000.0
        COMMAND_ARGS[name].model_validate(request.get("args", {}))  # what was accepted is valid


@settings(max_examples=200, deadline=None)
@given(suffix=st.text(max_size=40))
def test_topics_outside_our_command_tree_are_rejected(suffix):
    decision = gate().check(f"edge/v1/other-gw/cmd/{suffix}", b'{"request_id": "a"}', now_wall=0.0)
    assert not decision.accepted


@settings(max_examples=200, deadline=None)
@given(depth=st.integers(0, 40_000), opener=st.sampled_from([b"[", b"{\"a\":"]),
       number=st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e400", b"9" * 5000, b"0"]))
def test_deep_nesting_and_hostile_numbers_are_rejected_with_a_reason_never_raised(depth, opener, number):
    closer = b"]" if opener == b"[" else b"}"
    args = opener * depth + number + closer * depth
    payload = b'{"request_id": "x", "expires_ts": ' + number + b', "args": ' + args + b"}"
    decision = gate().check(f"{DEVICE}/cmd/ping", payload[:70_000], now_wall=1_700_000_000.0)
    assert decision.reason
    assert not decision.accepted or number == b"0"
