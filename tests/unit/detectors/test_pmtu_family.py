"""A path MTU black hole says which IP family it is in, and its guidance names the error that family's routers
must send (IPv4 "fragmentation needed", IPv6 "packet too big")."""

from __future__ import annotations

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.connectivity import ConnectivityRules
from edge_agent.guidance import guidance_for
from edge_agent.model import Sample


def check(target: str, verdict: str, mono: float) -> Sample:
    return Sample("connectivity.pmtu", target, {"verdict": verdict, "largest_ok": 1280, "local_mtu": 1500,
                                                "sizes": {"96": "ok", "1280": "ok", "1500": "lost"},
                                                "reference_rtt_ms": 3.0}, mono, mono)


def blackhole(target: str) -> list:
    """The findings of a black-hole check on a path checked once before (a first check is never judged)."""
    rules = ConnectivityRules(ConnectivityThresholds())
    rules.evaluate(check(target, "ok", 0.0))
    return rules.evaluate(check(target, "blackhole", 30.0))


def test_an_ipv6_black_hole_is_reported_as_ipv6_with_packet_too_big_in_its_guidance():
    [finding] = blackhole("2001:db8::5")
    assert finding.present and finding.evidence["family"] == "IPv6"
    assert finding.summary.startswith("IPv6 packets of 1500 bytes to 2001:db8::5 vanish")
    guidance = guidance_for(finding.type, finding.subject, finding.evidence)
    assert "ICMPv6 'packet too big'" in guidance and "MSS" in guidance and "fragmentation needed" not in guidance


def test_an_ipv4_black_hole_keeps_fragmentation_needed():
    [finding] = blackhole("203.0.113.9")
    assert finding.evidence["family"] == "IPv4" and finding.summary.startswith("IPv4 packets")
    assert "ICMP 'fragmentation needed'" in guidance_for(finding.type, finding.subject, finding.evidence)
