"""Members of known fault classes that the first tests did not cover (scripts/bench_fault_variants.py found them):
an uplink that fails on and off is unreliable, not down; a gateway whose replies come after the probe's timeout
is slow, not unreachable."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from edge_agent.collectors.connectivity import GatewayProbe
from edge_agent.config import ConnectivityCollectorConfig, ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules
from edge_agent.detectors.dns_verdict import LIES, AnswerMemory
from edge_agent.detectors.estimators import ReachRecord, z_for
from edge_agent.detectors.gateway_quality import GatewayQuality
from edge_agent.issues import IssueTracker
from edge_agent.model import Sample
from edge_agent.probes import icmp
from edge_agent.probes.icmp import IcmpProber
from edge_agent.probes.network import NetworkProbes
from edge_agent.probes.wire import ICMP_ECHO_REPLY

Z = z_for(0.95)


def uplink(ok: bool, mono: float) -> Sample:
    metrics = {"ok": ok, "connect_ms": 20.0 if ok else None, "error": None if ok else "timeout"}
    return Sample("connectivity.uplink", "broker:8883", metrics, mono, 1_700_000_000.0 + mono)


def run_uplink(outcomes: list[bool]) -> list:
    """Feeds one connection attempt a second through the rules and the shipped hysteresis; every issue event."""
    rules, tracker = ConnectivityRules(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
    events = []
    for i, ok in enumerate(outcomes):
        for finding in rules.evaluate(uplink(ok, float(i))):
            events += tracker.observe(finding, float(i), 1_700_000_000.0 + i)
    return events


def lossy(rate: float, rounds: int, seed: int) -> list[bool]:
    rng = random.Random(seed)
    return [rng.random() >= rate for _ in range(rounds)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rate", [0.25, 0.4])
def test_connections_failing_on_and_off_are_one_unreliable_uplink_warning_not_an_outage(rate, seed):
    events = run_uplink([True] * 30 + lossy(rate, 120, seed) + [True] * 40)
    opened = [e.body for e in events if e.change == "opened"]
    unreliable = [o for o in opened if o["type"] == "uplink_unreliable"]
    assert [o["severity"] for o in unreliable] == ["warning"], [(e.change, e.body["type"]) for e in events]
    assert unreliable[0]["evidence"]["attempts"] >= 10
    # Its first failures, right after a clean spell, look like an outage only when three come in a row (p^2 of
    # the time): then one short uplink_down at the onset, never again once failures are known to be scattered.
    assert [o["type"] for o in opened if o["type"] != "uplink_unreliable"] in ([], ["uplink_down"])
    assert not [e for e in events if e.body["type"] == "uplink_down" and e.mono > 60]
    # Soon after the repair: the clean run that shows it is shorter the more often the line failed.
    assert events[-1].change == "resolved" and events[-1].mono <= 150 + {0.25: 35, 0.4: 25}[rate]


@pytest.mark.parametrize("rate", [0.15, 0.2])
def test_connections_failing_a_little_past_the_limit_for_four_minutes_are_one_issue_not_two(rate):
    """At 1.5 to 2 times the limit, twenty clean attempts in a row come by chance every few minutes: taken as a
    repair, they ended the issue mid-fault and it opened again (8 of these 40 episodes at 15 % did so before the
    all-clear asked for a clean run too long to be luck at the episode's own failure rate)."""
    opened_twice, never = [], []
    for seed in range(40):
        events = run_uplink([True] * 30 + lossy(rate, 240, seed) + [True] * 80)
        opened = [e.mono for e in events if e.body["type"] == "uplink_unreliable" and e.change == "opened"]
        reopened = [e for e in events if e.body["type"] == "uplink_unreliable" and e.change == "updated"]
        (never if not opened else opened_twice if len(opened) > 1 or reopened else []).append(seed)
        assert not events or events[-1].change == "resolved"
    assert len(opened_twice) <= 1, opened_twice
    assert len(never) <= 2, never


@pytest.mark.parametrize("seed", range(6))
def test_a_quarter_of_connections_failing_is_never_called_an_outage(seed):
    events = run_uplink([True] * 30 + lossy(0.25, 120, seed) + [True] * 40)
    assert "uplink_down" not in {e.body["type"] for e in events}


@pytest.mark.parametrize("rate", [0.05])
@pytest.mark.parametrize("seed", range(4))
def test_rare_failed_connections_open_nothing(rate, seed):
    assert run_uplink([True] * 30 + lossy(rate, 300, seed)) == []


def test_an_uplink_that_stops_answering_is_down_at_once_and_leaves_no_unreliable_line_behind():
    events = run_uplink([True] * 30 + [False] * 60 + [True] * 60)
    assert [(e.change, e.body["type"]) for e in events] == [("opened", "uplink_down"), ("resolved", "uplink_down")]
    assert events[0].mono == 32  # the third failed attempt
    assert events[1].mono == 92


def test_an_outage_on_a_line_that_was_already_failing_on_and_off_is_down_after_a_long_run():
    record = ReachRecord(40, 20, 10)
    for ok in [True, False, True, True, False, True, True, False, True, True] * 3:
        record.add(ok, 0.1, Z)
    verdicts = [record.add(False, 0.1, Z) for _ in range(12)]
    assert [v.down for v in verdicts].index(True) == 9  # the tenth failure in a row
    assert all(v.down for v in verdicts[9:])


def test_one_blip_after_a_clean_spell_is_not_taken_out_of_the_failure_rate():
    record = ReachRecord(40, 20, 10)
    for ok in [True] * 20 + [False, True] * 3:
        verdict = record.add(ok, 0.1, Z)
    assert verdict.failed == 3


class ScriptedWire:
    """Stands in for the raw sockets: each wait delivers the replies scripted for it, as (seq, seconds after the
    burst was sent)."""

    def __init__(self, waits: list[list[tuple[int, float]]]):
        self.waits = list(waits)
        self.timeouts: list[float] = []

    def await_icmp(self, _sock, timeout_s, take):
        self.timeouts.append(timeout_s)
        for seq, after in (self.waits.pop(0) if self.waits else []):
            message = SimpleNamespace(type=ICMP_ECHO_REPLY, ident=PROBER_IDENT, src="10.0.0.1", seq=seq)
            if take(message, 1000.0 + after):
                return


PROBER_IDENT = 4242


@pytest.fixture
def wire(monkeypatch):
    def make(waits):
        scripted = ScriptedWire(waits)
        monkeypatch.setattr(icmp, "await_icmp", scripted.await_icmp)
        monkeypatch.setattr(icmp, "drain", lambda sock: None)
        monkeypatch.setattr(icmp, "routable", lambda address: True)
        prober = IcmpProber(routes=lambda: "")
        prober._ident, prober._seq = PROBER_IDENT, 0
        monkeypatch.setattr(prober, "_socket", lambda: object())
        monkeypatch.setattr(prober, "_path", lambda sock, address: None)
        monkeypatch.setattr(prober, "_send", lambda sock, address, seq, path: 1000.0)
        return prober, scripted
    return make


def test_echoes_answered_after_half_the_timeout_get_more_time_for_the_rest_of_their_burst(wire):
    # queued read, the burst's wait (two replies at 0.95 s), the grace (three more at 1.1 s)
    prober, scripted = wire([[], [(1, 0.95), (2, 0.95)], [(3, 1.1), (4, 1.1), (5, 1.1)]])
    probe = prober.ping("10.0.0.1", 5, 1.0)
    assert (probe.sent, probe.received, probe.rtt_ms_median) == (5, 5, 1100.0)
    assert scripted.timeouts[1:] == [1.0, 0.5]


def test_replies_to_an_unanswered_burst_during_the_confirming_one_make_the_gateway_slow_not_unreachable(wire):
    prober, _ = wire([[], [], [], [(1, 1.2), (2, 1.2), (3, 1.25), (4, 1.3), (5, 1.3)]])
    network = NetworkProbes(ConnectivityCollectorConfig(dhcp_check_interval_s=0, pmtu_check_interval_s=0),
                            read=lambda path: "")
    network._icmp = prober
    first = prober.ping("10.0.0.1", 5, 1.0)
    assert first.received == 0
    confirmed = network._confirm_unreachable("10.0.0.1", first)
    assert (confirmed.sent, confirmed.received, confirmed.rtt_ms_median) == (5, 5, 1250.0)
    rules = ConnectivityRules(ConnectivityThresholds())
    [finding] = rules.evaluate(Sample("connectivity.gateway", "10.0.0.1",
                                      {"sent": confirmed.sent, "received": confirmed.received,
                                       "rtt_ms": confirmed.rtt_ms_median}, 1.0, 1.0))
    assert (finding.type, finding.present) == ("gateway_unreachable", False)


def test_every_late_reply_already_queued_when_the_next_burst_starts_is_read_not_only_the_first(wire):
    # The replies to an unanswered burst come in at its timeout: queued by the time the confirming burst reads
    # what is waiting, before it sends. All five count; the rest used to be drained as stale after the first.
    prober, _ = wire([[], [], [(seq, 1.0) for seq in range(1, 6)], []])
    network = NetworkProbes(ConnectivityCollectorConfig(dhcp_check_interval_s=0, pmtu_check_interval_s=0),
                            read=lambda path: "")
    network._icmp = prober
    confirmed = network._confirm_unreachable("10.0.0.1", prober.ping("10.0.0.1", 5, 1.0))
    assert (confirmed.sent, confirmed.received) == (5, 5)


def test_a_silent_gateway_is_still_unreachable_after_the_confirming_burst(wire):
    prober, _ = wire([])
    network = NetworkProbes(ConnectivityCollectorConfig(dhcp_check_interval_s=0, pmtu_check_interval_s=0),
                            read=lambda path: "")
    network._icmp = prober
    confirmed = network._confirm_unreachable("10.0.0.1", prober.ping("10.0.0.1", 5, 1.0))
    assert (confirmed.sent, confirmed.received) == (10, 0)
    assert confirmed == GatewayProbe("10.0.0.1", 10, 0, None, None)


def test_an_uplink_that_goes_down_again_and_again_is_down_each_time_one_intermittent_issue():
    rules = ConnectivityRules(ConnectivityThresholds())
    tracker = IssueTracker(open_after=3, resolve_after=3, hold_down_s=30)
    events = []
    outcomes = [True] * 30 + ([False] * 6 + [True] * 24) * 4 + [True] * 90
    for i, ok in enumerate(outcomes):
        for finding in rules.evaluate(uplink(ok, float(i))):
            events += tracker.observe(finding, float(i), 1_700_000_000.0 + i)
    assert {(e.body["type"], e.body["issue_id"]) for e in events} == {("uplink_down", events[0].body["issue_id"])}
    assert [e.change for e in events].count("opened") == 1
    assert events[-1].change == "resolved" and events[-1].body["evidence"]["intermittent"]["drops"] == 4


@pytest.mark.parametrize("rate, named_at_least", [(0.25, 0.7), (0.4, 0.9)])
def test_heavy_loss_is_one_issue_named_packet_loss_even_when_its_trend_shows_first(rate, named_at_least):
    """The trend (limit: normal + 5 %) often turns present a round before the absolute limit (10 %) is sure:
    the issue takes the clearer name when that comes within the rounds before it can open. Over 20 seeded
    episodes (it was 72 % at 40 % loss, 30 % at 25 %, when the first symptom named the issue for good)."""
    names = []
    for seed in range(20):
        rng = random.Random(seed)
        detector, tracker = GatewayQuality(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
        lossy_rounds = [quality_sample(5 - sum(rng.random() < rate for _ in range(5))) for _ in range(120)]
        events = []
        for i, sample in enumerate([*[quality_sample(5)] * 40, *lossy_rounds, *[quality_sample(5)] * 40]):
            for finding in detector.evaluate(sample):
                events += tracker.observe(finding, float(i), 1_700_000_000.0 + i)
        assert [e.change for e in events] == ["opened", "resolved"]  # one issue for the episode, always
        names.append(events[0].body["type"])
    assert names.count("gateway_packet_loss") >= named_at_least * len(names), names


def test_loss_at_half_the_limit_is_rarely_called_over_it():
    """5 % loss against the 10 % limit, 150 s episodes after a clean minute: the short windows tested for a quick
    onset share the error rate. Tested each at 95 % they opened gateway_packet_loss in 27 of 200 episodes."""
    wrongly_called = 0
    for seed in range(200):
        rng = random.Random(seed)
        detector, tracker = GatewayQuality(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
        rounds = [quality_sample(5)] * 60 + [quality_sample(max(1, 5 - sum(rng.random() < 0.05 for _ in range(5))))
                                             for _ in range(150)]
        events = [e for i, sample in enumerate(rounds) for finding in detector.evaluate(sample)
                  for e in tracker.observe(finding, float(i), 1_700_000_000.0 + i)]
        wrongly_called += any(e.body["type"] == "gateway_packet_loss" for e in events)
    assert wrongly_called <= 14, wrongly_called


def test_loss_hovering_at_the_limit_keeps_its_one_issue():
    """10 % loss against the 10 % limit for two minutes: once an issue is open, the all-clear needs the rate sure
    to be under three quarters of the limit. With the limit itself as the all-clear, 46 of 300 episodes cleared
    mid-fault and opened a second issue after the hold-down; now 16."""
    storms = 0
    for seed in range(300):
        rng = random.Random(seed)
        detector = GatewayQuality(ConnectivityThresholds())
        tracker = IssueTracker(open_after=3, resolve_after=3, hold_down_s=30)
        lossy = [quality_sample(max(1, 5 - sum(rng.random() < 0.1 for _ in range(5)))) for _ in range(120)]
        opened = [e for i, sample in enumerate([quality_sample(5)] * 60 + lossy + [quality_sample(5)] * 60)
                  for finding in detector.evaluate(sample)
                  for e in tracker.observe(finding, float(i), 1_700_000_000.0 + i) if e.change == "opened"]
        storms += len(opened) > 1
    assert storms <= 24, storms


def quality_sample(received: int) -> Sample:
    metrics = {"sent": 5, "received": received, "rtt_ms": 0.3 if received else None, "jitter_ms": 0.05}
    return Sample("connectivity.gateway", "10.0.0.1", metrics, 1.0, 1.0)


def dns(timed_out: bool, mono: float, latency_ms: float = 3.0) -> Sample:
    if timed_out:
        metrics = {"ok": False, "latency_ms": None, "rcode": "timeout", "name": "probe.test"}
    else:
        metrics = {"ok": True, "latency_ms": latency_ms, "rcode": "NOERROR", "answers": ["10.0.0.1"],
                   "name": "probe.test"}
    return Sample("connectivity.dns", "10.0.0.1", metrics, mono, 1_700_000_000.0 + mono)


def test_a_resolver_answering_after_the_timeout_is_one_dns_slow_warning_not_a_failure():
    # Answers take longer than the probe waits: one query times out, the next is answered at once from the
    # reply to the earlier one (a forwarding resolver joins the two), and so on.
    rules, tracker = ConnectivityRules(ConnectivityThresholds()), IssueTracker(open_after=3, resolve_after=3)
    events = []
    pattern = [False] * 30 + [True, False] * 40 + [True, True, False] * 10 + [False] * 40
    for i, timed_out in enumerate(pattern):
        for finding in rules.evaluate(dns(timed_out, float(i), latency_ms=300.0)):
            events += tracker.observe(finding, float(i), 1_700_000_000.0 + i)
    assert [(e.change, e.body["type"], e.body["severity"]) for e in events] == [
        ("opened", "dns_slow", "warning"), ("resolved", "dns_slow", "warning")]
    assert "unanswered within the probe's timeout" in events[0].body["summary"]
    assert events[1].mono - 140 <= 25  # resolved soon after the answers come in time again


def test_a_slow_answer_is_still_dns_slow_by_its_latency():
    rules = ConnectivityRules(ConnectivityThresholds())
    [slow] = [f for f in rules.evaluate(dns(False, 1.0, latency_ms=800.0)) if f.type == "dns_slow"]
    assert slow.present and slow.evidence["latency_ms"] == 800.0


def test_the_true_answer_back_after_a_lie_that_was_adopted_is_not_called_a_lie():
    memory = AnswerMemory(learn_rounds=5, adopt_after=4)
    for _ in range(10):
        assert memory.judge("probe.test", ["10.1.1.1"]).issue_type is None
    # the lie lasts: adopted after four rounds, and then held for more than the learning rounds
    assert [memory.judge("probe.test", ["10.66.6.6"]).issue_type for _ in range(12)] == [LIES] * 3 + [None] * 9
    assert [memory.judge("probe.test", ["10.1.1.1"]).issue_type for _ in range(3)] == [None, None, None]
