"""The broker connection's path-MTU mode: set and read on real sockets, IPv4 only; which issues call for it."""

from __future__ import annotations

import socket
from types import SimpleNamespace

from edge_agent.reporting.fragmentation import IP_PMTUDISC_DONT, path_mtu_mode, set_path_mtu_mode
from edge_agent.reporting.path_health import ipv4_black_hole_open


def test_an_ipv4_socket_can_stop_and_start_asking_for_dont_fragment():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        default = path_mtu_mode(sock)
        assert default is not None and default != IP_PMTUDISC_DONT
        assert set_path_mtu_mode(sock, IP_PMTUDISC_DONT) and path_mtu_mode(sock) == IP_PMTUDISC_DONT
        assert set_path_mtu_mode(sock, default) and path_mtu_mode(sock) == default


def test_ipv6_and_unix_sockets_are_left_as_they_are():
    for family in (socket.AF_INET6, socket.AF_UNIX):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            assert path_mtu_mode(sock) is None and set_path_mtu_mode(sock, IP_PMTUDISC_DONT) is False


def test_a_closed_socket_is_refused_quietly():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.close()
    assert path_mtu_mode(sock) is None and set_path_mtu_mode(sock, IP_PMTUDISC_DONT) is False


def issue(issue_type: str, **evidence) -> SimpleNamespace:
    return SimpleNamespace(type=issue_type, evidence=evidence)


def test_only_an_open_ipv4_black_hole_lets_routers_fragment():
    assert ipv4_black_hole_open([issue("dns_failure"), issue("pmtu_blackhole", family="IPv4")])
    assert ipv4_black_hole_open([issue("pmtu_blackhole")])  # older evidence without the family: IPv4
    assert not ipv4_black_hole_open([issue("pmtu_blackhole", family="IPv6"), issue("uplink_down")])
    assert not ipv4_black_hole_open([])
