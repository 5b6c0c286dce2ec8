"""The resolver comparison: the same name asked of every resolver and reference resolver at once, at its own pace,
only where there are two to compare, and handed to the detector before the resolvers' own samples."""

from __future__ import annotations

import socket

import pytest

from edge_agent.collectors.connectivity import ConnectivityStatus, DnsComparison, DnsProbe, status_samples
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes.checks import BackgroundChecks
from edge_agent.probes.dns import compare_resolvers

from .dns_stand_in import Resolver


def stand_in(address: str, port: int, addresses: list[str]) -> Resolver:
    """A resolver on a loopback address of its own answering A queries with `addresses` (none: REFUSED)."""
    return Resolver(records={"A": addresses}, rcode=0 if addresses else 5, address=address, port=port)


@pytest.fixture
def port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_every_name_is_asked_of_every_resolver_and_reference(port):
    servers = [stand_in("127.0.0.2", port, ["23.45.67.10"]), stand_in("127.0.0.3", port, ["45.33.10.10"]),
               stand_in("127.0.0.4", port, [])]
    try:
        [first, second] = compare_resolvers(["127.0.0.2", "127.0.0.3"], ["127.0.0.4", "127.0.0.2"],
                                            ["cdn.example.net", "www.example.org"], 1.0, port)
    finally:
        for server in servers:
            server.sock.close()
    assert (first.name, second.name) == ("cdn.example.net", "www.example.org")
    assert first.answers == {"127.0.0.2": ("23.45.67.10",), "127.0.0.3": ("45.33.10.10",)}
    assert first.failed == {"127.0.0.4": "REFUSED"} and first.references == ("127.0.0.4",)


def test_one_source_is_nothing_to_compare():
    assert compare_resolvers(["127.0.0.2"], [], ["cdn.example.net"], 1.0) == ()
    assert compare_resolvers(["127.0.0.2", "127.0.0.2"], ["127.0.0.2"], ["cdn.example.net"], 1.0) == ()
    assert compare_resolvers(["127.0.0.2", "127.0.0.3"], [], [], 1.0) == ()


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def asked(monkeypatch):
    calls = []

    def fake(resolvers, references, names, timeout_s, certificates=None):
        calls.append((tuple(resolvers), tuple(references), tuple(names)))
        return (DnsComparison(names[0], {}, {}),)

    monkeypatch.setattr("edge_agent.probes.dns.compare_resolvers", fake)
    return calls


def run_rounds(background: BackgroundChecks, clock: Clock, resolvers: list[str], seconds: int) -> int:
    handed = 0
    for _ in range(seconds):
        handed += len(background.collect_comparisons(resolvers))
        if background.dns_compare.job is not None:
            background.dns_compare.job.result(timeout=5)
        clock.now += 1
    return handed


def test_resolvers_are_compared_at_their_own_pace_on_the_public_probe_name(asked):
    clock = Clock()
    config = ConnectivityCollectorConfig(dns_consistency_interval_s=30, dns_query="mqtt.example.com")
    background = BackgroundChecks(config, [], clock)
    try:
        # started at 2 s, then 30 s after each one is handed over: 33, 64 and 95 s
        assert run_rounds(background, clock, ["192.168.1.1", "192.168.1.2"], 100) == 4
    finally:
        background.close()
    assert asked[0] == (("192.168.1.1", "192.168.1.2"), (), ("mqtt.example.com",))


@pytest.mark.parametrize(("settings", "resolvers"), [
    ({}, ["192.168.1.1"]),  # one resolver, no reference: nothing to compare with
    ({"dns_query": "printer.lan"}, ["192.168.1.1", "192.168.1.2"]),  # a private probe name
    ({"dns_consistency_names": []}, ["192.168.1.1", "192.168.1.2"]),  # turned off
    ({"dns_consistency_interval_s": 0}, ["192.168.1.1", "192.168.1.2"]),
])
def test_nothing_is_compared_where_there_is_nothing_to_compare(asked, settings, resolvers):
    clock = Clock()
    background = BackgroundChecks(ConnectivityCollectorConfig(**settings), [], clock)
    try:
        assert run_rounds(background, clock, resolvers, 10) == 0 and asked == []
    finally:
        background.close()


def test_one_resolver_and_a_reference_are_compared_on_the_configured_names(asked):
    clock = Clock()
    config = ConnectivityCollectorConfig(dns_reference_resolvers=["9.9.9.9"], dns_query="printer.lan",
                                         dns_consistency_names=["cdn.example.net"])
    background = BackgroundChecks(config, [], clock)
    try:
        run_rounds(background, clock, ["192.168.1.1"], 3)
    finally:
        background.close()
    assert asked == [(("192.168.1.1",), ("9.9.9.9",), ("cdn.example.net",))]


def test_a_comparison_sample_comes_before_the_resolvers_samples_of_its_round():
    status = ConnectivityStatus(None, (DnsProbe("192.168.1.1", True, 2.0, "NOERROR", ("23.45.67.10",), "x.com"),),
                                dns_comparisons=(DnsComparison("x.com", {"192.168.1.1": ("23.45.67.10",)},
                                                               {"9.9.9.9": "timeout"}, ("9.9.9.9",)),))
    first, second = status_samples(status, 1.0, 1.0)
    assert (first.stream, first.subject, second.stream) == ("connectivity.dns_comparison", "x.com", "connectivity.dns")
    assert first.metrics == {"answers": {"192.168.1.1": ["23.45.67.10"]}, "failed": {"9.9.9.9": "timeout"},
                             "references": ["9.9.9.9"]}


@pytest.mark.parametrize("settings", [{"dns_reference_resolvers": ["dns.google"]},
                                      {"dns_consistency_names": ["a..example.com"]},
                                      {"dns_consistency_names": ["x" * 64 + ".example.com"]}])
def test_a_reference_that_is_not_an_address_or_a_name_that_is_not_one_is_refused_at_load(settings):
    with pytest.raises(ValueError, match="dns_reference_resolvers|dns_consistency_names"):
        ConnectivityCollectorConfig(**settings)
