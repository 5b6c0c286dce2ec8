"""Answers that come after the probe stopped waiting. Uplink attempts that connect after their round's timeout: a
slow path is uplink_slow, a lost SYN answered on its resend is a lossy line, and neither is an outage (a round
reports its own attempt, and how the previous round's timed-out attempt ended: late_connect_ms, late_rtt_ms).
Gateway echoes answered after the timeout (late_replies, in the next round's sample) are slow, not lost."""

from __future__ import annotations

import random

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules
from edge_agent.detectors.estimators import ReachRecord, z_for
from edge_agent.detectors.gateway_quality import GatewayQuality
from edge_agent.issues import IssueTracker
from edge_agent.model import Sample

Z = z_for(0.95)
ON_TIME, SLOW, RESENT, DEAD = "on time", "slow", "resent", "dead"


def samples(attempts: list[str], slow_ms: float = 1080.0) -> list[Sample]:
    """One sample a round: ON_TIME connected within the timeout; SLOW connects late at the path's pace; RESENT
    connects late after a lost SYN was resent (1 s later, on a fast path); DEAD never connects."""
    out = []
    for i, attempt in enumerate(attempts):
        ok = attempt == ON_TIME
        metrics = {"ok": ok, "connect_ms": 20.0 if ok else None, "error": None if ok else "timeout"}
        previous = attempts[i - 1] if i else ON_TIME
        if previous == SLOW:
            metrics |= {"late_connect_ms": slow_ms, "late_rtt_ms": slow_ms - 10}
        elif previous == RESENT:
            metrics |= {"late_connect_ms": 1015.0, "late_rtt_ms": 14.0}
        out.append(Sample("connectivity.uplink", "broker:8883", metrics, float(i), 1_700_000_000.0 + i))
    return out


def opened(attempts: list[str], **kwargs) -> list[tuple[str, float]]:
    """(type, when) of every issue opened, through the rules and the shipped hysteresis."""
    rules, tracker = ConnectivityRules(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
    events = []
    for sample in samples(attempts, **kwargs):
        for finding in rules.evaluate(sample):
            events += tracker.observe(finding, sample.mono, sample.ts)
    return [(e.body["type"], e.mono) for e in events if e.change == "opened"]


def syn_loss(rate: float, rounds: int, rng: random.Random) -> list[str]:
    """Each SYN lost with `rate`; a lost one is resent once within the attempt's late allowance."""
    return [ON_TIME if rng.random() >= rate else RESENT if rng.random() >= rate else DEAD for _ in range(rounds)]


def test_a_path_slower_than_the_probe_timeout_is_uplink_slow_and_never_down():
    events = opened([ON_TIME] * 30 + [SLOW] * 60 + [ON_TIME] * 20)
    assert [t for t, _ in events] == ["uplink_slow"], events
    assert events[0][1] <= 30 + 4


def test_the_slow_finding_carries_the_late_connection_time():
    rules = ConnectivityRules(ConnectivityThresholds())
    *_, last = [rules.evaluate(s) for s in samples([ON_TIME] * 5 + [SLOW] * 3)]
    slow = next(f for f in last if f.type == "uplink_slow")
    assert slow.present and slow.evidence["connect_ms"] == 1080.0 and "1080 ms" in slow.summary
    assert not next(f for f in last if f.type == "uplink_down").present


def test_a_late_connection_within_the_limit_is_not_slow():
    events = opened([ON_TIME] * 30 + [SLOW] * 30, slow_ms=900.0)  # a probe timeout below the shipped limit
    assert events == []


def test_an_outage_after_a_slow_spell_is_down_one_round_later_than_from_a_clean_spell():
    events = opened([ON_TIME] * 30 + [SLOW] * 30 + [DEAD] * 30)
    assert [t for t, _ in events] == ["uplink_slow", "uplink_down"], events
    assert events[1][1] <= 60 + 3  # the third unanswered attempt is seen at 62, one round after its timeout


def test_lost_syns_answered_on_their_resend_are_an_unreliable_line_not_a_slow_one():
    rng = random.Random(3)
    events = opened([ON_TIME] * 30 + [ON_TIME if rng.random() > 0.5 else RESENT for _ in range(100)])
    assert [t for t, _ in events] == ["uplink_unreliable"], events


def test_a_connection_made_in_time_on_a_resent_syn_is_a_lost_packet_not_a_slow_path():
    """A probe that waits long enough (or is read late) sees the resent SYN connect in about 1 s: that is loss."""
    rules, tracker = ConnectivityRules(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
    rng, events = random.Random(5), []
    for i in range(150):
        resent = 30 <= i < 130 and rng.random() < 0.5
        metrics = {"ok": True, "connect_ms": 1006.0 if resent else 3.0, "rtt_ms": 2.5, "error": None}
        sample = Sample("connectivity.uplink", "broker:8883", metrics, float(i), 1_700_000_000.0 + i)
        for finding in rules.evaluate(sample):
            events += tracker.observe(finding, sample.mono, sample.ts)
    assert [e.body["type"] for e in events if e.change == "opened"] == ["uplink_unreliable"]


def test_a_slow_path_seen_in_time_is_judged_by_its_connection_time():
    rules = ConnectivityRules(ConnectivityThresholds(uplink_connect_ms_max=300.0))
    metrics = {"ok": True, "connect_ms": 420.0, "rtt_ms": 415.0, "error": None}
    findings = rules.evaluate(Sample("connectivity.uplink", "b:1", metrics, 0.0, 0.0))
    [slow] = [f for f in findings if f.type == "uplink_slow"]
    assert slow.present and slow.evidence == {"connect_ms": 420.0, "limit": 300.0, "late": False}


def test_heavy_syn_loss_rarely_opens_an_outage_at_its_onset():
    """At 40 % loss the first attempts fail three in a row after a clean spell 6 % of the time per start; most
    of those failures are answered on the SYN's resend, which says the endpoint is there. Without the late
    answers (the same draws, reported as plain timeouts) the onset outage comes several times as often."""
    runs = 200
    with_late = without = 0
    for seed in range(runs):
        attempts = [ON_TIME] * 30 + syn_loss(0.4, 60, random.Random(seed))
        with_late += any(t == "uplink_down" for t, _ in opened(attempts))
        plain = [DEAD if a == RESENT else a for a in attempts]
        without += any(t == "uplink_down" for t, _ in opened(plain))
    assert with_late / runs < 0.06, with_late
    assert without >= 3 * max(with_late, 1), (with_late, without)


def test_a_slow_late_answer_turns_the_failure_into_a_success_and_ends_the_run():
    record = ReachRecord(40, 20, 10)
    for _ in range(20):
        record.add(True, 0.1, Z)
    record.add(False, 0.1, Z)
    record.answered_late(failed_all_the_same=False)
    verdict = record.add(False, 0.1, Z)
    # 21 successes, and a new run after a clean spell: an outage's start, not yet in the failure rate
    assert (verdict.failed, verdict.attempts, verdict.run, verdict.down) == (0, 21, 1, True)


def test_a_resent_syn_leaves_a_failure_that_makes_later_runs_scattered_not_outages():
    record = ReachRecord(40, 20, 10)
    for _ in range(20):
        record.add(True, 0.1, Z)
    for _ in range(2):
        record.add(False, 0.1, Z)
        record.answered_late(failed_all_the_same=True)
    verdicts = [record.add(False, 0.1, Z) for _ in range(3)]
    assert not any(v.down for v in verdicts)  # failures were scattered before this run began
    assert verdicts[-1].failed == 5


def gateway_rounds(rounds: int, late_counted: bool) -> list[tuple[str, float]]:
    """A gateway answering at the probe's timeout: of each burst of 5, three replies come in time (just under the
    timeout) and two just after it, seen in the next round (late_replies) when `late_counted`."""
    quality, tracker = GatewayQuality(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
    events = []
    for i in range(rounds):
        metrics = {"sent": 5, "received": 5, "rtt_ms": 2.0, "jitter_ms": 0.3}
        if i >= 30:  # the fault
            metrics |= {"received": 3, "rtt_ms": 960.0, "jitter_ms": 20.0}
            if i > 30 and late_counted:
                metrics["late_replies"] = 2
        sample = Sample("connectivity.gateway", "10.0.0.1", metrics, float(i), 1_700_000_000.0 + i)
        for finding in quality.evaluate(sample):
            events += tracker.observe(finding, sample.mono, sample.ts)
    return [(e.body["type"], e.mono) for e in events if e.change == "opened"]


def test_a_gateway_answering_at_the_probe_timeout_is_one_latency_issue_not_also_loss():
    assert [t for t, _ in gateway_rounds(90, late_counted=True)] == ["gateway_high_latency"]
    # the same echoes with their late replies left uncounted read as 40 % loss besides
    assert {t for t, _ in gateway_rounds(90, late_counted=False)} == {"gateway_high_latency", "gateway_packet_loss"}


def test_late_replies_never_make_a_round_better_than_all_answered():
    quality = GatewayQuality(ConnectivityThresholds())
    for i, metrics in enumerate([{"sent": 5, "received": 1}, {"sent": 5, "received": 5, "late_replies": 10**9}]):
        quality.evaluate(Sample("connectivity.gateway", "10.0.0.1", {**metrics, "rtt_ms": 5.0}, float(i), float(i)))
    assert quality._state["10.0.0.1"].window.counts() == (0, 10)


def gateway_sample(i: int, received: int, **extra) -> Sample:
    metrics = {"sent": 5, "received": received, "rtt_ms": 1.0 if received else None, "mac": "02:00:00:00:00:01",
               **extra}
    return Sample("connectivity.gateway", "10.0.0.1", metrics, float(i), 1_700_000_000.0 + i)


def unreachable_findings(samples: list[Sample]) -> list[bool | None]:
    """Per round: gateway_unreachable present, absent, or None when the round left it undecided."""
    rules = ConnectivityRules(ConnectivityThresholds())
    out = []
    for sample in samples:
        found = [f.present for f in rules.evaluate(sample) if f.type == "gateway_unreachable"]
        out.append(found[0] if found else None)
    return out


def test_a_gateway_silent_to_pings_while_connections_go_through_it_is_not_unreachable():
    assert unreachable_findings([gateway_sample(i, 0, forwarded=1) for i in range(5)]) == [False] * 5
    # also when it used to answer: forwarding is the proof
    assert unreachable_findings([gateway_sample(0, 5), gateway_sample(1, 0, forwarded=2)]) == [False, False]


def test_a_gateway_seen_forwarding_that_never_answered_a_ping_is_left_undecided_when_nothing_gets_through():
    rounds = [gateway_sample(0, 0, forwarded=1), gateway_sample(1, 0), gateway_sample(2, 0)]
    assert unreachable_findings(rounds) == [False, None, None]  # its pings say nothing; DNS and uplink tell
    # with no such history (a diagnosis, or a gateway silent since the start) silence is unreachable
    assert unreachable_findings([gateway_sample(i, 0) for i in range(3)]) == [True] * 3


def test_a_gateway_that_answered_before_and_now_passes_nothing_is_unreachable():
    assert unreachable_findings([gateway_sample(0, 5), gateway_sample(1, 0), gateway_sample(2, 0)]) == \
        [False, True, True]
    # without ARP's answer (mac) silence is unreachable from the first round, as before
    silent = Sample("connectivity.gateway", "10.0.0.1", {"sent": 5, "received": 0}, 0.0, 1.0)
    assert unreachable_findings([silent]) == [True]


def test_hostile_late_and_forwarding_metrics_are_ignored_not_trusted():
    """A replayed or broken sample: text, NaN, infinity, true, a number past a float's range."""
    rules = ConnectivityRules(ConnectivityThresholds())
    for bad in ("1080", float("nan"), float("inf"), True, 10**400, None, [1]):
        metrics = {"ok": False, "connect_ms": None, "error": "timeout", "late_connect_ms": bad, "late_rtt_ms": bad}
        findings = rules.evaluate(Sample("connectivity.uplink", "b:1", metrics, 0.0, 0.0))
        assert not [f for f in findings if f.type == "uplink_slow"], bad  # no late answer was read
        silent = gateway_sample(0, 0, forwarded=bad)
        assert unreachable_findings([silent]) == [True], bad  # no forwarding was read
