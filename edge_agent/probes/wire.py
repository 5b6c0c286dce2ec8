"""IPv4, ICMP, UDP and DHCP DISCOVER/OFFER on the wire, built and parsed by hand. Pure, no I/O.

The probes send a handful of fixed-shape packets every round; building them here with struct costs
microseconds and no imports, where a general packet library costs tens of megabytes and milliseconds a round.
Parsers take untrusted bytes: anything short, truncated or malformed raises ValueError.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

ICMP_ECHO_REPLY, ICMP_UNREACHABLE, ICMP_ECHO_REQUEST = 0, 3, 8
ICMP_FRAG_NEEDED = 4  # the code of "destination unreachable" that carries the next hop's MTU
PROTO_ICMP, PROTO_UDP = 1, 17
IP_DF = 0x4000
IPV4_HEADER = 20
DHCP_MAGIC = b"\x63\x82\x53\x63"
DHCP_DISCOVER, DHCP_OFFER = 1, 2
_BOOTP = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")  # op .. file: 236 bytes before the magic cookie


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 0, dont_fragment: bool = False,
         ttl: int = 64) -> bytes:
    """An IPv4 packet (header without options, checksum filled in) around `payload`."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, IPV4_HEADER + len(payload), ident & 0xFFFF,
                         IP_DF if dont_fragment else 0, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def icmp_echo(ident: int, seq: int, payload: bytes = b"") -> bytes:
    """An ICMP echo request (type 8) with its checksum."""
    message = struct.pack("!BBHHH", ICMP_ECHO_REQUEST, 0, 0, ident & 0xFFFF, seq & 0xFFFF) + payload
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


def udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """A UDP datagram with its checksum over the IPv4 pseudo-header."""
    length = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, PROTO_UDP, length)
    datagram = struct.pack("!HHHH", sport, dport, length, 0) + payload
    return datagram[:6] + struct.pack("!H", checksum(pseudo + datagram) or 0xFFFF) + datagram[8:]


@dataclass(frozen=True)
class Ipv4Packet:
    src: str
    dst: str
    proto: int
    total_length: int
    payload: bytes


def parse_ipv4(packet: bytes) -> Ipv4Packet:
    if len(packet) < IPV4_HEADER or packet[0] >> 4 != 4:
        raise ValueError("not an IPv4 packet")
    header_length = (packet[0] & 0x0F) * 4
    total = struct.unpack_from("!H", packet, 2)[0]
    if header_length < IPV4_HEADER or total < header_length or len(packet) < header_length:
        raise ValueError("IPv4 header lengths are inconsistent")
    end = min(total, len(packet))
    return Ipv4Packet(socket.inet_ntoa(packet[12:16]), socket.inet_ntoa(packet[16:20]), packet[9], total,
                      packet[header_length:end])


@dataclass(frozen=True)
class IcmpReply:
    """An echo reply, or an error (destination unreachable) about one of our echoes."""

    type: int
    code: int
    src: str  # who sent this ICMP message
    ident: int  # of the echo it answers (for an error: of the echo quoted in it)
    seq: int
    next_hop_mtu: int | None = None  # "fragmentation needed": the MTU the router could pass
    quoted_length: int | None = None  # for an error: the total length of the packet it refused


def parse_icmp(packet: bytes) -> IcmpReply:
    """An IPv4 packet carrying ICMP: an echo reply, or an unreachable quoting an echo request; else ValueError."""
    ip = parse_ipv4(packet)
    if ip.proto != PROTO_ICMP or len(ip.payload) < 8:
        raise ValueError("not an ICMP message")
    kind, code = ip.payload[0], ip.payload[1]
    if kind == ICMP_ECHO_REPLY:
        ident, seq = struct.unpack_from("!HH", ip.payload, 4)
        return IcmpReply(kind, code, ip.src, ident, seq)
    if kind == ICMP_UNREACHABLE:
        quoted = parse_ipv4(ip.payload[8:])
        if quoted.proto != PROTO_ICMP or len(quoted.payload) < 8 or quoted.payload[0] != ICMP_ECHO_REQUEST:
            raise ValueError("the unreachable does not quote an echo request")
        ident, seq = struct.unpack_from("!HH", quoted.payload, 4)
        mtu = struct.unpack_from("!H", ip.payload, 6)[0] if code == ICMP_FRAG_NEEDED else None
        return IcmpReply(kind, code, ip.src, ident, seq, mtu, quoted.total_length)
    raise ValueError(f"ICMP type {kind} is neither an echo reply nor an unreachable")


def dhcp_discover(mac: bytes, xid: int) -> bytes:
    """A BOOTP request with DHCP message type DISCOVER, asking for a broadcast answer (we have no address)."""
    bootp = _BOOTP.pack(1, 1, 6, 0, xid, 0, 0x8000, b"\x00" * 4, b"\x00" * 4, b"\x00" * 4, b"\x00" * 4,
                        mac.ljust(16, b"\x00"), b"", b"")
    return bootp + DHCP_MAGIC + bytes([53, 1, DHCP_DISCOVER, 255])


# Routers (option 3) and DNS servers (option 6) kept per offer: enough to show what a server hands out, and a
# forged option listing 63 addresses costs no more than this.
MAX_OPTION_ADDRESSES = 4


@dataclass(frozen=True)
class DhcpOffer:
    message_type: int | None
    your_address: str
    server_id: str | None
    routers: tuple[str, ...] = ()  # option 3, in the server's order
    dns_servers: tuple[str, ...] = ()  # option 6
    relay: str | None = None  # giaddr: the relay agent that forwarded the server's answer, if one did


def parse_dhcp_reply(payload: bytes, xid: int) -> DhcpOffer:
    """A BOOTP reply to transaction `xid` (a UDP payload from port 67); ValueError for anything else."""
    if len(payload) < _BOOTP.size + 4:
        raise ValueError("too short for BOOTP")
    op, _, _, _, their_xid, _, _, _, yiaddr, _, giaddr, _, _, _ = _BOOTP.unpack_from(payload)
    if op != 2 or their_xid != xid:
        raise ValueError("not a reply to this transaction")
    if payload[_BOOTP.size:_BOOTP.size + 4] != DHCP_MAGIC:
        raise ValueError("no DHCP magic cookie")
    options = _dhcp_options(payload[_BOOTP.size + 4:])
    message_type = options.get(53, b"")
    server = options.get(54, b"")
    return DhcpOffer(message_type[0] if len(message_type) == 1 else None, socket.inet_ntoa(yiaddr),
                     socket.inet_ntoa(server) if len(server) == 4 else None,
                     _addresses(options.get(3, b"")), _addresses(options.get(6, b"")),
                     socket.inet_ntoa(giaddr) if giaddr != b"\x00" * 4 else None)


def _addresses(value: bytes) -> tuple[str, ...]:
    """An option holding IPv4 addresses; one whose length is not a multiple of 4 is malformed and reads as none."""
    if len(value) % 4:
        return ()
    count = min(len(value) // 4, MAX_OPTION_ADDRESSES)
    return tuple(socket.inet_ntoa(value[i * 4:i * 4 + 4]) for i in range(count))


def _dhcp_options(data: bytes) -> dict[int, bytes]:
    options: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == 255:
            break
        if code == 0:  # pad
            i += 1
            continue
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            raise ValueError("a DHCP option runs past the end of the packet")
        options.setdefault(code, data[i + 2:i + 2 + data[i + 1]])
        i += 2 + data[i + 1]
    return options
