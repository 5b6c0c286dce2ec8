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


# Recorded on this project's test machine (Linux 6.x, Debian 12): a namespace whose default route is
# "default dev p2p0" over a TUN device with "addr add 100.64.9.2 peer 100.64.9.1", as PPPoE's ppp0 looks.
POINT_TO_POINT_ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
p2p0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0
p2p0\t01094064\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0
"""


def test_a_default_route_without_a_next_hop_has_no_gateway_address():
    assert parse_default_route(POINT_TO_POINT_ROUTE) == DefaultRoute("p2p0", None)


def test_addresses_on_a_connected_network_or_a_host_route_are_on_link_and_the_rest_go_through_the_gateway():
    from edge_agent.probes.routes import is_on_link

    assert is_on_link(PROC_NET_ROUTE, "192.168.1.77")
    assert not is_on_link(PROC_NET_ROUTE, "192.168.3.1")
    assert not is_on_link(PROC_NET_ROUTE, "8.8.8.8")  # the default route is no connected network
    assert is_on_link(POINT_TO_POINT_ROUTE, "100.64.9.1")
    assert not is_on_link(POINT_TO_POINT_ROUTE, "100.64.9.3")
    assert not is_on_link(PROC_NET_ROUTE, "not an address")


def test_a_fifo_or_a_vast_file_in_place_of_resolv_conf_is_an_error_not_a_hang(tmp_path):
    import os

    import pytest

    from edge_agent.probes.network import read_text

    fifo = tmp_path / "resolv.conf"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        read_text(str(fifo))  # nobody writes to it: an open that blocked would hang the test
    vast = tmp_path / "vast.conf"
    vast.write_bytes(b"nameserver 10.0.0.1\n" * 60_000)
    with pytest.raises(OSError, match="at most"):
        read_text(str(vast))
    assert read_text("/proc/net/route").startswith("Iface")  # the kernel's files (size 0) read whole
