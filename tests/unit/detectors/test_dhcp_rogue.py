"""A second DHCP server on the segment: `dhcp_rogue_server`, judged from the OFFERs to one DISCOVER (built as
the probe tallies them), with the legitimate server told apart by the host's lease or its gateway."""

from __future__ import annotations

import dataclasses

from edge_agent.collectors.connectivity import DhcpProbe, dhcp_sample
from edge_agent.config import IssuesSection
from edge_agent.detectors.dhcp_verdict import judge_dhcp
from edge_agent.guidance import guidance_for
from edge_agent.issues import IssueTracker
from edge_agent.model import Finding, Sample, Severity
from edge_agent.probes.dhcp import OfferTally, mark_known
from edge_agent.probes.wire import DhcpOffer

OWN = ("10.9.0.1", "02:00:00:00:00:01", DhcpOffer(2, "10.9.0.150", "10.9.0.1", ("10.9.0.1",), ("10.9.0.1",)))
ROGUE = ("192.168.1.1", "02:00:00:00:00:99",
         DhcpOffer(2, "192.168.1.50", "192.168.1.1", ("192.168.1.1",), ("192.168.1.1",)))
# the same router and DNS as the network's own, from a pool of its own: a duplicated configuration
TWIN = ("10.9.0.2", "02:00:00:00:00:02", DhcpOffer(2, "10.9.0.220", "10.9.0.2", ("10.9.0.1",), ("10.9.0.1",)))


def check(*answers: tuple[str, str, DhcpOffer], lease_server: str | None = None,
          gateway: str | None = "10.9.0.1") -> DhcpProbe:
    """What the background check hands over after these OFFERs (source address, source MAC, offer) came in."""
    tally = OfferTally()
    for source, mac, offer in answers:
        tally.add(offer, source, mac, 2.0)
    servers = tally.listed()
    first = servers[0] if servers else None
    return DhcpProbe("eth0", ok=bool(servers), offer_ms=2.0 if first else None,
                     server=first["server"] if first else None,
                     offered_address=first["offered_address"] if first else None,
                     error=None if first else "no offer", servers=servers, lease_server=lease_server,
                     gateway=gateway)


def rogue_finding(probe: DhcpProbe, ts: float = 1000.0) -> Finding | None:
    findings = [f for f in judge_dhcp(dhcp_sample(probe, (), ts, ts), "rules.connectivity")
                if f.type == "dhcp_rogue_server"]
    assert len(findings) <= 1
    return findings[0] if findings else None


def test_one_server_is_not_a_rogue():
    finding = rogue_finding(check(OWN))
    assert finding is not None and finding.present is False


def test_one_server_sending_two_offers_is_not_a_rogue():
    again = ("10.9.0.1", "02:00:00:00:00:01", DhcpOffer(2, "10.9.0.151", "10.9.0.1", ("10.9.0.1",), ()))
    assert rogue_finding(check(OWN, again)).present is False


def test_one_server_answering_through_two_relays_is_not_a_rogue():
    relayed = DhcpOffer(2, "10.9.0.150", "10.8.0.1", ("10.9.0.1",), ("10.9.0.1",))
    probe = check(("10.9.0.2", "02:00:00:00:00:02", relayed), ("10.9.0.3", "02:00:00:00:00:03", relayed))
    assert rogue_finding(probe).present is False


def test_a_providers_redundant_servers_heard_only_through_its_relay_are_not_a_rogue():
    # the provider's relay (a CMTS, say) forwards the OFFERs of both of its servers: neither is on this segment
    first = DhcpOffer(2, "100.64.0.10", "100.64.9.1", ("100.64.0.1",), ("100.64.9.53",), relay="100.64.0.1")
    second = DhcpOffer(2, "100.64.0.11", "100.64.9.2", ("100.64.0.1",), ("100.64.9.53",), relay="100.64.0.1")
    relay = ("100.64.0.1", "02:00:00:00:00:c1")
    probe = check((*relay, first), (*relay, second), lease_server="100.64.9.1", gateway="100.64.0.1")
    assert rogue_finding(probe).present is False


def test_a_rogue_answering_directly_beside_a_relayed_server_is_named():
    relayed = DhcpOffer(2, "100.64.0.10", "100.64.9.1", ("100.64.0.1",), ("100.64.9.53",), relay="100.64.0.1")
    probe = check(("100.64.0.1", "02:00:00:00:00:c1", relayed), ROGUE, lease_server="100.64.9.1",
                  gateway="100.64.0.1")
    finding = rogue_finding(probe)
    assert (finding.present, finding.evidence["legitimate"], finding.evidence["rogue"]) == (
        True, "100.64.9.1", "192.168.1.1")


def test_two_servers_are_a_rogue_and_the_lease_names_the_legitimate_one():
    finding = rogue_finding(check(ROGUE, OWN, lease_server="10.9.0.1"))
    assert finding.present is True and finding.subject == "eth0"
    assert finding.evidence["legitimate"] == "10.9.0.1"
    assert finding.evidence["legitimate_because"] == "gave this host its lease"
    assert finding.evidence["rogue"] == "192.168.1.1"
    assert finding.evidence["rogue_macs"] == "02:00:00:00:00:99"
    assert "192.168.1.50" in finding.evidence["rogue_offers"] and "router 192.168.1.1" in finding.summary


def test_without_a_lease_the_server_offering_the_hosts_gateway_is_the_legitimate_one():
    finding = rogue_finding(check(ROGUE, OWN, lease_server=None, gateway="10.9.0.1"))
    assert (finding.present, finding.evidence["legitimate"], finding.evidence["rogue"]) == (
        True, "10.9.0.1", "192.168.1.1")


def test_a_lease_from_a_server_that_no_longer_answers_falls_back_to_the_gateway():
    finding = rogue_finding(check(ROGUE, OWN, lease_server="10.9.0.77", gateway="10.9.0.1"))
    assert finding.evidence["legitimate"] == "10.9.0.1"


def test_with_nothing_to_tell_them_apart_every_server_is_named_and_none_called_legitimate():
    finding = rogue_finding(check(ROGUE, OWN, lease_server=None, gateway=None))
    assert finding.present is True and finding.evidence["legitimate"] is None
    assert finding.evidence["rogue"] == "192.168.1.1, 10.9.0.1"
    assert "none known to be the network's own" in finding.summary


def test_a_rogue_handing_out_another_router_is_critical_and_a_duplicate_of_the_own_settings_a_warning():
    assert rogue_finding(check(OWN, ROGUE, lease_server="10.9.0.1")).severity is Severity.CRITICAL
    assert rogue_finding(check(OWN, TWIN, lease_server="10.9.0.1")).severity is Severity.WARNING


def test_a_failover_partner_listed_as_known_is_not_a_rogue_but_a_third_server_is():
    partner = check(OWN, TWIN, lease_server="10.9.0.1")
    known = dataclasses.replace(partner, servers=mark_known(partner.servers, ["02:00:00:00:00:02"]))
    assert rogue_finding(known).present is False
    three = check(OWN, TWIN, ROGUE, lease_server="10.9.0.1")
    finding = rogue_finding(dataclasses.replace(three, servers=mark_known(three.servers, ["10.9.0.2"])))
    assert (finding.present, finding.evidence["rogue"]) == (True, "192.168.1.1")


def test_with_no_lease_and_no_gateway_a_known_server_is_the_reference():
    probe = check(ROGUE, OWN, lease_server=None, gateway=None)
    finding = rogue_finding(dataclasses.replace(probe, servers=mark_known(probe.servers, ["10.9.0.1"])))
    assert (finding.evidence["legitimate"], finding.evidence["rogue"]) == ("10.9.0.1", "192.168.1.1")


def test_a_check_without_any_offer_says_nothing_about_a_second_server():
    assert rogue_finding(check()) is None


def test_hostile_server_lists_in_a_sample_are_ignored_not_a_crash():
    metrics = dict(dhcp_sample(check(OWN), (), 1.0, 1.0).metrics)
    for servers in ("10.9.0.1", [None, 3, {"server": 7}]):
        sample = Sample("connectivity.dhcp", "eth0", {**metrics, "servers": servers}, 1.0, 1.0)
        assert [f.type for f in judge_dhcp(sample, "rules.connectivity")] == ["dhcp_failure"]
    garbled = [{"server": "a", "routers": "x", "macs": [1, None]}, {"server": "b", "dns_servers": {"k": 1}}]
    sample = Sample("connectivity.dhcp", "eth0", {**metrics, "servers": garbled}, 1.0, 1.0)
    [_, finding] = judge_dhcp(sample, "rules.connectivity")
    assert finding.present is True and finding.evidence["rogue"] == "a, b"


def test_guidance_names_the_other_server_its_mac_and_what_it_offers():
    finding = rogue_finding(check(OWN, ROGUE, lease_server="10.9.0.1"))
    text = guidance_for(finding.type, finding.subject, finding.evidence)
    assert "02:00:00:00:00:99" in text and "192.168.1.50" in text and "?" not in text
    assert "the network's own: 10.9.0.1, which gave this host its lease" in text


def shipped_tracker() -> IssueTracker:
    issues = IssuesSection()
    return IssueTracker(issues.open_after, issues.resolve_after,
                        per_type={k: (h.open_after, h.resolve_after) for k, h in issues.per_type.items()},
                        hold_down_s=issues.hold_down_s, hold_down_max_s=issues.hold_down_max_s)


def run_checks(tracker: IssueTracker, seen: list[bool], every_s: float) -> list[str]:
    """One check every `every_s` seconds; True: the rogue answered that one. The issue events in order."""
    events = []
    for i, rogue in enumerate(seen):
        now = 100.0 + i * every_s
        probe = check(OWN, ROGUE, lease_server="10.9.0.1") if rogue else check(OWN, lease_server="10.9.0.1")
        events += [e.change for e in tracker.observe(rogue_finding(probe, now), now, now)]
    return events


# The shipped pace of checks after a sighting: dhcp_retry_s (5 s) after the last one was handed over, which
# listened dhcp_timeout_s (4 s), in the probe round (1 s) after it finished.
FOLLOW_UP_S = 10


def test_a_rogue_opens_one_issue_at_once_and_it_resolves_after_two_checks_without_it():
    tracker = shipped_tracker()
    assert run_checks(tracker, [True, True, True, False, False], every_s=FOLLOW_UP_S) == ["opened", "resolved"]


def test_a_rogue_that_answers_only_now_and_then_is_one_issue_not_a_storm():
    # a rogue on a lossy link: OFFERs lost one, two and three checks in a row
    seen = [True, False, True, True, False, False, True, True, False, False, False, True, False, True, True, True]
    events = run_checks(shipped_tracker(), seen + [False] * 20, every_s=FOLLOW_UP_S)
    assert events.count("opened") == 1 and events[-1] == "resolved"


def test_guidance_says_when_the_networks_own_server_is_not_known():
    finding = rogue_finding(check(ROGUE, OWN, lease_server=None, gateway=None))
    text = guidance_for(finding.type, finding.subject, finding.evidence)
    assert "the network's own: not known" in text and "?" not in text


def test_no_offer_on_demand_where_no_lease_is_held_is_a_warning_that_says_why():
    from edge_agent.detectors.dhcp_verdict import judge_dhcp
    from edge_agent.model import Sample

    metrics = {"ok": False, "offer_ms": None, "server": None, "offered_address": None, "error": "no offer",
               "server_expected": True}
    [static] = [f for f in judge_dhcp(Sample("connectivity.dhcp", "eth0", {**metrics, "no_lease": True}, 1.0, 1.0),
                                      "rules") if f.type == "dhcp_failure"]
    assert static.present and static.severity.value == "warning" and "static" in static.summary
    [leased] = [f for f in judge_dhcp(Sample("connectivity.dhcp", "eth0", metrics, 1.0, 1.0), "rules")
                if f.type == "dhcp_failure"]
    assert leased.present and leased.severity.value == "critical"
