"""Which interface and MAC a gateway's echoes leave by (/proc/net/route, the MAC ARP confirmed), and the kernel's
receive stamp."""

from __future__ import annotations

import socket
import struct
import time

from edge_agent.probes.icmp import IcmpProber
from edge_agent.probes.raw_icmp import SO_TIMESTAMPNS, arrival_time, route_interface

ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
wlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0
tun0\t0A01A8C0\t00000000\t0001\t0\t0\t0\tFFFFFFFF\t0\t0\t0
dead0\t0002A8C0\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0
garbage line
"""


def test_the_most_specific_up_route_wins_then_the_lowest_metric():
    assert route_interface(ROUTES, "192.168.1.1") == "eth0"  # the /24 of eth0 (metric 100) over wlan0's (600)
    assert route_interface(ROUTES, "192.168.1.10") == "tun0"  # a host route beats the /24
    assert route_interface(ROUTES, "10.0.0.1") == "eth0"  # only the default route matches
    assert route_interface(ROUTES, "192.168.2.1") == "eth0"  # dead0's route is down: the default route


def test_no_route_at_all_is_none():
    assert route_interface("Iface\tDestination\n", "192.168.1.1") is None


def test_the_kernel_stamp_is_the_arrival_time_and_its_absence_is_now():
    stamp = struct.pack("@qq", 1_700_000_000, 250_000_000)
    assert arrival_time([(socket.SOL_SOCKET, SO_TIMESTAMPNS, stamp)]) == 1_700_000_000.25
    assert abs(arrival_time([]) - time.time()) < 5


LOOPBACK_ROUTE = ("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                  "lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\n")


def unreadable() -> str:
    raise OSError("no /proc here")


def test_echoes_go_to_the_confirmed_mac_on_the_routes_interface_else_through_the_kernel():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        prober = IcmpProber(routes=lambda: LOOPBACK_ROUTE)
        assert prober._path(sock, "127.0.0.1") is None  # no MAC confirmed by ARP: the kernel resolves it
        prober.use_neighbour("127.0.0.1", "02:00:00:00:00:01")
        assert prober._path(sock, "127.0.0.1") == ("lo", "127.0.0.1", bytes.fromhex("020000000001"))
        prober.use_neighbour("127.0.0.1", None)
        assert prober._path(sock, "127.0.0.1") is None
        blind = IcmpProber(routes=unreadable)
        blind.use_neighbour("127.0.0.1", "02:00:00:00:00:01")
        assert blind._path(sock, "127.0.0.1") is None
