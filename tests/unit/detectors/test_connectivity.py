"""Connectivity detectors: uplink/DHCP/probe rules and the gateway MAC watch (loss and latency:
test_gateway_quality.py)."""

from __future__ import annotations

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules, GatewayMacWatch
from edge_agent.issues import IssueTracker
from edge_agent.model import Sample

RULES = ConnectivityRules(ConnectivityThresholds())


def gateway(rtt: float, loss: float = 0.0, mac: str | None = None, received: int = 5,
            macs: list[str] | None = None) -> Sample:
    metrics = {"sent": 5, "received": received, "loss_pct": loss, "rtt_ms": rtt, "jitter_ms": 0.1, "mac": mac}
    if macs:
        metrics["macs"] = macs
    return Sample("connectivity.gateway", "10.0.0.1", metrics, 1.0, 1.0)


def present(findings, issue_type):
    return [f for f in findings if f.type == issue_type and f.present]


def test_an_unreachable_uplink_endpoint_is_uplink_down_with_the_error_as_evidence():
    [finding] = RULES.evaluate(Sample("connectivity.uplink", "broker:8883",
                                      {"ok": False, "connect_ms": None, "error": "timeout"}, 1.0, 1.0))
    assert (finding.type, finding.present, finding.evidence["error"]) == ("uplink_down", True, "timeout")
    assert finding.summary == "no TCP connection to broker:8883: timeout"


def test_a_reachable_but_slow_uplink_is_slow_and_not_down():
    findings = RULES.evaluate(Sample("connectivity.uplink", "broker:8883",
                                     {"ok": True, "connect_ms": 4000.0, "error": None}, 1.0, 1.0))
    assert {f.type: f.present for f in findings} == {"uplink_down": False, "uplink_slow": True}


def test_no_dhcp_offer_is_a_dhcp_failure():
    [finding] = RULES.evaluate(Sample("connectivity.dhcp", "eth0", {"ok": False, "error": "no offer"}, 1.0, 1.0))
    assert (finding.type, finding.present) == ("dhcp_failure", True)


def test_a_probe_that_cannot_run_is_a_finding_naming_the_probe():
    [finding] = RULES.evaluate(Sample("connectivity.probe", "icmp", {"ok": False, "error": "needs CAP_NET_RAW"},
                                      1.0, 1.0))
    assert (finding.type, finding.subject, finding.present) == ("probe_failed", "icmp", True)
    assert "CAP_NET_RAW" in finding.summary


def test_the_gateway_rules_leave_loss_latency_and_jitter_to_the_quality_detector():
    sample = Sample("connectivity.gateway", "10.0.0.1",
                    {"sent": 5, "received": 2, "loss_pct": 60.0, "rtt_ms": 500.0, "jitter_ms": 45.0}, 1.0, 1.0)
    assert {f.type: f.present for f in RULES.evaluate(sample)} == {"gateway_unreachable": False}


def test_the_first_mac_is_learned_and_a_different_one_is_flagged():
    watch = GatewayMacWatch(ConnectivityThresholds(gateway_mac_adopt_after=3))
    assert not present(watch.evaluate(gateway(2.0, mac="aa:aa:aa:aa:aa:01")), "gateway_mac_changed")
    [changed] = present(watch.evaluate(gateway(2.0, mac="bb:bb:bb:bb:bb:02")), "gateway_mac_changed")
    assert changed.evidence["known_mac"] == "aa:aa:aa:aa:aa:01" and changed.evidence["mac"] == "bb:bb:bb:bb:bb:02"


def test_a_new_mac_that_persists_is_adopted_and_stops_being_flagged():
    watch = GatewayMacWatch(ConnectivityThresholds(gateway_mac_adopt_after=3))
    watch.evaluate(gateway(2.0, mac="aa:aa:aa:aa:aa:01"))
    results = [present(watch.evaluate(gateway(2.0, mac="bb:bb:bb:bb:bb:02")), "gateway_mac_changed")
               for _ in range(4)]
    assert [bool(r) for r in results] == [True, True, False, False]
    assert present(watch.evaluate(gateway(2.0, mac="aa:aa:aa:aa:aa:01")), "gateway_mac_changed")


def test_no_mac_gives_no_mac_finding():
    watch = GatewayMacWatch(ConnectivityThresholds())
    assert watch.evaluate(gateway(2.0, mac=None)) == []


ROUTER, SPOOFER = "aa:aa:aa:aa:aa:01", "cc:cc:cc:cc:cc:66"


def test_two_macs_answering_for_the_gateway_are_an_ip_conflict_not_a_changed_gateway():
    watch = GatewayMacWatch(ConnectivityThresholds())
    watch.evaluate(gateway(2.0, mac=ROUTER))
    findings = watch.evaluate(gateway(2.0, mac=ROUTER, macs=[SPOOFER, ROUTER]))
    [conflict] = present(findings, "ip_conflict")
    assert not present(findings, "gateway_mac_changed")
    assert conflict.evidence == {"macs": f"{SPOOFER}, {ROUTER}", "known_mac": ROUTER}
    assert conflict.severity.value == "critical" and SPOOFER in conflict.summary


def test_the_conflict_clears_when_one_mac_answers_again_and_the_known_mac_is_kept():
    watch = GatewayMacWatch(ConnectivityThresholds(gateway_mac_adopt_after=2))
    watch.evaluate(gateway(2.0, mac=ROUTER))
    for _ in range(5):
        watch.evaluate(gateway(2.0, mac=ROUTER, macs=[SPOOFER, ROUTER]))
    findings = {f.type: f.present for f in watch.evaluate(gateway(2.0, mac=ROUTER))}
    assert findings == {"ip_conflict": False, "gateway_mac_changed": False}


def test_a_one_time_swap_is_a_changed_gateway_not_a_conflict():
    watch = GatewayMacWatch(ConnectivityThresholds())
    watch.evaluate(gateway(2.0, mac=ROUTER))
    findings = {f.type: f.present for f in watch.evaluate(gateway(2.0, mac=SPOOFER))}
    assert findings == {"ip_conflict": False, "gateway_mac_changed": True}


def test_a_conflict_without_the_known_mac_is_both_a_conflict_and_a_change():
    watch = GatewayMacWatch(ConnectivityThresholds())
    watch.evaluate(gateway(2.0, mac=ROUTER))
    other = "dd:dd:dd:dd:dd:77"
    findings = {f.type: f.present for f in watch.evaluate(gateway(2.0, mac=SPOOFER, macs=[SPOOFER, other]))}
    assert findings == {"ip_conflict": True, "gateway_mac_changed": True}


def round_of(mono: float, received: int) -> list[Sample]:
    """One probe round's samples, as the collector gives them: the gateway first, then DNS and the uplink."""
    return [
        Sample("connectivity.gateway", "10.0.0.1", {"sent": 10, "received": received, "loss_pct": 0.0,
                                                    "rtt_ms": None, "jitter_ms": None}, mono, mono),
        Sample("connectivity.dns", "10.0.0.1", {"ok": False, "latency_ms": None, "rcode": "timeout"}, mono, mono),
        Sample("connectivity.uplink", "broker:8883", {"ok": False, "connect_ms": None, "error": "timeout"}, mono, mono),
    ]


def test_dns_and_uplink_failing_behind_an_unreachable_gateway_are_not_issues_of_their_own():
    rules = ConnectivityRules(ConnectivityThresholds())
    findings = [f for sample in round_of(1.0, received=0) for f in rules.evaluate(sample)]
    assert [(f.type, f.present) for f in findings] == [("gateway_unreachable", True)]


def test_dns_and_uplink_failing_while_the_gateway_answers_are_issues():
    rules = ConnectivityRules(ConnectivityThresholds())
    rules.evaluate(round_of(1.0, received=0)[0])  # an earlier round's outage does not excuse this round
    findings = [f for sample in round_of(2.0, received=10) for f in rules.evaluate(sample)]
    assert {f.type for f in findings if f.present} == {"dns_failure", "uplink_down"}


def test_a_dns_timeout_in_a_round_whose_gateway_lost_pings_is_undecided_but_a_dead_resolver_still_opens():
    # Bursts of 50 % loss on the first hop lose both tries of a query now and then: three such rounds in a row
    # opened dns_failure (whose ladder restarts the resolver) beside the loss issue in the namespace bed.
    rules = ConnectivityRules(ConnectivityThresholds())
    lossy = [f for sample in round_of(1.0, received=6) for f in rules.evaluate(sample)]
    assert not [f for f in lossy if f.type == "dns_failure"], "the loss explains the unanswered query"
    assert ("uplink_down", True) in [(f.type, f.present) for f in lossy]  # the uplink is judged as before
    # A resolver that answers with an error is judged whatever the loss: that is an answer.
    servfail = Sample("connectivity.dns", "10.0.0.1", {"ok": False, "latency_ms": 3.0, "rcode": "SERVFAIL"}, 1.0, 1.0)
    assert any(f.present for f in rules.evaluate(servfail))
    # A dead resolver behind a lossy link: the rounds without loss still say so.
    rules = ConnectivityRules(ConnectivityThresholds())
    tracker = IssueTracker(open_after=3, resolve_after=3)
    events = []
    for i in range(12):
        for sample in round_of(float(i), received=10 if i % 2 else 7):
            for finding in rules.evaluate(sample):
                if finding.type == "dns_failure":
                    events += tracker.observe(finding, float(i), float(i))
    assert [e.change for e in events] == ["opened"] and events[0].mono <= 6


def test_hostile_gateway_loss_metrics_neither_crash_nor_excuse_a_dns_timeout():
    for hostile in ({"sent": "10", "received": "5", "loss_pct": "50"}, {"sent": 10, "received": 10, "loss_pct": "NaN"},
                    {"sent": None, "received": None, "loss_pct": float("nan")}, {"loss_pct": float("-inf")},
                    {"sent": 10, "received": 10, "loss_pct": [50]}):
        rules = ConnectivityRules(ConnectivityThresholds())
        rules.evaluate(Sample("connectivity.gateway", "10.0.0.1", {"rtt_ms": 1.0, **hostile}, 1.0, 1.0))
        dns = Sample("connectivity.dns", "10.0.0.1", {"ok": False, "latency_ms": None, "rcode": "timeout"}, 1.0, 1.0)
        assert ("dns_failure", True) in [(f.type, f.present) for f in rules.evaluate(dns)], hostile
