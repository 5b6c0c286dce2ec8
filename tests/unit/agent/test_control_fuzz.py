"""Hostile bytes through a real control socket: every request line gets exactly one JSON reply, the server stays up."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edge_agent.agent.control import request

from ..support import serving, short_socket_dir


def actions(args: Mapping[str, Any]) -> dict[str, Any]:
    """Reads its arguments the way the agent's handlers do, trusting their types."""
    return {"limit": int(args.get("limit", 50)), "issue": args.get("issue_id", "").upper()}


HANDLERS = {"status": lambda args: {"device_id": "gw-7"}, "echo": lambda args: dict(args), "actions": actions}


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[Path]:
    with short_socket_dir() as socket_dir, serving(socket_dir / "ctl.sock", HANDLERS) as control:
        yield control.path


def exchange(path: Path, payload: bytes) -> bytes:
    """Send the payload, say we are done sending, and read everything the server sends back until it closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(10)
        client.connect(str(path))
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    return received


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=16,
)
request_name = st.sampled_from(["status", "echo", "actions", "reload"]) | st.text(max_size=12)
arg_values = st.dictionaries(st.sampled_from(["limit", "issue_id", "all", "x"]), json_value, max_size=3)


def as_line(name: Any, args: Any) -> bytes:
    return json.dumps({"request": name, "args": args}).encode()  # NaN and Infinity go out as bare words


def args_line(raw_value: bytes) -> bytes:
    return b'{"request": "actions", "args": {"limit": ' + raw_value + b"}}"


payloads = st.one_of(
    st.binary(max_size=300),
    st.builds(as_line, request_name | json_value, arg_values | json_value),
    st.integers(1, 40_000).map(lambda n: b'{"request": "status", "args": ' + b"[" * n + b"]" * n + b"}"),
    st.sampled_from([b"1e400", b"-1e400", b"NaN", b"Infinity", b"9" * 5000, b"1e308", b"-0", b'"7"']).map(args_line),
    st.binary(min_size=1, max_size=12).map(lambda raw: b'{"request": "echo", "args": {"x": "' + raw + b'"}}'),
)


@pytest.mark.timeout(180)
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=payloads, newline=st.booleans())
def test_every_request_line_gets_exactly_one_json_reply_and_the_server_keeps_serving(fuzzed_server, payload, newline):
    assume(payload or newline)  # nothing at all is a liveness probe: it gets no answer
    reply = exchange(fuzzed_server, payload + (b"\n" if newline else b""))  # without one, the end of input ends it
    assert reply.endswith(b"\n") and reply.count(b"\n") == 1, reply[:200]
    response = json.loads(reply)
    assert isinstance(response, dict) and isinstance(response["ok"], bool)
    if not response["ok"]:
        assert isinstance(response["error"], str) and response["error"]
    assert request(fuzzed_server, "status") == {"device_id": "gw-7"}
