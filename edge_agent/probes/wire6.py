"""ICMPv6 echo requests built, echo replies and Packet Too Big errors parsed (RFC 4443). Pure, no I/O.

A raw ICMPv6 socket hands over the ICMPv6 message without the IPv6 header (the sender comes from recvmsg) and
the kernel fills in the checksum of what it sends, so only the messages themselves are built and parsed here.
Parsers take untrusted bytes: anything short, truncated or malformed raises ValueError.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

ICMP6_PACKET_TOO_BIG, ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY = 2, 128, 129
NEXT_HEADER_ICMP6 = 58
IPV6_HEADER = 40
IPV6_ICMP6_HEADERS = IPV6_HEADER + 8  # what an echo of N bytes on the wire carries besides its payload
_ECHO = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence


def icmp6_echo(ident: int, seq: int, payload: bytes = b"") -> bytes:
    """An ICMPv6 echo request; its checksum is left 0 for the kernel, which covers the pseudo-header."""
    return _ECHO.pack(ICMP6_ECHO_REQUEST, 0, 0, ident & 0xFFFF, seq & 0xFFFF) + payload


@dataclass(frozen=True)
class Icmp6Message:
    """An echo reply, or a Packet Too Big about one of our echoes."""

    type: int
    src: str  # who sent it (for Packet Too Big: the router that could not pass the echo)
    ident: int  # of the echo it answers or quotes
    seq: int
    mtu: int | None = None  # Packet Too Big: the MTU of the next hop
    quoted_dst: str | None = None  # Packet Too Big: where the refused echo was going
    quoted_length: int | None = None  # Packet Too Big: the refused packet's size on the wire


def sender_address(sender: str) -> str:
    """The sender as recvmsg names it ("fe80::1%eth0"), without the zone and in canonical form."""
    return str(ipaddress.IPv6Address(sender.split("%", 1)[0]))


def parse_icmp6(message: bytes, sender: str) -> Icmp6Message:
    """An echo reply, or a Packet Too Big quoting an echo request; ValueError for anything else."""
    if len(message) < 8:
        raise ValueError("shorter than an ICMPv6 header")
    kind = message[0]
    src = sender_address(sender)
    if kind == ICMP6_ECHO_REPLY:
        _, _, _, ident, seq = _ECHO.unpack_from(message)
        return Icmp6Message(kind, src, ident, seq)
    if kind != ICMP6_PACKET_TOO_BIG:
        raise ValueError(f"ICMPv6 type {kind} is neither an echo reply nor a Packet Too Big")
    mtu = struct.unpack_from("!I", message, 4)[0]
    quoted = message[8:]
    if len(quoted) < IPV6_ICMP6_HEADERS or quoted[0] >> 4 != 6:
        raise ValueError("the Packet Too Big does not quote an IPv6 packet")
    if quoted[6] != NEXT_HEADER_ICMP6 or quoted[IPV6_HEADER] != ICMP6_ECHO_REQUEST:
        raise ValueError("the Packet Too Big does not quote an echo request")
    payload_length = struct.unpack_from("!H", quoted, 4)[0]
    _, _, _, ident, seq = _ECHO.unpack_from(quoted, IPV6_HEADER)
    destination = str(ipaddress.IPv6Address(quoted[24:40]))
    return Icmp6Message(kind, src, ident, seq, mtu, destination, IPV6_HEADER + payload_length)
