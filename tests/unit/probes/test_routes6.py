"""The IPv6 routing table read from /proc/net/ipv6_route: the default route's next hop and the route to an
address, with "unreachable" entries and garbage skipped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge_agent.probes.routes6 import default_route6, parse_ipv6_routes, read_ipv6_routes, route6_to

Z32 = "0" * 32
# Recorded in a namespace with a ULA on eth0, a router advertisement's default route through a link-local
# next hop on wlan0 (metric 600), a static one on eth0 (1024), a tunnel's /48 and the kernel's reject routes.
TABLE = f"""\
fd000001000000000000000000000000 40 {Z32} 00 {Z32} 00000100 00000002 00000000 00000001     eth0
fe800000000000000000000000000000 40 {Z32} 00 {Z32} 00000100 00000001 00000000 00000001     eth0
20010db8000100000000000000000000 30 {Z32} 00 {Z32} 00000000 00000001 00000000 00000001     tun0
{Z32} 00 {Z32} 00 fd000001000000000000000000000001 00000400 00000001 00000000 00000003     eth0
{Z32} 00 {Z32} 00 fe80000000000000021122fffe334455 00000258 00000001 00000000 00450003    wlan0
20010db8000200000000000000000000 30 {Z32} 00 {Z32} 00000000 00000001 00000000 00200200       lo
{Z32} 00 {Z32} 00 {Z32} ffffffff 00000001 00000000 00200200       lo
not a route at all
zz000001000000000000000000000000 40 {Z32} 00 {Z32} 00000100 00000002 00000000 00000001     eth0
"""


def test_the_default_route_with_the_lowest_metric_is_the_gateway():
    gateway = default_route6(parse_ipv6_routes(TABLE))
    assert gateway is not None
    assert (gateway.next_hop, gateway.interface, gateway.metric) == ("fe80::211:22ff:fe33:4455", "wlan0", 600)


def test_a_host_with_only_the_kernels_reject_default_route_has_no_ipv6_gateway():
    table = "\n".join(line for line in TABLE.splitlines() if " 00000003 " not in line and "00450003" not in line)
    routes = parse_ipv6_routes(table)
    assert default_route6(routes) is None
    assert route6_to(routes, "2001:db8:2::1") is None  # the reject route is no route
    assert route6_to(routes, "2606:4700::1") is None


def test_the_most_specific_route_wins():
    routes = parse_ipv6_routes(TABLE)
    assert route6_to(routes, "fd00:1::9").interface == "eth0"  # on-link
    assert route6_to(routes, "2001:db8:1::5").interface == "tun0"
    assert route6_to(routes, "2606:4700::1").interface == "wlan0"  # the default route with the lower metric
    assert route6_to(routes, "fe80::1%eth0").next_hop is None


def test_no_table_is_no_routes(tmp_path):
    assert read_ipv6_routes(tmp_path / "missing") == ""
    assert parse_ipv6_routes("") == [] and default_route6([]) is None


@given(st.text(max_size=400))
def test_the_parser_skips_whatever_does_not_parse(text):
    for route in parse_ipv6_routes(text):
        assert route.destination.version == 6
