"""Command admission: per-command and overall token buckets, one diagnose at a time, a budget for refusals."""

from __future__ import annotations

from edge_agent.reporting.command_throttle import CommandThrottle, Rate


def test_a_flood_of_pings_is_admitted_only_at_the_configured_rate():
    throttle = CommandThrottle(0.0, overall=Rate(100, 100), per_command={"ping": Rate(2.0, 10.0)})
    admitted = sum(throttle.admit("ping", now=i / 1000) is None for i in range(10_000))  # 10,000 in 10 s
    assert 10 <= admitted <= 10 + 2 * 10 + 1
    assert throttle.throttled == 10_000 - admitted


def test_the_overall_bucket_limits_a_mix_of_commands():
    throttle = CommandThrottle(0.0, overall=Rate(1.0, 3.0), per_command={})
    results = [throttle.admit(name, 0.0) for name in ("ping", "get_issues", "set_log_level", "ping")]
    assert results[:3] == [None, None, None]
    assert results[3] is not None and "commands per second" in results[3]


def test_a_refusal_says_when_to_retry():
    throttle = CommandThrottle(0.0, overall=Rate(100, 100), per_command={"remediate": Rate(0.1, 1.0)})
    assert throttle.admit("remediate", 0.0) is None
    reason = throttle.admit("remediate", 1.0)
    assert reason is not None and "retry in 9 s" in reason


def test_only_one_diagnose_is_queued_or_running_at_a_time():
    throttle = CommandThrottle(0.0, overall=Rate(100, 100), per_command={"diagnose": Rate(100, 100)})
    assert throttle.admit("diagnose", 0.0) is None
    busy = throttle.admit("diagnose", 0.1)
    assert busy is not None and "already queued or running" in busy
    throttle.finished("diagnose")
    assert throttle.admit("diagnose", 0.2) is None


def test_refusals_are_answered_within_a_budget_and_the_rest_counted():
    throttle = CommandThrottle(0.0, rejection_replies=Rate(2.0, 20.0))
    answered = sum(throttle.may_reply_rejection(i / 1000) for i in range(10_000))
    assert answered <= 20 + 2 * 10 + 1 and throttle.replies_suppressed == 10_000 - answered
