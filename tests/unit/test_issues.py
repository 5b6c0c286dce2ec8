"""Issue lifecycle: hysteresis on open and resolve, severity updates, counters and bounded history."""

from __future__ import annotations

import pytest

from edge_agent.issues import IssueTracker
from edge_agent.model import Event, Finding, Severity

EVIDENCE = {"busy_ratio": 0.8, "limit": 0.6, "channel": 6}


def finding(present: bool, subject: str = "wlan0", severity: Severity = Severity.WARNING, **evidence) -> Finding:
    return Finding(
        type="wifi_interference",
        subject=subject,
        present=present,
        severity=severity,
        detector="rules.wifi",
        summary="busy_ratio on wlan0 is 0.8, limit 0.6" if present else "",
        evidence=evidence or EVIDENCE,
    )


class Feed:
    """Feeds findings to a tracker one second apart, like a collector would."""

    def __init__(self, tracker: IssueTracker):
        self.tracker = tracker
        self.mono = 0.0

    def __call__(self, pattern: str, subject: str = "wlan0") -> list[Event]:
        """'B' a bad sample, 'G' a good one; returns every event the pattern produced."""
        events = []
        for mark in pattern:
            self.mono += 1.0
            events += self.tracker.observe(finding(mark == "B", subject), self.mono, 1_700_000_000 + self.mono)
        return events


@pytest.fixture
def tracker() -> IssueTracker:
    return IssueTracker(open_after=3, resolve_after=2, history_size=10)


@pytest.fixture
def feed(tracker: IssueTracker) -> Feed:
    return Feed(tracker)


def changes(events: list[Event]) -> list[str]:
    return [e.change for e in events]


def test_issue_does_not_open_before_open_after_bad_samples(tracker, feed):
    assert feed("BB") == []
    assert tracker.active() == []


def test_issue_opens_on_the_open_after_th_bad_sample_in_a_row(tracker, feed):
    feed("BB")
    assert changes(feed("B")) == ["opened"]
    assert [i.subject for i in tracker.active()] == ["wlan0"]


def test_opened_event_carries_the_issue_with_guidance_filled_from_evidence(feed):
    [opened] = feed("BBB")
    assert opened.body["state"] == "open"
    assert opened.body["type"] == "wifi_interference"
    assert "Channel 6 on wlan0 is busy 80%" in opened.body["guidance"]


def test_interrupted_bad_streak_does_not_open_an_issue(tracker, feed):
    assert feed("BBGBB") == []
    assert tracker.active() == []


def test_bad_streak_counts_again_from_the_interruption(feed):
    assert changes(feed("BBGBBB")) == ["opened"]


def test_flaps_prevented_counts_bad_streaks_that_ended_before_opening(tracker, feed):
    feed("BGBBGGB")
    assert tracker.counters.flaps_prevented == 2
    assert tracker.counters.detected == 0


def test_good_samples_alone_are_not_counted_as_flaps(tracker, feed):
    feed("GGGG")
    assert tracker.counters.flaps_prevented == 0


def test_issue_does_not_resolve_before_resolve_after_good_samples(tracker, feed):
    feed("BBB")
    assert feed("G") == []
    assert len(tracker.active()) == 1


def test_issue_resolves_on_the_resolve_after_th_good_sample_in_a_row(tracker, feed):
    feed("BBBG")
    assert changes(feed("G")) == ["resolved"]
    assert tracker.active() == []


def test_bad_sample_during_recovery_restarts_the_good_count(tracker, feed):
    feed("BBB")
    assert feed("GBG") == []
    assert len(tracker.active()) == 1


def test_recovery_of_an_open_issue_is_counted_as_resolved_not_as_a_flap(tracker, feed):
    feed("BBBGG")
    assert tracker.counters.resolved == 1
    assert tracker.counters.flaps_prevented == 0


def test_issue_keeps_its_id_from_open_to_resolve(feed):
    [opened] = feed("BBB")
    [resolved] = feed("GG")
    assert resolved.body["issue_id"] == opened.body["issue_id"]


def test_an_issue_that_comes_back_after_resolving_is_a_new_issue(feed):
    [first] = feed("BBB")
    feed("GG")
    [second] = feed("BBB")
    assert second.body["issue_id"] != first.body["issue_id"]


def test_severity_change_of_an_open_issue_gives_an_updated_event(tracker, feed):
    feed("BBB")
    events = tracker.observe(finding(True, severity=Severity.CRITICAL), 10.0, 1_700_000_010.0)
    assert changes(events) == ["updated"]
    assert events[0].body["severity"] == "critical"
    assert events[0].body["transitions"][-1]["reason"] == "severity now critical"


def test_more_bad_samples_of_the_same_severity_give_no_event(feed):
    feed("BBB")
    assert feed("BBBB") == []


def test_open_issue_shows_the_evidence_of_the_latest_bad_sample(tracker, feed):
    feed("BBB")
    tracker.observe(finding(True, busy_ratio=0.93, limit=0.6, channel=6), 10.0, 1_700_000_010.0)
    assert tracker.active()[0].evidence["busy_ratio"] == 0.93


def test_issues_are_kept_apart_per_subject(tracker, feed):
    feed("BBB", subject="wlan0")
    feed("BB", subject="wlan1")
    assert [i.subject for i in tracker.active()] == ["wlan0"]


def test_resolved_issue_stays_in_the_snapshot_as_resolved(tracker, feed):
    feed("BBBGG")
    [issue] = tracker.snapshot()
    assert issue["state"] == "resolved"
    assert issue["resolved_ts"] is not None
    assert [t["state"] for t in issue["transitions"]] == ["open", "resolved"]


def test_snapshot_keeps_only_history_size_resolved_issues_newest_last():
    tracker = IssueTracker(open_after=1, resolve_after=1, history_size=2)
    feed = Feed(tracker)
    for subject in ("wlan0", "wlan1", "wlan2"):
        feed("BG", subject=subject)
    assert [i["subject"] for i in tracker.snapshot()] == ["wlan1", "wlan2"]


def test_history_size_does_not_limit_active_issues():
    tracker = IssueTracker(open_after=1, resolve_after=1, history_size=1)
    feed = Feed(tracker)
    for subject in ("wlan0", "wlan1", "wlan2"):
        feed("B", subject=subject)
    assert len(tracker.snapshot()) == 3


def test_snapshot_lists_active_and_resolved_issues_oldest_first(tracker, feed):
    feed("BBB", subject="wlan0")
    feed("BBB", subject="wlan1")
    feed("GG", subject="wlan0")
    assert [(i["subject"], i["state"]) for i in tracker.snapshot()] == [("wlan0", "resolved"), ("wlan1", "open")]


def test_counters_count_detected_and_resolved_issues(tracker, feed):
    feed("BBBGG", subject="wlan0")
    feed("BBB", subject="wlan1")
    assert tracker.counters.to_dict() == {"detected": 2, "resolved": 1, "flaps_prevented": 0}


@pytest.mark.parametrize("open_after, resolve_after", [(0, 3), (3, 0)])
def test_hysteresis_below_one_sample_is_refused(open_after, resolve_after):
    with pytest.raises(ValueError):
        IssueTracker(open_after=open_after, resolve_after=resolve_after)
