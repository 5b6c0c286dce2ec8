"""Hand-built ICMPv6 echoes and the parser of replies and Packet Too Big, against an independent implementation
(scapy, a test dependency), and the parser against hostile bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig, IPv6
from scapy.packet import Raw

from edge_agent.probes.wire6 import icmp6_echo, parse_icmp6, sender_address

US, TARGET, ROUTER = "fd00:1::2", "fd00:2::2", "fd00:1::1"


def refused_echo(ident: int, seq: int, size: int, quoted_bytes: int = 1232) -> bytes:
    """The Packet Too Big a router sends for our echo of `size` bytes: as much of it as fits in 1280 bytes."""
    echo = IPv6(src=US, dst=TARGET) / ICMPv6EchoRequest(id=ident, seq=seq) / Raw(b"\x00" * (size - 48))
    return bytes(ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(echo)[:quoted_bytes]))


def test_an_echo_request_is_what_scapy_reads_with_the_checksum_left_to_the_kernel():
    ours = icmp6_echo(0x1234, 7, b"\x00" * 40)
    theirs = ICMPv6EchoRequest(ours)
    assert (theirs.type, theirs.code, theirs.id, theirs.seq, theirs.cksum) == (128, 0, 0x1234, 7, 0)
    assert theirs.data == b"\x00" * 40 and len(ours) == 48


def test_an_echo_reply_is_parsed_with_the_sender_from_the_socket():
    reply = bytes(ICMPv6EchoReply(id=99, seq=3, data=b"x" * 10))
    parsed = parse_icmp6(reply, "FD00:2:0::2")
    assert (parsed.type, parsed.ident, parsed.seq, parsed.src, parsed.mtu) == (129, 99, 3, TARGET, None)


def test_a_packet_too_big_names_the_mtu_the_echo_it_refused_and_where_that_was_going():
    parsed = parse_icmp6(refused_echo(99, 4, 1500), ROUTER)
    assert (parsed.type, parsed.ident, parsed.seq, parsed.src) == (2, 99, 4, ROUTER)
    assert (parsed.mtu, parsed.quoted_dst, parsed.quoted_length) == (1280, TARGET, 1500)


def test_a_link_local_sender_loses_its_zone():
    assert sender_address("fe80::1%eth0") == "fe80::1"


@pytest.mark.parametrize("message", [
    b"", b"\x81\x00\x00",  # cut short
    bytes(ICMPv6EchoRequest(id=1, seq=1)),  # someone's request, not a reply
    bytes([1, 4, 0, 0, 0, 0, 0, 0]) + bytes(IPv6(src=US, dst=TARGET) / ICMPv6EchoRequest()),  # unreachable
    refused_echo(1, 1, 1500, quoted_bytes=44),  # the quoted echo header is cut short
    bytes(ICMPv6PacketTooBig(mtu=1280) / Raw(b"\x45" + b"\x00" * 60)),  # quotes IPv4
    bytes(ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(IPv6(src=US, dst=TARGET, nh=17) / Raw(b"\x00" * 16)))),  # UDP
    bytes(ICMPv6PacketTooBig(mtu=1280) / IPv6(src=US, dst=TARGET) / ICMPv6EchoReply()),  # quotes a reply
])
def test_what_is_not_a_reply_or_a_refused_echo_is_refused_with_value_error(message):
    with pytest.raises(ValueError):
        parse_icmp6(message, ROUTER)


@given(st.binary(max_size=200), st.sampled_from(["fd00::1", "fe80::1%eth0", "::", "garbage", "10.0.0.1"]))
def test_the_icmp6_parser_never_fails_otherwise_on_any_bytes_or_sender(data, sender):
    try:
        parse_icmp6(data, sender)
    except ValueError:
        pass


@given(st.binary(min_size=48, max_size=300), st.integers(0, 0xFFFFFFFF))
def test_any_packet_too_big_quoting_an_echo_is_parsed_or_refused_cleanly(quoted_tail, mtu):
    quoted = bytes(IPv6(src=US, dst=TARGET, nh=58)) + bytes([128]) + quoted_tail[41:]
    try:
        parsed = parse_icmp6(bytes([2, 0, 0, 0]) + mtu.to_bytes(4, "big") + quoted, ROUTER)
    except ValueError:
        return
    assert parsed.mtu == mtu and parsed.quoted_dst == TARGET
