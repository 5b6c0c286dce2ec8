"""Gateway and DNS probes turned into samples."""

from __future__ import annotations

import pytest

from edge_agent.collectors.connectivity import (
    ConnectivityCollector,
    ConnectivityStatus,
    DnsProbe,
    GatewayProbe,
)


class FakeProbes:
    def __init__(self, status: ConnectivityStatus):
        self.status = status

    def probe(self) -> ConnectivityStatus:
        return self.status


def collect(gateway: GatewayProbe, *dns: DnsProbe):
    return ConnectivityCollector(5.0, FakeProbes(ConnectivityStatus(gateway, tuple(dns)))).collect(2.0, 2.0)


HEALTHY_GATEWAY = GatewayProbe("10.0.0.1", sent=5, received=5, rtt_ms_median=1.4, jitter_ms=0.2)


@pytest.mark.parametrize("sent, received, loss", [(5, 5, 0.0), (5, 4, 20.0), (5, 0, 100.0), (0, 0, 100.0)])
def test_gateway_loss_is_the_share_of_probes_not_answered(sent, received, loss):
    assert GatewayProbe("10.0.0.1", sent, received, None, None).loss_pct == loss


def test_gateway_sample_reports_loss_rounded_and_rtt():
    [gateway] = collect(GatewayProbe("10.0.0.1", sent=3, received=2, rtt_ms_median=1.4, jitter_ms=0.3))
    assert (gateway.stream, gateway.subject) == ("connectivity.gateway", "10.0.0.1")
    assert dict(gateway.metrics) == {
        "sent": 3, "received": 2, "loss_pct": 33.3, "rtt_ms": 1.4, "jitter_ms": 0.3, "mac": None
    }


def test_one_dns_sample_per_resolver():
    samples = collect(
        HEALTHY_GATEWAY,
        DnsProbe("10.0.0.1", ok=True, latency_ms=12.0, rcode="NOERROR"),
        DnsProbe("9.9.9.9", ok=False, latency_ms=None, rcode="timeout"),
    )
    dns = [(s.subject, dict(s.metrics)) for s in samples if s.stream == "connectivity.dns"]
    assert dns == [
        ("10.0.0.1", {"ok": True, "latency_ms": 12.0, "rcode": "NOERROR"}),
        ("9.9.9.9", {"ok": False, "latency_ms": None, "rcode": "timeout"}),
    ]


def test_no_resolvers_gives_only_the_gateway_sample():
    assert [s.stream for s in collect(HEALTHY_GATEWAY)] == ["connectivity.gateway"]


def test_every_mac_answering_for_the_gateway_is_in_the_sample_when_more_than_one_did():
    status = ConnectivityStatus(HEALTHY_GATEWAY, (), gateway_mac="aa:aa:aa:aa:aa:01",
                                gateway_macs=("cc:cc:cc:cc:cc:66", "aa:aa:aa:aa:aa:01"))
    [gateway] = ConnectivityCollector(5.0, FakeProbes(status)).collect(2.0, 2.0)
    assert gateway.metrics["mac"] == "aa:aa:aa:aa:aa:01"
    assert gateway.metrics["macs"] == ["cc:cc:cc:cc:cc:66", "aa:aa:aa:aa:aa:01"]


def test_one_answering_mac_adds_no_list():
    status = ConnectivityStatus(HEALTHY_GATEWAY, (), gateway_mac="aa:aa:aa:aa:aa:01",
                                gateway_macs=("aa:aa:aa:aa:aa:01",))
    [gateway] = ConnectivityCollector(5.0, FakeProbes(status)).collect(2.0, 2.0)
    assert "macs" not in gateway.metrics
