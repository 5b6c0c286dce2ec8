"""The connectivity collector's samples for the slower checks: DHCP with the host's lease, and path MTU."""

from __future__ import annotations

from edge_agent.collectors.connectivity import (
    ConnectivityCollector,
    ConnectivityStatus,
    DhcpProbe,
    LeaseState,
    PmtuProbe,
    status_samples,
)

OFFER = DhcpProbe("eth0", ok=True, offer_ms=3.0, server="10.0.0.1", offered_address="10.0.0.2", error=None)
LEASE = LeaseState("eth0", "/var/lib/dhcpcd/eth0.lease", "10.0.0.2", 100.0, 160.0, 205.0, 220.0)
BLACKHOLE = PmtuProbe("203.0.113.9", 1500, {96: "ok", 1280: "ok", 1500: "lost"})


def test_a_dhcp_check_is_one_sample_with_the_offer_and_the_lease_side_by_side():
    [sample] = status_samples(ConnectivityStatus(None, (), dhcp=OFFER, leases=(LEASE,)), 1.0, 1.0)
    assert (sample.stream, sample.subject, sample.metrics["ok"]) == ("connectivity.dhcp", "eth0", True)
    assert sample.metrics["lease"]["expire_ts"] == 220.0 and sample.metrics["server_expected"] is True


def test_a_lease_without_a_discover_still_gives_a_dhcp_sample():
    [sample] = status_samples(ConnectivityStatus(None, (), leases=(LEASE,)), 1.0, 1.0)
    assert "ok" not in sample.metrics and sample.metrics["lease"]["address"] == "10.0.0.2"


def test_a_round_without_a_finished_check_has_no_dhcp_or_pmtu_sample():
    assert status_samples(ConnectivityStatus(None, ()), 1.0, 1.0) == []


def test_a_pmtu_check_is_one_sample_per_target_with_its_verdict():
    [sample] = status_samples(ConnectivityStatus(None, (), pmtu=(BLACKHOLE,)), 1.0, 1.0)
    assert (sample.stream, sample.subject) == ("connectivity.pmtu", "203.0.113.9")
    assert sample.metrics == {"verdict": "blackhole", "largest_ok": 1280, "local_mtu": 1500,
                              "sizes": {"96": "ok", "1280": "ok", "1500": "lost"}, "reference_rtt_ms": None}


class Backend:
    def __init__(self, with_pmtu: bool):
        if with_pmtu:
            self.pmtu = lambda: (BLACKHOLE,)

    def probe(self):
        return ConnectivityStatus(None, ())

    def dhcp(self):
        return OFFER


def test_diagnose_runs_a_pmtu_check_where_the_backend_has_one():
    assert [s.stream for s in ConnectivityCollector(1.0, Backend(True)).collect_pmtu(1.0, 1.0)] == ["connectivity.pmtu"]
    assert ConnectivityCollector(1.0, Backend(False)).collect_pmtu(1.0, 1.0) == []
