"""Finding the gateway and the resolvers from /proc/net/route and resolv.conf text."""

from __future__ import annotations

from edge_agent.probes.routes import DefaultRoute, parse_default_route, parse_nameservers

# In the layout the kernel prints (tab-separated, little-endian hex addresses); written for these tests.
PROC_NET_ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
"""


def test_default_route_with_the_lowest_metric_wins():
    assert parse_default_route(PROC_NET_ROUTE) == DefaultRoute("eth0", "192.168.1.1")


def test_no_default_route_gives_none():
    only_local = PROC_NET_ROUTE.splitlines()[0] + "\n" + PROC_NET_ROUTE.splitlines()[2] + "\n"
    assert parse_default_route(only_local) is None


def test_a_down_default_route_is_ignored():
    down = PROC_NET_ROUTE.replace("0003\t0\t0\t100", "0002\t0\t0\t100", 1)
    assert parse_default_route(down) == DefaultRoute("wlan0", "192.168.2.1")


def test_garbage_lines_are_skipped():
    assert parse_default_route("Iface Destination\nnot a route\n") is None


def test_nameservers_in_order_with_comments_and_scoped_ipv6():
    text = "# generated\nsearch lan\nnameserver 192.168.1.1\nnameserver fe80::1%eth0 # link-local\n" \
           "nameserver not-an-ip\noptions edns0\n"
    assert parse_nameservers(text) == ["192.168.1.1", "fe80::1"]
