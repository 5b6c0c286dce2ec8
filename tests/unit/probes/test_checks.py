"""The background DHCP and path-MTU checks: their pace, what counts as expected, and the PMTU verdict."""

from __future__ import annotations

import pytest

from edge_agent.collectors.connectivity import DhcpProbe, LeaseState, PmtuProbe
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes import checks
from edge_agent.probes.checks import BackgroundChecks, held_leases
from edge_agent.probes.pmtu import probe_sizes


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def offer(ok: bool) -> DhcpProbe:
    return DhcpProbe("eth0", ok=ok, offer_ms=2.0 if ok else None, server="10.0.0.1" if ok else None,
                     offered_address="10.0.0.2" if ok else None, error=None if ok else "no offer")


@pytest.fixture
def discovers(monkeypatch):
    """Replaces the real DISCOVER: each call takes the next answer from `answers` and is counted."""
    state = {"answers": [], "sent": 0}

    def fake(interface, timeout_s, listen_after_offer_s=None):
        state["sent"] += 1
        return offer(state["answers"].pop(0) if state["answers"] else True)

    monkeypatch.setattr("edge_agent.probes.dhcp.dhcp_probe", fake)
    monkeypatch.setattr(checks, "read_leases", lambda patterns, interface: [])
    monkeypatch.setattr(checks, "interface_address", lambda interface: "10.0.0.2")
    return state


def rounds(background: BackgroundChecks, clock: Clock, seconds: int) -> list:
    """One probe round a second; what each round handed over."""
    results = []
    for _ in range(seconds):
        dhcp, _ = background.collect("10.0.0.1", "eth0", {})
        results.append(dhcp)
        if background.dhcp.job is not None:
            background.dhcp.job.result(timeout=5)  # the worker finishes before the next round
        clock.now += 1
    return [r for r in results if r is not None]


def test_discover_is_sent_at_its_own_pace_not_every_round(discovers):
    clock = Clock()
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, pmtu_check_interval_s=0)
    background = BackgroundChecks(config, [], clock)
    checked = rounds(background, clock, 95)
    assert discovers["sent"] == 4  # at 2, 32, 62 and 92 s
    assert all(c.probe.ok for c in checked)


def test_a_failing_server_is_asked_again_sooner_and_counts_once_it_was_seen(discovers):
    clock = Clock()
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=30, dhcp_retry_s=5, pmtu_check_interval_s=0)
    background = BackgroundChecks(config, [], clock)
    discovers["answers"] = [True, False, False, False, True]
    checked = rounds(background, clock, 60)
    assert [c.probe.ok for c in checked] == [True, False, False, False, True]
    assert all(c.probe.server_expected for c in checked)
    assert discovers["sent"] == 5  # then again 5 s after each failure was seen


def test_no_offer_on_a_network_that_never_had_a_dhcp_server_is_not_expected(discovers):
    clock = Clock()
    background = BackgroundChecks(ConnectivityCollectorConfig(pmtu_check_interval_s=0), [], clock)
    discovers["answers"] = [False]
    [first] = rounds(background, clock, 4)
    assert (first.probe.ok, first.probe.server_expected) == (False, False)


def test_off_means_never(discovers):
    clock = Clock()
    background = BackgroundChecks(ConnectivityCollectorConfig(dhcp_check_interval_s=0, pmtu_check_interval_s=0),
                                  [], clock)
    assert rounds(background, clock, 5) == [] and discovers["sent"] == 0


def lease(address: str, obtained: float) -> LeaseState:
    return LeaseState("eth0", "x", address, obtained, None, None, None)


def test_the_lease_behind_the_current_address_counts_and_an_old_file_for_another_address_does_not():
    leases = [lease("10.0.0.9", 200.0), lease("10.0.0.2", 100.0)]
    assert held_leases(leases, "10.0.0.2") == (leases[1],)
    assert held_leases(leases, "192.168.5.5") == ()
    assert held_leases(leases, None) == (leases[0],)  # no address at all: the newest lease may say why


@pytest.mark.parametrize(("results", "verdict"), [
    ({96: "ok", 1280: "ok", 1400: "lost", 1500: "lost"}, "blackhole"),
    ({96: "ok", 1280: "lost", 1500: "lost"}, "blackhole"),
    ({96: "ok", 1280: "ok", 1500: "ok"}, "ok"),
    ({96: "ok", 1280: "ok", 1500: "too big (mtu 1280)"}, "ok"),  # path MTU discovery works
    ({96: "ok", 1280: "ok", 1400: "too big (mtu 1400)", 1500: "lost"}, "ok"),
    ({96: "lost", 1280: "lost", 1500: "lost"}, "unknown"),  # the target answers no echo at all
    ({96: "error: Operation not permitted", 1500: "error: Operation not permitted"}, "unknown"),
    ({}, "unknown"),
])
def test_pmtu_verdicts(results, verdict):
    probe = PmtuProbe("203.0.113.1", 1500, results)
    assert probe.verdict == verdict


def test_probe_sizes_stay_within_the_local_mtu_and_include_a_small_reference():
    assert probe_sizes(1500) == [96, 576, 1280, 1400, 1492, 1500]
    assert probe_sizes(1280) == [96, 576, 1280]
    assert probe_sizes(9000) == [96, 576, 1280, 1400, 1492, 9000]


def test_a_check_that_listens_for_seconds_does_not_stretch_the_pace():
    from concurrent.futures import Future

    from edge_agent.probes.checks import Cadence

    cadence = Cadence(interval_s=30.0, retry_s=5.0)
    job: Future = Future()
    cadence.start(job, now=100.0)
    job.set_result("clean")
    cadence.harvest(104.5, failing=lambda result: False)  # it listened 4 s, handed over half a second later
    assert cadence.next_due == 130.0
    job = Future()
    cadence.start(job, now=130.0)
    job.set_result("failing")
    cadence.harvest(134.5, failing=lambda result: True)
    assert cadence.next_due == 135.0


def test_no_offer_while_the_link_flapped_is_not_judged(monkeypatch, tmp_path):
    from edge_agent.collectors.connectivity import DhcpProbe
    from edge_agent.config import ConnectivityCollectorConfig
    from edge_agent.probes import checks, links
    from edge_agent.probes.checks import BackgroundChecks

    changes = iter([4, 6])  # the carrier was lost and regained while the DISCOVER waited
    monkeypatch.setattr(checks, "carrier_state", lambda interface: (True, next(changes)))
    monkeypatch.setattr("edge_agent.probes.dhcp.dhcp_probe", lambda interface, timeout_s, listen_after_offer_s:
                        DhcpProbe(interface, ok=False, offer_ms=None, server=None, offered_address=None,
                                  error="no offer"))
    monkeypatch.setattr(checks, "read_leases", lambda patterns, interface: [])
    monkeypatch.setattr(checks, "interface_address", lambda interface: None)
    background = BackgroundChecks(ConnectivityCollectorConfig(pmtu_check_interval_s=0), [])
    assert background._dhcp_check("eth0").probe is None
    changes = iter([6, 6])  # a steady link: the silence counts
    assert background._dhcp_check("eth0").probe.ok is False
    assert links.carrier_state("no-such-interface", tmp_path) == (None, None)
