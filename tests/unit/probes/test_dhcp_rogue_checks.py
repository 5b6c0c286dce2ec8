"""The background DHCP check and a second server: what it hands over (the lease's server, the gateway), how long
it listens, and its pace while a rogue comes and goes."""

from __future__ import annotations

import pytest

from edge_agent.collectors.connectivity import DhcpProbe, LeaseState
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes import checks
from edge_agent.probes.checks import ROGUE_FOLLOW_UP_CHECKS, BackgroundChecks
from edge_agent.schema import ValidationError

from .test_checks import Clock, rounds

OWN = {"server": "10.0.0.1", "offered_address": "10.0.0.2", "routers": ["10.0.0.1"], "dns_servers": [],
       "macs": ["02:00:00:00:00:01"], "sources": ["10.0.0.1"], "offers": 1, "offer_ms": 2.0}
ROGUE = {**OWN, "server": "10.0.0.99", "macs": ["02:00:00:00:00:99"], "sources": ["10.0.0.99"]}


@pytest.fixture
def discovers(monkeypatch, tmp_path):
    """The real DISCOVER replaced: each call answers with the next entry of `rogue` (True: the rogue answers
    too) and records when it was sent and how long it listens."""
    state = {"rogue": [], "sent_at": [], "windows": [], "clock": Clock()}
    lease_file = tmp_path / "dhcpcd-eth0.lease"
    lease_file.write_text("ADDRESS=10.0.0.2\nSERVER_ADDRESS=10.0.0.1\nLIFETIME=600\n")

    def fake(interface, timeout_s, listen_after_offer_s=1.0):
        state["sent_at"].append(state["clock"].now)
        state["windows"].append((timeout_s, listen_after_offer_s))
        servers = (OWN, ROGUE) if (state["rogue"].pop(0) if state["rogue"] else False) else (OWN,)
        return DhcpProbe(interface, ok=True, offer_ms=2.0, server="10.0.0.1", offered_address="10.0.0.2",
                         error=None, servers=servers)

    lease = LeaseState("eth0", str(lease_file), "10.0.0.2", 100.0, 400.0, 625.0, 700.0)
    monkeypatch.setattr("edge_agent.probes.dhcp.dhcp_probe", fake)
    monkeypatch.setattr(checks, "read_leases", lambda patterns, interface: [lease])
    monkeypatch.setattr(checks, "interface_address", lambda interface: "10.0.0.2")
    return state


def paces(times: list[float]) -> list[str]:
    """Each gap between DISCOVERs: "retry" (dhcp_retry_s, 5 s) or "interval" (30 s). A check's result is handed
    over in the round it finished or the next one (the worker thread races the round): one second either way."""
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return ["retry" if 5 <= gap <= 6 else "interval" if 30 <= gap <= 31 else str(gap) for gap in gaps]


def test_a_check_hands_over_the_lease_server_and_the_gateway_and_listens_its_whole_timeout(discovers):
    clock = discovers["clock"]
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, dhcp_timeout_s=3, pmtu_check_interval_s=0)
    [check] = rounds(BackgroundChecks(config, [], clock), clock, 5)
    assert (check.probe.lease_server, check.probe.gateway) == ("10.0.0.1", "10.0.0.1")
    assert discovers["windows"] == [(3.0, 3.0)]


def test_a_rogue_seen_brings_the_next_checks_sooner_until_it_has_stayed_away(discovers):
    clock = discovers["clock"]
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, dhcp_retry_s=5, pmtu_check_interval_s=0)
    discovers["rogue"] = [False, True]
    rounds(BackgroundChecks(config, [], clock), clock, 120)
    # clean, then the rogue: the next ones 5 s apart while it was seen in the last checks, then 30 s apart again
    assert paces(discovers["sent_at"])[:ROGUE_FOLLOW_UP_CHECKS + 2] == [
        "interval", *["retry"] * ROGUE_FOLLOW_UP_CHECKS, "interval"]


def test_a_rogue_that_answers_every_time_is_checked_at_the_usual_pace_once_confirmed(discovers):
    clock = discovers["clock"]
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, dhcp_retry_s=5, pmtu_check_interval_s=0)
    discovers["rogue"] = [True] * 20
    rounds(BackgroundChecks(config, [], clock), clock, 120)
    # 5 s apart until ROGUE_FOLLOW_UP_CHECKS in a row saw it, then 30 s apart
    assert paces(discovers["sent_at"])[:ROGUE_FOLLOW_UP_CHECKS] == [*["retry"] * (ROGUE_FOLLOW_UP_CHECKS - 1),
                                                                    "interval"]


def test_a_server_listed_in_dhcp_known_servers_is_handed_over_marked_known(discovers):
    clock = discovers["clock"]
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, pmtu_check_interval_s=0,
                                         dhcp_known_servers=["02:00:00:00:00:99"])
    discovers["rogue"] = [True]
    [check] = rounds(BackgroundChecks(config, [], clock), clock, 5)
    assert [s.get("known", False) for s in check.probe.servers] == [False, True]


def test_dhcp_known_servers_take_addresses_and_macs_and_name_anything_else():
    config = ConnectivityCollectorConfig(dhcp_known_servers=["10.0.0.2", "02:AB:00:00:00:99"])
    assert config.dhcp_known_servers == ["10.0.0.2", "02:ab:00:00:00:99"]
    with pytest.raises(ValidationError, match="'router' is neither an IPv4 address nor a MAC address"):
        ConnectivityCollectorConfig(dhcp_known_servers=["router"])


def test_a_known_partner_answering_every_time_keeps_the_usual_pace(discovers):
    clock = discovers["clock"]
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, dhcp_retry_s=5, pmtu_check_interval_s=0,
                                         dhcp_known_servers=["10.0.0.99"])
    discovers["rogue"] = [True] * 5
    rounds(BackgroundChecks(config, [], clock), clock, 100)
    assert paces(discovers["sent_at"]) == ["interval"] * 3


def test_an_on_demand_probe_gets_the_same_context_as_the_background_check(discovers):
    config = ConnectivityCollectorConfig(dhcp_known_servers=["10.0.0.99"])
    probe = DhcpProbe("eth0", ok=True, offer_ms=2.0, server="10.0.0.1", offered_address="10.0.0.2", error=None,
                      servers=(OWN, ROGUE))
    with_context = BackgroundChecks(config, [], Clock()).dhcp_context(probe, "eth0", "10.0.0.1")
    assert (with_context.lease_server, with_context.gateway) == ("10.0.0.1", "10.0.0.1")
    assert [s.get("known", False) for s in with_context.servers] == [False, True]
