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


def test_an_issue_that_comes_back_after_the_hold_down_is_a_new_issue():
    feed = Feed(IssueTracker(open_after=3, resolve_after=2, hold_down_s=5))
    [first] = feed("BBB")
    feed("GG" + "G" * 5)
    [second] = feed("BBB")
    assert second.change == "opened" and second.body["issue_id"] != first.body["issue_id"]


# Flap damping


def test_a_fault_back_within_the_hold_down_reopens_the_same_issue_as_intermittent_without_a_new_opening():
    tracker = IssueTracker(open_after=1, resolve_after=2, hold_down_s=10)
    feed = Feed(tracker)
    [opened] = feed("B")
    [resolved] = feed("GG")
    [back] = feed("B")
    assert (opened.change, resolved.change, back.change) == ("opened", "resolved", "updated")
    assert back.body["issue_id"] == opened.body["issue_id"] and back.body["state"] == "open"
    assert back.body["evidence"]["intermittent"]["drops"] == 2
    assert "comes and goes" in back.body["guidance"]
    assert [i["issue_id"] for i in tracker.snapshot()] == [opened.body["issue_id"]]
    assert tracker.counters.detected == 1


def test_a_flapping_fault_is_one_issue_held_open_until_it_stays_away_for_the_hold_down():
    # Down 3 s every 20 s for two minutes (the measured storm: 6 open/resolve cycles), then repaired.
    tracker = IssueTracker(open_after=1, resolve_after=3, hold_down_s=30, hold_down_max_s=600)
    feed = Feed(tracker)
    events = feed(("BBB" + "G" * 17) * 6)
    assert changes(events) == ["opened", "resolved", "updated"]  # then held open through every later flap
    assert len(tracker.active()) == 1
    assert tracker.active()[0].evidence["intermittent"]["drops"] == 6
    repaired = feed("G" * 60)
    assert changes(repaired) == ["resolved"]
    last_bad = 5 * 20 + 3  # the sixth drop's last bad sample
    assert 34 <= repaired[0].mono - last_bad <= 36  # twice the gap between drops: bridges the next one, no more


def test_a_reopened_issue_counts_its_further_drops_without_more_events():
    tracker = IssueTracker(open_after=1, resolve_after=2, hold_down_s=10)
    feed = Feed(tracker)
    events = feed("BGGBGGBGGB")
    assert changes(events) == ["opened", "resolved", "updated"]
    assert "intermittent, 2 drops" in events[2].body["transitions"][-1]["reason"]
    assert tracker.active()[0].evidence["intermittent"]["drops"] == 4


def test_a_good_sample_too_short_to_resolve_is_not_a_drop(tracker, feed):
    feed("BBB")
    assert feed("GBBGB") == []
    assert "intermittent" not in tracker.active()[0].evidence


def test_a_clean_fault_resolves_after_resolve_after_without_any_hold_down(tracker, feed):
    feed("BBBBBBBB")
    assert changes(feed("GG")) == ["resolved"]


def test_hold_down_zero_turns_damping_off():
    feed = Feed(IssueTracker(open_after=1, resolve_after=1, hold_down_s=0))
    assert changes(feed("BGBGBG")) == ["opened", "resolved"] * 3


def test_the_hold_down_never_exceeds_its_cap():
    tracker = IssueTracker(open_after=1, resolve_after=1, hold_down_s=4, hold_down_max_s=8)
    feed = Feed(tracker)
    assert changes(feed("BGGGB" + "G" * 6 + "B")) == ["opened", "resolved", "updated"]  # gaps of 4 s and 7 s
    # twice the 7 s gap would hold 14 s: the cap holds it 8 s
    assert changes(feed("G" * 7)) == []
    assert changes(feed("G")) == ["resolved"]


def test_damping_is_per_subject():
    feed = Feed(IssueTracker(open_after=1, resolve_after=1, hold_down_s=30))
    first, _ = feed("BG", subject="wlan0")
    [other] = feed("B", subject="wlan1")
    assert other.change == "opened" and other.body["issue_id"] != first.body["issue_id"]


def test_a_bad_hold_down_is_refused():
    with pytest.raises(ValueError, match="hold_down_s"):
        IssueTracker(1, 1, hold_down_s=60, hold_down_max_s=30)


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


def test_with_flap_damping_off_a_fault_back_at_once_is_a_new_issue():
    from edge_agent.issues import IssueTracker
    from edge_agent.model import Finding, Severity

    tracker = IssueTracker(open_after=1, resolve_after=1, hold_down_s=0)

    def observe(present: bool, mono: float) -> list[str]:
        finding = Finding("dns_failure", "10.0.0.1", present, Severity.CRITICAL, "test", "", {})
        return [event.change for event in tracker.observe(finding, mono, mono)]

    assert observe(True, 0.0) == ["opened"]
    assert observe(False, 0.0) == ["resolved"]
    assert observe(True, 0.0) == ["opened"]  # hold_down_s = 0 means no damping, even with no time between
