"""Hand-built IPv4/ICMP/UDP/DHCP packets against an independent implementation (scapy, a test dependency),
and the parsers against hostile bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import ICMP, IP, UDP, ICMPerror, IPerror
from scapy.packet import Raw

from edge_agent.probes.wire import (
    checksum,
    dhcp_discover,
    icmp_echo,
    ipv4,
    parse_dhcp_reply,
    parse_icmp,
    parse_ipv4,
    udp,
)


def test_an_echo_request_is_what_scapy_builds_with_valid_checksums():
    ours = ipv4("10.0.0.2", "10.0.0.1", 1, icmp_echo(0x1234, 7, b"\x00" * 40), ident=7, dont_fragment=True)
    theirs = IP(bytes(ours))
    assert theirs[IP].src == "10.0.0.2" and theirs[IP].dst == "10.0.0.1" and theirs[IP].flags == "DF"
    assert (theirs[ICMP].type, theirs[ICMP].id, theirs[ICMP].seq) == (8, 0x1234, 7)
    assert len(ours) == 68
    rebuilt = IP(src="10.0.0.2", dst="10.0.0.1", id=7, flags="DF", ttl=64) / ICMP(id=0x1234, seq=7) / Raw(b"\x00" * 40)
    assert bytes(rebuilt) == ours  # scapy fills in the same checksums
    assert checksum(ours[:20]) == 0 and checksum(ours[20:]) == 0


def test_an_echo_reply_and_a_fragmentation_needed_error_are_parsed():
    reply = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=0, id=99, seq=3))
    assert parse_icmp(reply).__dict__ | {} == {"type": 0, "code": 0, "src": "10.0.0.1", "ident": 99, "seq": 3,
                                               "next_hop_mtu": None, "quoted_length": None}
    refused = IP(src="10.9.9.9", dst="10.0.0.2", flags="DF") / ICMP(id=99, seq=4) / Raw(b"\x00" * 1472)
    error = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=4, nexthopmtu=1400) /
                  IPerror(bytes(refused)[:20]) / ICMPerror(bytes(refused)[20:28]))
    parsed = parse_icmp(error)
    assert (parsed.type, parsed.code, parsed.ident, parsed.seq) == (3, 4, 99, 4)
    assert parsed.next_hop_mtu == 1400 and parsed.quoted_length == 1500 and parsed.src == "10.0.0.1"


@pytest.mark.parametrize("packet", [
    b"", b"\x45", bytes(IP(dst="10.0.0.1") / UDP()), bytes(IP(dst="10.0.0.1") / ICMP(type=8)),
    bytes(IP(dst="10.0.0.1") / ICMP(type=3, code=1) / Raw(b"\x45" + b"\x00" * 5)),  # quoted header cut short
    b"\x60" + b"\x00" * 39,  # IPv6
    b"\x4f" + b"\x00" * 19,  # header length beyond the packet
])
def test_what_is_not_an_answer_to_an_echo_is_refused_with_value_error(packet):
    with pytest.raises(ValueError):
        parse_icmp(packet)


@given(st.binary(max_size=200))
def test_the_icmp_parser_never_fails_otherwise_on_any_bytes(data):
    try:
        parse_icmp(data)
    except ValueError:
        pass


def test_a_discover_is_a_valid_broadcast_bootp_request_and_an_offer_is_read_back():
    mac = bytes.fromhex("020000000001")
    packet = ipv4("0.0.0.0", "255.255.255.255", 17, udp("0.0.0.0", "255.255.255.255", 68, 67, dhcp_discover(mac, 42)))
    theirs = IP(packet)
    rebuilt = IP(packet)
    del rebuilt[IP].chksum, rebuilt[UDP].chksum
    assert bytes(rebuilt) == packet  # scapy computes the same IP and UDP checksums
    assert (theirs[BOOTP].op, theirs[BOOTP].xid, theirs[BOOTP].flags, theirs[BOOTP].chaddr[:6]) == (1, 42, 0x8000, mac)
    assert ("message-type", 1) in theirs[DHCP].options
    offer = bytes(BOOTP(op=2, xid=42, yiaddr="10.0.0.120", chaddr=mac) /
                  DHCP(options=[("message-type", "offer"), ("server_id", "10.0.0.1"), "end"]))
    parsed = parse_dhcp_reply(offer, 42)
    assert (parsed.message_type, parsed.your_address, parsed.server_id) == (2, "10.0.0.120", "10.0.0.1")
    with pytest.raises(ValueError):
        parse_dhcp_reply(offer, 43)  # another transaction's


@given(st.binary(max_size=400))
def test_the_dhcp_parser_refuses_garbage_with_value_error_only(data):
    try:
        parse_dhcp_reply(data, 1)
    except ValueError:
        pass


def test_a_dhcp_option_that_runs_past_the_end_is_refused():
    offer = bytes(BOOTP(op=2, xid=5) / DHCP(options=[("message-type", "offer"), "end"]))
    cut = offer[:240] + bytes([53, 9, 2])
    with pytest.raises(ValueError, match="past the end"):
        parse_dhcp_reply(cut, 5)


def test_parse_ipv4_keeps_to_the_total_length():
    packet = ipv4("10.0.0.1", "10.0.0.2", 17, b"abcd") + b"trailing ethernet padding"
    assert parse_ipv4(packet).payload == b"abcd"
