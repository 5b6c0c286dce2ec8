"""Every OFFER to one DISCOVER: the router and DNS options read from hostile bytes, and the tally by server
(one server answering twice or through relays is one server; a flood of forged OFFERs is capped)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP

from edge_agent.probes.dhcp import (
    MAX_ADDRESSES_PER_SERVER,
    MAX_OFFERS,
    MAX_SERVERS,
    OfferTally,
    collect_offers,
    offer_in,
)
from edge_agent.probes.wire import MAX_OPTION_ADDRESSES, parse_dhcp_reply

XID = 0x1234ABCD


def offer_packet(source: str, server_id: str | None, yiaddr: str = "10.9.0.150",
                 router: str | list[str] | None = None, dns: str | list[str] | None = None, xid: int = XID,
                 message_type: str = "offer", giaddr: str = "0.0.0.0") -> bytes:
    """An OFFER as a server (or a relay, at `source`) sends it, built by scapy, not by the code under test."""
    options: list = [("message-type", message_type)]
    if server_id is not None:
        options.append(("server_id", server_id))
    for name, value in (("router", router), ("name_server", dns)):
        if value is not None:
            options.append((name, *([value] if isinstance(value, str) else value)))
    options.append("end")
    packet = (IP(src=source, dst="255.255.255.255") / UDP(sport=67, dport=68)
              / BOOTP(op=2, xid=xid, yiaddr=yiaddr, giaddr=giaddr) / DHCP(options=options))
    return bytes(packet)


def bootp_payload(packet: bytes) -> bytes:
    return packet[28:]  # past a 20-byte IP header and the UDP header


def test_an_offer_names_its_server_its_routers_and_its_dns_servers():
    packet = offer_packet("10.9.0.1", "10.9.0.1", router="10.9.0.1", dns="10.9.0.53")
    offer = parse_dhcp_reply(bootp_payload(packet), XID)
    assert (offer.server_id, offer.your_address, offer.routers, offer.dns_servers) == (
        "10.9.0.1", "10.9.0.150", ("10.9.0.1",), ("10.9.0.53",))


def test_an_address_option_whose_length_is_not_a_multiple_of_four_reads_as_none():
    # option 3 with 5 bytes, option 6 with 3 bytes: malformed, not a crash and not half an address
    options = bytes([53, 1, 2, 54, 4, 10, 9, 0, 1, 3, 5, 10, 9, 0, 1, 7, 6, 3, 1, 2, 3, 255])
    payload = bootp_payload(offer_packet("10.9.0.1", None))[:240] + options
    offer = parse_dhcp_reply(payload, XID)
    assert (offer.server_id, offer.routers, offer.dns_servers) == ("10.9.0.1", (), ())


def test_a_router_option_listing_many_addresses_keeps_only_the_first_few():
    routers = [f"10.9.0.{i}" for i in range(1, 64)]  # 252 bytes: the longest an option can be
    offer = parse_dhcp_reply(bootp_payload(offer_packet("10.9.0.1", "10.9.0.1", router=routers)), XID)
    assert offer.routers == tuple(routers[:MAX_OPTION_ADDRESSES])


def test_an_address_option_cut_off_by_the_end_of_the_packet_is_refused():
    packet = bootp_payload(offer_packet("10.9.0.1", "10.9.0.1", router="10.9.0.1"))
    cut = packet[:packet.index(bytes([3, 4])) + 4]  # option 3 says 4 bytes, 2 are there
    with pytest.raises(ValueError, match="past the end"):
        parse_dhcp_reply(cut, XID)


@given(st.binary(max_size=64))
def test_any_bytes_in_the_options_give_an_offer_or_value_error(options):
    payload = bootp_payload(offer_packet("10.9.0.1", None))[:240] + options
    try:
        offer = parse_dhcp_reply(payload, XID)
    except ValueError:
        return
    assert len(offer.routers) <= MAX_OPTION_ADDRESSES and len(offer.dns_servers) <= MAX_OPTION_ADDRESSES


def test_only_offers_to_our_transaction_count():
    assert offer_in(offer_packet("10.9.0.1", "10.9.0.1"), XID) is not None
    assert offer_in(offer_packet("10.9.0.1", "10.9.0.1", xid=XID + 1), XID) is None
    assert offer_in(offer_packet("10.9.0.1", "10.9.0.1", message_type="nak"), XID) is None
    assert offer_in(b"\x45garbage", XID) is None


def tally(*answers: tuple[bytes, str]) -> OfferTally:
    result = OfferTally()
    for packet, mac in answers:
        offer, source = offer_in(packet, XID)
        result.add(offer, source, mac, 3.0)
    return result


def test_one_server_answering_twice_is_one_server_with_two_offers():
    result = tally((offer_packet("10.9.0.1", "10.9.0.1", "10.9.0.150"), "02:00:00:00:00:01"),
                   (offer_packet("10.9.0.1", "10.9.0.1", "10.9.0.151"), "02:00:00:00:00:01"))
    [server] = result.listed()
    assert (server["server"], server["offers"], server["macs"]) == ("10.9.0.1", 2, ["02:00:00:00:00:01"])


def test_one_server_behind_two_relays_is_one_server_heard_only_through_them():
    result = tally((offer_packet("10.9.0.2", "10.8.0.1", giaddr="10.9.0.2"), "02:00:00:00:00:02"),
                   (offer_packet("10.9.0.3", "10.8.0.1", giaddr="10.9.0.3"), "02:00:00:00:00:03"))
    [server] = result.listed()
    assert server["server"] == "10.8.0.1"
    assert server["sources"] == ["10.9.0.2", "10.9.0.3"]
    assert server["macs"] == ["02:00:00:00:00:02", "02:00:00:00:00:03"]
    assert (server["relays"], server["direct"]) == (["10.9.0.2", "10.9.0.3"], False)


def test_a_server_heard_directly_once_is_on_the_segment():
    result = tally((offer_packet("10.9.0.2", "10.9.0.1", giaddr="10.9.0.2"), "02:00:00:00:00:02"),
                   (offer_packet("10.9.0.1", "10.9.0.1"), "02:00:00:00:00:01"))
    [server] = result.listed()
    assert server["direct"] is True


def test_the_relay_address_is_read_and_none_without_one():
    assert parse_dhcp_reply(bootp_payload(offer_packet("10.9.0.2", "10.8.0.1", giaddr="10.9.0.2")), XID).relay \
        == "10.9.0.2"
    assert parse_dhcp_reply(bootp_payload(offer_packet("10.9.0.1", "10.9.0.1")), XID).relay is None


def test_two_servers_are_two_entries_in_the_order_they_answered():
    result = tally((offer_packet("10.9.0.1", "10.9.0.1", router="10.9.0.1"), "02:00:00:00:00:01"),
                   (offer_packet("10.9.0.99", "10.9.0.99", "192.168.1.50", router="192.168.1.1"),
                    "02:00:00:00:00:99"))
    first, second = result.listed()
    assert (first["server"], second["server"]) == ("10.9.0.1", "10.9.0.99")
    assert (second["offered_address"], second["routers"], second["macs"]) == (
        "192.168.1.50", ["192.168.1.1"], ["02:00:00:00:00:99"])


def test_a_server_without_a_server_identifier_is_known_by_its_source_address():
    [server] = tally((offer_packet("10.9.0.7", None), "02:00:00:00:00:07")).listed()
    assert server["server"] == "10.9.0.7"


def test_a_flood_of_forged_offers_keeps_a_bounded_tally():
    answers = [(offer_packet(f"10.7.{i}.1", f"10.7.{i}.1"), f"02:00:00:00:00:{i:02x}") for i in range(40)]
    answers += [(offer_packet(f"10.9.1.{i}", "10.7.0.1"), f"02:00:00:01:00:{i:02x}") for i in range(40)]
    result = tally(*answers)
    assert len(result.listed()) == MAX_SERVERS
    assert result.unlisted == 40 - MAX_SERVERS
    flooded = result.servers["10.7.0.1"]  # 41 offers from as many forged MACs and addresses
    assert flooded["offers"] == 41
    assert len(flooded["macs"]) == len(flooded["sources"]) == MAX_ADDRESSES_PER_SERVER


class Wire:
    """Datagrams arriving at given times (seconds after the DISCOVER), read through collect_offers' receive."""

    def __init__(self, arrivals: list[tuple[float, bytes, str]]):
        self.now = 0.0
        self.arrivals = sorted(arrivals, key=lambda a: a[0])

    def clock(self) -> float:
        return self.now

    def receive(self, wait_s: float):
        if not self.arrivals or self.arrivals[0][0] > self.now + wait_s:
            self.now += wait_s
            return None
        at, data, mac = self.arrivals.pop(0)
        self.now = max(self.now, at)
        return data, ("eth0", 0x0800, 0, 1, bytes.fromhex(mac.replace(":", "")))


def test_offers_are_taken_until_the_window_after_the_first_closes():
    wire = Wire([(0.02, offer_packet("10.9.0.1", "10.9.0.1"), "02:00:00:00:00:01"),
                 (0.50, offer_packet("10.9.0.99", "10.9.0.99"), "02:00:00:00:00:99"),
                 (1.50, offer_packet("10.9.0.98", "10.9.0.98"), "02:00:00:00:00:98")])
    tally = collect_offers(wire.receive, XID, 0.0, 4.0, 1.0, wire.clock)
    assert [s["server"] for s in tally.listed()] == ["10.9.0.1", "10.9.0.99"]
    assert wire.now == pytest.approx(1.02)  # listened 1 s after the first offer, not the whole 4 s


def test_the_window_never_runs_past_the_timeout():
    wire = Wire([(3.5, offer_packet("10.9.0.1", "10.9.0.1"), "02:00:00:00:00:01"),
                 (4.2, offer_packet("10.9.0.99", "10.9.0.99"), "02:00:00:00:00:99")])
    tally = collect_offers(wire.receive, XID, 0.0, 4.0, 4.0, wire.clock)
    assert [s["server"] for s in tally.listed()] == ["10.9.0.1"] and wire.now == pytest.approx(4.0)


def test_other_traffic_to_port_68_neither_counts_nor_opens_the_window():
    others = [(0.01 * i, offer_packet("10.9.0.7", "10.9.0.7", xid=XID + 1), "02:00:00:00:00:07")
              for i in range(1, 300)]
    wire = Wire([*others, (3.9, offer_packet("10.9.0.1", "10.9.0.1"), "02:00:00:00:00:01")])
    tally = collect_offers(wire.receive, XID, 0.0, 4.0, 1.0, wire.clock)
    assert [s["server"] for s in tally.listed()] == ["10.9.0.1"]


def test_a_flood_of_forged_offers_ends_the_check_at_the_cap():
    flood = [(0.001 * i, offer_packet(f"10.8.{i // 250}.{i % 250 + 1}", f"10.8.{i // 250}.{i % 250 + 1}"),
              "02:00:00:00:00:66") for i in range(MAX_OFFERS + 50)]
    wire = Wire(flood)
    tally = collect_offers(wire.receive, XID, 0.0, 4.0, 4.0, wire.clock)
    assert len(wire.arrivals) == 50  # the rest never read
    assert len(tally.listed()) == MAX_SERVERS and tally.unlisted == MAX_OFFERS - MAX_SERVERS
