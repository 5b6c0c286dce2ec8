"""Task timing on the monotonic clock: fixed rate, no burst after an overrun, capped exponential backoff."""

from __future__ import annotations

import pytest

from edge_agent.agent.schedule import Schedule


@pytest.fixture
def schedule() -> Schedule:
    s = Schedule(max_backoff_s=300.0)
    s.add("wifi", interval_s=10.0, now=0.0)
    return s


def test_new_task_is_due_at_once(schedule):
    assert [t.name for t in schedule.due(0.0)] == ["wifi"]


def test_task_is_not_due_again_before_its_interval(schedule):
    schedule.succeeded("wifi", now=0.0)
    assert schedule.due(9.9) == []
    assert [t.name for t in schedule.due(10.0)] == ["wifi"]


def test_late_run_keeps_the_fixed_rate_cadence(schedule):
    schedule.succeeded("wifi", now=0.4)
    assert schedule.tasks["wifi"].next_due == 10.0


def test_overrun_skips_missed_slots_instead_of_bursting(schedule):
    schedule.succeeded("wifi", now=35.0)
    assert schedule.due(35.0) == []
    assert 35.0 < schedule.tasks["wifi"].next_due <= 45.0


def test_consecutive_failures_back_off_exponentially(schedule):
    now, backoffs = 0.0, []
    for _ in range(4):
        backoffs.append(schedule.failed("wifi", now, "timeout"))
        now = schedule.tasks["wifi"].next_due
    assert backoffs == [10.0, 20.0, 40.0, 80.0]


def test_failed_task_is_due_again_after_its_backoff(schedule):
    backoff = schedule.failed("wifi", now=0.0, error="timeout")
    schedule.failed("wifi", now=backoff, error="timeout")
    assert schedule.due(backoff + 19.9) == []
    assert [t.name for t in schedule.due(backoff + 20.0)] == ["wifi"]


def test_backoff_is_capped_at_max_backoff():
    schedule = Schedule(max_backoff_s=60.0)
    schedule.add("probe", interval_s=10.0, now=0.0)
    backoffs = [schedule.failed("probe", float(i), "timeout") for i in range(6)]
    assert backoffs == [10.0, 20.0, 40.0, 60.0, 60.0, 60.0]


def test_backoff_is_never_shorter_than_the_interval():
    schedule = Schedule(max_backoff_s=300.0)
    schedule.add("system", interval_s=600.0, now=0.0)
    assert [schedule.failed("system", float(i), "boom") for i in range(3)] == [600.0, 600.0, 600.0]


def test_success_after_failures_resets_the_backoff(schedule):
    schedule.failed("wifi", 0.0, "timeout")
    schedule.failed("wifi", 10.0, "timeout")
    schedule.succeeded("wifi", 30.0)
    assert schedule.failed("wifi", 40.0, "timeout") == 10.0


def test_failure_records_the_error_and_counts_it(schedule):
    schedule.failed("wifi", 0.0, "RuntimeError: radio gone")
    task = schedule.tasks["wifi"]
    assert (task.last_error, task.consecutive_failures, task.total_failures, task.runs) == (
        "RuntimeError: radio gone", 1, 1, 1)


def test_success_clears_the_last_error_but_keeps_the_failure_total(schedule):
    schedule.failed("wifi", 0.0, "timeout")
    schedule.succeeded("wifi", 10.0)
    task = schedule.tasks["wifi"]
    assert (task.last_error, task.consecutive_failures, task.total_failures) == (None, 0, 1)


def test_due_lists_the_most_overdue_task_first():
    schedule = Schedule()
    schedule.add("late", interval_s=5.0, now=3.0)
    schedule.add("later", interval_s=5.0, now=4.0)
    schedule.add("earliest", interval_s=5.0, now=1.0)
    assert [t.name for t in schedule.due(10.0)] == ["earliest", "late", "later"]


def test_next_due_is_the_earliest_task_or_none_without_tasks():
    schedule = Schedule()
    assert schedule.next_due() is None
    schedule.add("a", interval_s=5.0, now=7.0)
    schedule.add("b", interval_s=5.0, now=2.0)
    assert schedule.next_due() == 2.0


def test_task_report_shows_no_age_before_the_first_run(schedule):
    assert schedule.tasks["wifi"].to_dict(now=3.0)["last_run_age_s"] is None


def test_task_report_never_shows_a_negative_time_to_next_run(schedule):
    assert schedule.tasks["wifi"].to_dict(now=50.0)["next_in_s"] == 0.0
