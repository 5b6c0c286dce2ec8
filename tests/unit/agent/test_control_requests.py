"""Control requests without a socket: every malformed line and every handler failure becomes one error reply."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from edge_agent.agent.control_requests import (
    MAX_REQUEST_DEPTH,
    Peer,
    PeerRates,
    RequestRefused,
    RequestRouter,
    ThrottledLog,
    reply_line,
)

MEMBER = Peer(pid=4321, uid=1000, gid=1000, is_admin=False)
ADMIN = Peer(pid=1, uid=0, gid=0, is_admin=True)


def actions(args: Mapping[str, Any]) -> dict[str, Any]:
    """Reads its arguments the way the agent's `actions` handler does."""
    return {"limit": int(args.get("limit", 50))}


def broken(args: Mapping[str, Any]) -> None:
    raise RuntimeError("the audit journal vanished")


def refusing(args: Mapping[str, Any]) -> None:
    raise RequestRefused("rate limit: at most 3 per hour")


def slow(args: Mapping[str, Any]) -> None:
    raise TimeoutError


@pytest.fixture
def router() -> RequestRouter:
    return RequestRouter({"actions": actions, "broken": broken, "refusing": refusing, "slow": slow},
                         {"reload": lambda args: {"applied": True}})


def ask(router: RequestRouter, line: bytes, peer: Peer = MEMBER) -> dict[str, Any]:
    return router.answer(line, peer)


@pytest.mark.parametrize("line, named", [
    (b"status please", "not JSON"),
    (b"[" * 5000 + b"]" * 5000, "nested 5000 levels"),
    (b'{"request": "actions", "args": {"limit": NaN}}', "NaN"),
    (b'{"request": "actions", "args": {"limit": -Infinity}}', "-Infinity"),
    (b'{"request": "actions", "args": {"limit": 1e400}}', "1e400"),
    (b'{"request": "actions", "args": {"limit": ' + b"9" * 5000 + b"}}", "not JSON"),
    (b'{"request": "actions", "args": {"issue_id": "\xff\xfe"}}', "not UTF-8"),
])
def test_a_line_this_agent_does_not_accept_is_answered_with_an_error_naming_why(router, line, named):
    response = ask(router, line)
    assert response["ok"] is False
    assert response["error"].startswith("bad request")
    assert named in response["error"]


def test_a_request_naming_itself_twice_runs_neither(router):
    calls = []
    router.admin_handlers = {"reload": lambda args: calls.append(args)}
    response = ask(router, b'{"request": "actions", "request": "reload"}', ADMIN)
    assert response == {"ok": False, "error": "bad request: key 'request' appears more than once in an object"}
    assert calls == []


def test_nesting_just_within_the_limit_reaches_the_request_check(router):
    levels = MAX_REQUEST_DEPTH - 2  # inside the request object and its args object
    value = "[" * levels + "]" * levels
    response = ask(router, f'{{"request": "actions", "args": {{"x": {value}}}}}'.encode())
    assert response == {"ok": True, "result": {"limit": 50}}


@pytest.mark.parametrize("args, named", [([1], "an array"), ("limit=5", "a string"), (7, "a number")])
def test_args_that_are_not_an_object_are_refused_before_any_handler(router, args, named):
    response = ask(router, json.dumps({"request": "actions", "args": args}).encode())
    assert response == {"ok": False, "error": f'"args" must be an object, got {named}'}


@pytest.mark.parametrize("limit", [[1], {"n": 1}, "fifty", None])
def test_an_argument_of_the_wrong_type_inside_a_handler_is_bad_arguments(router, limit):
    response = ask(router, json.dumps({"request": "actions", "args": {"limit": limit}}).encode())
    assert response["ok"] is False
    assert response["error"].startswith("bad arguments: ")


def test_missing_args_mean_no_arguments(router):
    assert ask(router, b'{"request": "actions", "args": null}') == {"ok": True, "result": {"limit": 50}}


def test_an_unexpected_handler_failure_is_an_error_reply_and_one_log_line_without_traceback(router, caplog):
    with caplog.at_level(logging.DEBUG, logger="edge_agent.agent.control"):
        response = ask(router, b'{"request": "broken"}')
    assert response == {"ok": False,
                        "error": "broken failed inside the agent: RuntimeError: the audit journal vanished"}
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info is None
    assert "the audit journal vanished" in caplog.records[0].getMessage()


def test_a_handler_refusal_is_marked_refused(router):
    assert ask(router, b'{"request": "refusing"}') == {
        "ok": False, "error": "rate limit: at most 3 per hour", "refused": True}


def test_a_handler_timing_out_says_which_request(router):
    assert ask(router, b'{"request": "slow"}') == {"ok": False, "error": "the agent did not finish slow in time"}


def test_an_admin_request_from_a_member_is_refused_and_from_an_admin_answered(router):
    assert ask(router, b'{"request": "reload"}') == {
        "ok": False, "error": "permission denied: reload is for root or the admin group", "denied": True}
    assert ask(router, b'{"request": "reload"}', ADMIN) == {"ok": True, "result": {"applied": True}}


def test_an_unknown_request_name_is_quoted_bounded(router):
    response = ask(router, json.dumps({"request": "x" * 10_000}).encode())
    assert response["ok"] is False
    assert len(response["error"]) < 200


def test_a_result_that_cannot_be_encoded_becomes_an_error_line():
    looped: list[Any] = []
    looped.append(looped)
    line = reply_line({"ok": True, "result": looped})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["ok"] is False


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttled_log_keeps_a_burst_then_counts_the_rest_into_the_next_window(caplog):
    clock = FakeClock()
    note = ThrottledLog(burst=3, window_s=60.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="edge_agent.agent.control"):
        for n in range(50):
            note(logging.WARNING, "bad request %d", n)
        clock.now = 61.0
        note(logging.WARNING, "bad request %d", 50)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["bad request 0", "bad request 1", "bad request 2",
                        "bad request 50 (47 more control-socket problems not logged)"]


def test_a_flood_of_bad_requests_logs_at_most_the_burst(router, caplog):
    with caplog.at_level(logging.DEBUG, logger="edge_agent.agent.control"):
        for _ in range(500):
            ask(router, b"\x00garbage")
    assert len(caplog.records) == router.note.burst


def test_each_user_has_its_own_rate_that_refills_with_time():
    now = [0.0]
    rates = PeerRates(per_s=2.0, burst=3.0, clock=lambda: now[0])
    assert [rates.admit(1000) for _ in range(4)] == [True, True, True, False]
    assert rates.admit(1001)  # another user is not held back by the first
    now[0] += 1.0
    assert [rates.admit(1000) for _ in range(3)] == [True, True, False]


def test_users_past_the_table_size_displace_only_the_idle_ones():
    now = [0.0]
    rates = PeerRates(per_s=1.0, burst=2.0, max_users=2, clock=lambda: now[0])
    rates.admit(1), rates.admit(1), rates.admit(2)
    assert not rates.admit(1)  # user 1 spent its burst
    now[0] += 0.5
    assert rates.admit(3)  # the table is full; nobody is idle yet, so user 1's debt is kept
    assert not rates.admit(1)
    now[0] += 10
    assert rates.admit(4) and len(rates._buckets) <= 3
