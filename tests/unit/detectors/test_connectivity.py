"""Connectivity detectors: uplink/DHCP/probe rules, the latency and loss trend, and the gateway MAC watch."""

from __future__ import annotations

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules, GatewayMacWatch, GatewayTrend
from edge_agent.model import Sample

RULES = ConnectivityRules(ConnectivityThresholds())


def gateway(rtt: float, loss: float = 0.0, mac: str | None = None, received: int = 5) -> Sample:
    metrics = {"sent": 5, "received": received, "loss_pct": loss, "rtt_ms": rtt, "jitter_ms": 0.1, "mac": mac}
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


def test_high_jitter_is_its_own_finding():
    sample = Sample("connectivity.gateway", "10.0.0.1",
                    {"sent": 5, "received": 5, "loss_pct": 0.0, "rtt_ms": 5.0, "jitter_ms": 45.0}, 1.0, 1.0)
    assert present(RULES.evaluate(sample), "gateway_high_jitter")


def trend(**overrides) -> GatewayTrend:
    return GatewayTrend(ConnectivityThresholds(trend_window=3, trend_warmup=5, **overrides))


def test_trend_says_nothing_until_the_baseline_is_learned():
    detector = trend()
    assert all(detector.evaluate(gateway(rtt=50.0)) == [] for _ in range(4))


def test_rising_rtt_opens_a_trend_finding_below_the_absolute_limit():
    detector = trend()
    for _ in range(8):
        detector.evaluate(gateway(rtt=2.0))
    findings = []
    for _ in range(3):
        findings = detector.evaluate(gateway(rtt=30.0))  # well under the 100 ms absolute limit
    [rising] = present(findings, "gateway_latency_rising")
    assert rising.evidence["baseline_rtt_ms"] == 2.0 and rising.evidence["recent_rtt_ms"] == 30.0
    assert rising.evidence["limit"] == 17.0  # max(2 x 3, 2 + 15)


def test_a_single_slow_round_is_not_a_trend():
    detector = trend()
    for _ in range(8):
        detector.evaluate(gateway(rtt=2.0))
    findings = detector.evaluate(gateway(rtt=80.0))
    assert not present(findings, "gateway_latency_rising")


def test_degraded_rounds_do_not_become_the_new_normal():
    detector = trend()
    for _ in range(8):
        detector.evaluate(gateway(rtt=2.0))
    for _ in range(40):
        findings = detector.evaluate(gateway(rtt=30.0))
    assert present(findings, "gateway_latency_rising")


def test_rising_loss_in_most_of_the_window_is_a_trend_finding():
    detector = trend()
    for _ in range(8):
        detector.evaluate(gateway(rtt=2.0, loss=0.0))
    for _ in range(3):
        findings = detector.evaluate(gateway(rtt=2.0, loss=20.0, received=4))
    [rising] = present(findings, "gateway_loss_rising")
    assert rising.evidence["recent_loss_pct"] == 20.0 and rising.evidence["lossy_rounds"] == 3


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
