"""A control-socket diagnosis serves every request for a while: asking in a loop runs the probes once per while."""

from __future__ import annotations

import threading
import time

import pytest

from edge_agent.agent.recent_result import RecentResult


def test_a_request_within_the_reuse_time_gets_the_last_report_with_its_age():
    now = [100.0]
    runs = []
    recent = RecentResult(reuse_s=5.0, clock=lambda: now[0])

    def diagnose():
        runs.append(now[0])
        return {"samples": len(runs)}

    assert recent.get(diagnose, wait_s=1) == {"samples": 1}
    now[0] += 4.0
    assert recent.get(diagnose, wait_s=1) == {"samples": 1, "age_s": 4.0}
    now[0] += 1.0
    assert recent.get(diagnose, wait_s=1) == {"samples": 2}
    assert runs == [100.0, 105.0]


def test_requests_arriving_while_one_runs_wait_for_it_instead_of_running_their_own():
    recent = RecentResult(reuse_s=5.0)
    started, release = threading.Event(), threading.Event()
    runs = []

    def slow_diagnose():
        runs.append(1)
        started.set()
        release.wait(5)
        return {"samples": 1}

    first = threading.Thread(target=recent.get, args=(slow_diagnose, 5))
    first.start()
    started.wait(5)
    answers = []
    waiting = [threading.Thread(target=lambda: answers.append(recent.get(slow_diagnose, 5))) for _ in range(3)]
    for thread in waiting:
        thread.start()
    time.sleep(0.1)
    release.set()
    for thread in [first, *waiting]:
        thread.join(5)
    assert runs == [1] and len(answers) == 3 and all(a["samples"] == 1 for a in answers)


def test_a_run_that_holds_it_past_the_wait_is_a_timeout_for_the_others():
    recent = RecentResult(reuse_s=5.0)
    release = threading.Event()
    holder = threading.Thread(target=recent.get, args=(lambda: release.wait(5) and {}, 5))
    holder.start()
    time.sleep(0.05)
    try:
        with pytest.raises(TimeoutError):
            recent.get(lambda: {}, wait_s=0.05)
    finally:
        release.set()
        holder.join(5)


def test_a_failed_run_is_not_reused():
    recent = RecentResult(reuse_s=5.0)

    def broken():
        raise RuntimeError("probe failed")

    with pytest.raises(RuntimeError):
        recent.get(broken, wait_s=1)
    assert recent.get(lambda: {"samples": 3}, wait_s=1) == {"samples": 3}
