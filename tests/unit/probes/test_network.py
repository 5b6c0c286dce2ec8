"""One probe round's logic, with the packet-sending parts replaced by recorders (they need a real network)."""

from __future__ import annotations

from edge_agent.collectors.connectivity import GatewayProbe
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes.arp import ArpAnswer
from edge_agent.probes.network import NetworkProbes

ROUTES = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n" \
         "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\n"


class Pinger:
    def __init__(self, answers: list[int]):
        self.answers = list(answers)
        self.bursts = 0
        self.neighbours: list[tuple[str, str | None]] = []

    def ping(self, address, count, timeout_s):
        self.bursts += 1
        received = self.answers.pop(0)
        return GatewayProbe(address, count, received, 1.0 if received else None, None)

    def use_neighbour(self, address, mac):
        self.neighbours.append((address, mac))

    def close(self):
        pass


class Arp:
    """Each round's answers: None (nobody), one MAC, or a tuple of MACs answering the same request."""

    def __init__(self, macs: list):
        self.macs = list(macs)

    def ask(self, address, interface, timeout_s):
        answer = self.macs.pop(0)
        macs = () if answer is None else (answer,) if isinstance(answer, str) else tuple(answer)
        return ArpAnswer(macs, 0.5 if macs else None)

    def close(self):
        pass


def read_from(files: dict[str, str]):
    def read(path: str) -> str:
        if path not in files:
            raise FileNotFoundError(path)
        return files[path]
    return read


def probes(pinger: Pinger, arp: Arp, routes: str = ROUTES, neighbours: str | None = None) -> NetworkProbes:
    files = {"/proc/net/route": routes, "/etc/resolv.conf": ""}
    if neighbours is not None:
        files["/proc/net/arp"] = neighbours
    # the background DHCP and path-MTU checks send real packets: off here (tests/unit/probes/test_checks.py)
    config = ConnectivityCollectorConfig(dhcp_check_interval_s=0, pmtu_check_interval_s=0)
    network = NetworkProbes(config, read=read_from(files))
    network._icmp, network._arp = pinger, arp
    return network


def test_an_unanswered_burst_is_confirmed_by_a_second_before_the_gateway_counts_as_unreachable():
    pinger = Pinger([0, 0])
    status = probes(pinger, Arp([None])).probe()
    assert pinger.bursts == 2
    assert (status.gateway.sent, status.gateway.received) == (10, 0)


def test_a_second_burst_that_is_answered_wins_over_a_lost_first_one():
    pinger = Pinger([0, 5])
    status = probes(pinger, Arp(["aa:aa:aa:aa:aa:01"])).probe()
    assert (status.gateway.sent, status.gateway.received) == (5, 5)


def test_the_gateway_comes_from_the_default_route_and_is_remembered_when_the_route_vanishes():
    pinger = Pinger([5, 0, 0])
    network = probes(pinger, Arp(["aa:aa:aa:aa:aa:01", None]))
    assert network.probe().gateway.address == "192.168.1.1"
    network._read = read_from({"/proc/net/route": "Iface\n", "/etc/resolv.conf": ""})
    status = network.probe()
    assert status.gateway.address == "192.168.1.1" and status.gateway.received == 0
    assert "gateway" not in status.probe_errors


def test_no_route_ever_is_a_probe_error_not_a_crash():
    status = probes(Pinger([]), Arp([]), routes="Iface\n").probe()
    assert status.gateway is None
    assert "no default route" in status.probe_errors["gateway"]
    assert "no resolver" in status.probe_errors["dns"]


def test_icmp_goes_to_the_mac_this_rounds_arp_confirmed_never_to_a_cached_one():
    pinger = Pinger([5, 5, 5])
    network = probes(pinger, Arp(["aa:aa:aa:aa:aa:01", "bb:bb:bb:bb:bb:02", None]))
    network.probe()
    status = network.probe()
    network.probe()
    assert pinger.neighbours == [("192.168.1.1", "aa:aa:aa:aa:aa:01"), ("192.168.1.1", "bb:bb:bb:bb:bb:02"),
                                 ("192.168.1.1", None)]  # nobody answered ARP: scapy must resolve afresh
    assert status.gateway_mac == "bb:bb:bb:bb:bb:02"


def test_two_macs_answering_at_once_are_both_reported_and_the_known_one_keeps_the_pings():
    pinger = Pinger([5, 5])
    network = probes(pinger, Arp(["aa:aa:aa:aa:aa:01", ("bb:bb:bb:bb:bb:02", "aa:aa:aa:aa:aa:01")]))
    network.probe()
    status = network.probe()
    assert status.gateway_macs == ("bb:bb:bb:bb:bb:02", "aa:aa:aa:aa:aa:01")
    assert status.gateway_mac == "aa:aa:aa:aa:aa:01"
    assert pinger.neighbours[-1] == ("192.168.1.1", "aa:aa:aa:aa:aa:01")
