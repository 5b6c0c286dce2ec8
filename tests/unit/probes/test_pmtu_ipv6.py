"""The IPv6 path-MTU check: which targets it probes, what a host without IPv6 gets (one log line, no probe, no
issue), its verdicts, and real ICMPv6 echoes over loopback."""

from __future__ import annotations

import logging
import os
import socket

import pytest

from edge_agent.collectors.connectivity import PmtuProbe
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes import ProbePermissionError, pmtu_ipv6
from edge_agent.probes.checks import BackgroundChecks
from edge_agent.probes.pmtu import PATH_SIZES_V6, pmtu6_probe, probe_sizes
from edge_agent.probes.pmtu_ipv6 import Ipv6PathMtu, Ipv6Target, ipv6_targets, resolve_ipv6

Z32 = "0" * 32
ON_LINK = f"fd000001000000000000000000000000 40 {Z32} 00 {Z32} 00000100 00000001 00000000 00000001 eth0\n"
DEFAULT = f"{Z32} 00 {Z32} 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n"
REJECT = f"{Z32} 00 {Z32} 00 {Z32} ffffffff 00000001 00000000 00200200 lo\n"


def test_the_gateway_comes_first_then_each_routed_address_once():
    targets = ipv6_targets(ON_LINK + DEFAULT, ["2001:db8::5", None, "fd00:1::9", "2001:db8::5", "fe80::7"])
    assert targets == [Ipv6Target("fe80::1", "eth0"), Ipv6Target("2001:db8::5", "eth0"),
                       Ipv6Target("fd00:1::9", "eth0")]


def test_without_a_default_route_only_on_link_addresses_are_probed():
    assert ipv6_targets(ON_LINK + REJECT, ["2001:db8::5", "fd00:1::9"]) == [Ipv6Target("fd00:1::9", "eth0")]
    assert ipv6_targets(REJECT, ["2001:db8::5"]) == []


def test_an_uplink_host_is_probed_at_its_ipv6_address(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, family, kind: [
        (family, kind, 0, "", ("2001:db8::77", 0, 0, 0))] if host == "mqtt.example.com" else [])
    assert resolve_ipv6("mqtt.example.com") == "2001:db8::77"
    assert resolve_ipv6("2001:DB8::1") == "2001:db8::1"
    assert resolve_ipv6("192.0.2.1") is None and resolve_ipv6("v4only.example.com") is None


class FakeProbes:
    def __init__(self):
        self.routes = REJECT
        self.sent: list[tuple] = []
        self.error: OSError | None = None

    def probe(self, target, mtu, timeout_s, interface):
        if self.error is not None:
            raise self.error
        self.sent.append((target, mtu, interface))
        return PmtuProbe(target, mtu, {96: "ok", mtu: "ok"})

    def check(self) -> Ipv6PathMtu:
        return Ipv6PathMtu(routes=lambda: self.routes, resolve=resolve_ipv6, probe=self.probe, mtu_of=lambda i: 1500)


def test_a_host_without_ipv6_is_told_once_and_nothing_is_sent(caplog):
    fake = FakeProbes()
    check = fake.check()
    with caplog.at_level(logging.INFO, logger="edge_agent.probes.pmtu_ipv6"):
        results = [check.check(["2001:db8::5"], [], 1.0) for _ in range(3)]
    assert results == [(), (), ()] and fake.sent == []
    assert [r.getMessage() for r in caplog.records] == ["the IPv6 path MTU is not checked: the host has no IPv6 route"]


def test_ipv6_that_comes_and_goes_is_probed_while_there_and_told_again_when_gone(caplog):
    fake = FakeProbes()
    check = fake.check()
    with caplog.at_level(logging.INFO, logger="edge_agent.probes.pmtu_ipv6"):
        check.check([], [], 1.0)
        fake.routes = DEFAULT
        [probe] = check.check([], [], 1.0)
        fake.routes = REJECT
        check.check([], [], 1.0)
    assert (probe.target, fake.sent) == ("fe80::1", [("fe80::1", 1500, "eth0")])
    assert len(caplog.records) == 2


def test_a_kernel_without_ipv6_is_told_once_and_missing_privilege_is_an_error(caplog):
    fake = FakeProbes()
    fake.routes = DEFAULT
    fake.error = OSError(97, "Address family not supported by protocol")
    check = fake.check()
    with caplog.at_level(logging.INFO, logger="edge_agent.probes.pmtu_ipv6"):
        assert check.check([], [], 1.0) == () and check.check([], [], 1.0) == ()
    assert len(caplog.records) == 1 and "Address family not supported" in caplog.records[0].getMessage()
    fake.error = ProbePermissionError("IPv6 path MTU probe needs CAP_NET_RAW")
    with pytest.raises(ProbePermissionError):
        check.check([], [], 1.0)


def test_the_background_check_probes_both_families(monkeypatch):
    fake = FakeProbes()
    fake.routes = ON_LINK + DEFAULT
    monkeypatch.setattr(pmtu_ipv6, "Ipv6PathMtu", fake.check)
    monkeypatch.setattr("edge_agent.probes.pmtu.pmtu_probe",
                        lambda target, mtu, timeout_s: PmtuProbe(target, mtu, {96: "ok", mtu: "ok"}))
    monkeypatch.setattr("edge_agent.probes.pmtu.interface_mtu", lambda interface: 1500)
    config = ConnectivityCollectorConfig(pmtu_targets=["192.0.2.9", "fd00:1::9"])
    background = BackgroundChecks(config, ["[2001:db8::5]:8883", "192.0.2.7:8883"])
    try:
        probes = background.pmtu_now("192.0.2.1", "eth0")
    finally:
        background.close()
    assert [p.target for p in probes] == ["192.0.2.1", "192.0.2.7", "192.0.2.9", "fe80::1", "2001:db8::5",
                                          "fd00:1::9"]


def test_a_host_without_an_ipv4_route_still_checks_its_ipv6_paths(monkeypatch):
    fake = FakeProbes()
    fake.routes = ON_LINK + DEFAULT
    monkeypatch.setattr(pmtu_ipv6, "Ipv6PathMtu", fake.check)

    def no_ipv4(*args):
        raise AssertionError("an IPv4 probe without an IPv4 route")

    monkeypatch.setattr("edge_agent.probes.pmtu.pmtu_probe", no_ipv4)
    monkeypatch.setattr("edge_agent.probes.pmtu.interface_mtu", no_ipv4)
    background = BackgroundChecks(ConnectivityCollectorConfig(pmtu_check_interval_s=1), ["[2001:db8::5]:8883"])
    try:
        assert [p.target for p in background.pmtu_now(None, None)] == ["fe80::1", "2001:db8::5"]
        background.pmtu.next_due = 0.0
        background.collect(None, None, {})  # the background check starts without an IPv4 gateway too
        assert background.pmtu.job is not None or background.pmtu.next_due > 0.0, "no check started"
    finally:
        background.close()


def test_ipv6_sizes_start_at_the_ipv6_minimum_and_include_tunnel_sizes():
    assert probe_sizes(1500, PATH_SIZES_V6) == [96, 1280, 1400, 1480, 1492, 1500]
    assert probe_sizes(1280, PATH_SIZES_V6) == [96, 1280]


@pytest.mark.parametrize(("results", "verdict"), [
    ({96: "ok", 1280: "ok", 1400: "lost", 1480: "lost", 1492: "lost", 1500: "lost"}, "blackhole"),
    ({96: "ok", 1280: "ok", 1400: "too big (mtu 1280)", 1480: "too big (mtu 1280)", 1492: "lost",
      1500: "too big (mtu 1280)"}, "ok"),  # a lower path MTU that says so: not a fault
    ({96: "lost", 1280: "lost", 1500: "lost"}, "unknown"),
])
def test_ipv6_verdicts_are_those_of_ipv4(results, verdict):
    assert PmtuProbe("2001:db8::5", 1500, results).verdict == verdict


def loopback_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMPv6 sockets need root (CAP_NET_RAW)")
@pytest.mark.skipif(not loopback_ipv6(), reason="no IPv6 loopback on this host")
def test_real_echoes_of_every_size_come_back_over_loopback():
    probe = pmtu6_probe("::1", 1500, timeout_s=2.0)
    assert probe.results == {size: "ok" for size in (96, 1280, 1400, 1480, 1492, 1500)}
    assert probe.verdict == "ok" and probe.target == "::1"
    assert probe.reference_rtt_ms is not None and 0.0 <= probe.reference_rtt_ms < 1000.0


@pytest.mark.skipif(os.geteuid() != 0, reason="raw ICMPv6 sockets need root (CAP_NET_RAW)")
@pytest.mark.skipif(not loopback_ipv6(), reason="no IPv6 loopback on this host")
def test_an_echo_the_host_cannot_send_is_an_error_for_every_size_not_an_exception():
    probe = pmtu6_probe("::1", 70_000, timeout_s=0.5)  # beyond the largest IPv6 payload: the send fails
    assert all(result.startswith("error") for result in probe.results.values())
    assert probe.verdict == "unknown"
