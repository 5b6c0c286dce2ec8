"""The MQTT thread's side of commands: it never raises, never runs a retained command, never replies outside
`res/`, and a flood neither runs nor answers more than its budgets."""

from __future__ import annotations

import json

import pytest

from edge_agent.reporting.command_intake import CommandIntake, ReplyTarget
from edge_agent.reporting.command_throttle import CommandThrottle, Rate
from edge_agent.reporting.commands import COMMAND_ARGS, CommandGate

DEVICE = "edge/v1/gw-1"


class RecordingReplier:
    def __init__(self, fail: Exception | None = None):
        self.replies: list[tuple[ReplyTarget, str, str]] = []
        self.fail = fail

    def reply(self, target, state, reason, result=None):
        if self.fail is not None:
            raise self.fail
        self.replies.append((target, state, reason))


class Clock:
    def __init__(self):
        self.mono = 0.0

    def wall(self) -> float:
        return 1_700_000_000.0 + self.mono


def make(replier=None, throttle=None, execute=None):
    clock = Clock()
    executed: list[str] = []
    intake = CommandIntake(
        CommandGate(DEVICE, list(COMMAND_ARGS)), replier or RecordingReplier(),
        execute or (lambda decision, target, done: executed.append(decision.request_id)),
        clock.wall, lambda: clock.mono, throttle,
    )
    return intake, executed, clock


def ping(request_id: str) -> bytes:
    return json.dumps({"request_id": request_id}).encode()


def test_a_retained_command_is_ignored_without_running_or_replying():
    intake, executed, _ = make()
    intake.handle(f"{DEVICE}/cmd/ping", ping("old"), None, None, retained=True)
    assert executed == [] and intake.replier.replies == [] and intake.ignored_retained == 1


def test_a_deeply_nested_command_is_rejected_with_a_reason_and_the_next_one_runs():
    intake, executed, _ = make()
    deep = b'{"request_id":"d","args":{"a":' + b"[" * 32_000 + b"]" * 32_000 + b"}}"
    intake.handle(f"{DEVICE}/cmd/ping", deep, None, None)
    intake.handle(f"{DEVICE}/cmd/ping", ping("after"), None, None)
    (_, state, reason), (_, accepted, _) = intake.replier.replies
    assert state == "rejected" and "nested" in reason
    assert accepted == "accepted" and executed == ["after"]


@pytest.mark.parametrize("response_topic", [
    f"{DEVICE}/status", f"{DEVICE}/event/issue", f"{DEVICE}/meta", f"{DEVICE}/res/", f"{DEVICE}/res/#",
    f"{DEVICE}/res/a+b", f"{DEVICE}/res/x\x00y", f"{DEVICE}/res//x", "edge/v1/other/res/x",
    f"{DEVICE}/res/" + "x" * 300,
])
def test_a_response_topic_outside_our_res_tree_is_replaced_by_the_default(response_topic):
    intake, _, _ = make()
    intake.handle(f"{DEVICE}/cmd/ping", ping("r-1"), response_topic, None)
    assert {target.topic for target, _, _ in intake.replier.replies} == {"res/r-1"}


def test_a_response_topic_under_res_is_honoured_and_correlation_is_bounded():
    intake, _, _ = make()
    intake.handle(f"{DEVICE}/cmd/ping", ping("r-2"), f"{DEVICE}/res/inbox/7", b"c" * 10_000)
    target = intake.replier.replies[0][0]
    assert target.topic == "res/inbox/7" and len(target.correlation) == 256


def test_an_exception_while_replying_is_contained_and_counted():
    intake, executed, _ = make(replier=RecordingReplier(fail=OSError(28, "No space left on device")))
    intake.handle(f"{DEVICE}/cmd/ping", ping("r-3"), None, None)  # must not raise into paho's thread
    intake.handle(f"{DEVICE}/cmd/ping", b"{bad", None, None)
    assert intake.failures == 2 and executed == []


def test_a_failed_hand_over_frees_the_single_flight_slot():
    def refuse(decision, target, done):
        raise RuntimeError("can't start new thread")

    intake, _, _ = make(execute=refuse)
    intake.handle(f"{DEVICE}/cmd/diagnose", ping("d-1"), None, None)
    assert intake.failures == 1
    assert intake.throttle.admit("diagnose", 100.0) is None  # not wedged "already queued" for ever


def test_a_flood_runs_a_bounded_number_and_answers_a_bounded_number():
    throttle = CommandThrottle(0.0, overall=Rate(5, 20), per_command={"ping": Rate(2, 10)},
                               rejection_replies=Rate(2, 20))
    intake, executed, clock = make(throttle=throttle)
    for n in range(10_000):
        clock.mono = n / 1000  # 10,000 pings in 10 s
        intake.handle(f"{DEVICE}/cmd/ping", ping(f"f-{n}"), None, None)
    assert len(executed) <= 10 + 2 * 10 + 1
    assert len(intake.replier.replies) <= 2 * (10 + 2 * 10 + 1) + 20 + 2 * 10 + 1
    assert intake.rejected + intake.accepted == 10_000


def test_a_second_diagnose_while_one_is_queued_is_rejected_until_the_first_answers():
    done_callbacks = []
    intake, _, _ = make(execute=lambda decision, target, done: done_callbacks.append(done))
    intake.handle(f"{DEVICE}/cmd/diagnose", ping("d-1"), None, None)
    intake.handle(f"{DEVICE}/cmd/diagnose", ping("d-2"), None, None)
    assert [state for _, state, _ in intake.replier.replies] == ["accepted", "rejected"]
    done_callbacks[0]()
    intake.handle(f"{DEVICE}/cmd/diagnose", ping("d-3"), None, None)
    assert intake.replier.replies[-1][1] == "accepted"
