"""Raw ICMP and ICMPv6 sockets for the echo probes (gateway echoes, path-MTU echoes): CAP_NET_RAW, no packet
library.

Replies and "fragmentation needed" errors (ICMPv6: Packet Too Big) arrive on a raw socket that the kernel filters
down to those types (ICMP_FILTER, ICMP6_FILTER) and stamps on arrival (SO_TIMESTAMPNS): a round trip is taken
from the kernel's receive time, not from when Python got round to reading it. Packets are built and parsed by
probes/wire.py and probes/wire6.py.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_agent.probes import ProbePermissionError
from edge_agent.probes.wire import ICMP_ECHO_REPLY, ICMP_UNREACHABLE, parse_icmp
from edge_agent.probes.wire6 import ICMP6_ECHO_REPLY, ICMP6_PACKET_TOO_BIG, parse_icmp6

ETH_P_IP = 0x0800
SOL_RAW, ICMP_FILTER = 255, 1  # a bitmask of ICMP types the kernel drops before they reach the socket
ICMP6_FILTER = 1  # (level IPPROTO_ICMPV6) 256 bits, one per ICMPv6 type: set means dropped
# An ICMPv6 error quotes at most 1280 bytes in all; an echo reply is read only as far as its header. Reading no
# more bounds what one datagram can cost, whatever arrives.
ICMP6_READ_BYTES = 2048
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@qq")


def read_routes() -> str:
    return Path("/proc/net/route").read_text()


def route_interface(routes: str, address: str) -> str | None:
    """The interface of the most specific up route to `address` in /proc/net/route (little-endian hex)."""
    target = struct.unpack("<I", socket.inet_aton(address))[0]
    best: tuple[int, int, str] | None = None  # (prefix length, -metric, interface)
    for line in routes.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            destination, flags, metric, mask = (int(fields[1], 16), int(fields[3], 16), int(fields[6]),
                                                int(fields[7], 16))
        except ValueError:
            continue
        if not flags & 0x1 or target & mask != destination:
            continue
        candidate = (bin(mask).count("1"), -metric, fields[0])
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


def icmp_receiver(what: str) -> socket.socket:
    """A non-blocking raw ICMP socket that sees only echo replies and unreachables, stamped on arrival."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except PermissionError as exc:
        raise ProbePermissionError(f"{what} needs CAP_NET_RAW: {exc}") from None
    dropped = 0xFFFFFFFF & ~((1 << ICMP_ECHO_REPLY) | (1 << ICMP_UNREACHABLE))
    sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", dropped))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    return sock


def icmp6_receiver(what: str) -> socket.socket:
    """A non-blocking raw ICMPv6 socket that sees only echo replies and Packet Too Big, stamped on arrival.
    Raises OSError (EAFNOSUPPORT) on a kernel without IPv6."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    except PermissionError as exc:
        raise ProbePermissionError(f"{what} needs CAP_NET_RAW: {exc}") from None
    blocked = [0xFFFFFFFF] * 8
    for kind in (ICMP6_ECHO_REPLY, ICMP6_PACKET_TOO_BIG):
        blocked[kind >> 5] &= ~(1 << (kind & 31))
    sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("8I", *blocked))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    return sock


def arrival_time(ancdata: list) -> float:
    """The kernel's receive time of a datagram (wall clock), or now when the stamp is missing."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return seconds + nanoseconds / 1e9
    return time.time()


def drain(sock: socket.socket) -> None:
    while True:
        try:
            sock.recv(65535)
        except BlockingIOError:
            return


def await_datagrams(sock: socket.socket, timeout_s: float, take: Callable[[bytes, list], bool]) -> None:
    """Hand each datagram and its ancillary data to `take` until `take` says all is in, or the timeout."""
    await_from(sock, timeout_s, lambda data, ancdata, _sender: take(data, ancdata))


def await_from(sock: socket.socket, timeout_s: float, take: Callable[[bytes, list, Any], bool],
               read_bytes: int = 65535) -> None:
    """await_datagrams, with the sender's address too (an ICMPv6 message carries no IP header to read it from);
    at most `read_bytes` of each datagram are read."""
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        if not select.select([sock], [], [], remaining)[0]:
            return
        try:
            data, ancdata, _, sender = sock.recvmsg(read_bytes, 256)
        except BlockingIOError:
            continue
        if take(data, ancdata, sender):
            return


def await_icmp(sock: socket.socket, timeout_s: float, take: Callable[[object, float], bool]) -> None:
    """Hand each parseable ICMP message to `take` with its arrival time until `take` says all is in, or the
    timeout. Messages that are not ICMP replies or errors about echoes are skipped."""

    def parsed(data: bytes, ancdata: list) -> bool:
        try:
            message = parse_icmp(data)
        except ValueError:
            return False
        return take(message, arrival_time(ancdata))

    await_datagrams(sock, timeout_s, parsed)


def await_icmp6(sock: socket.socket, timeout_s: float, take: Callable[[object, float], bool]) -> None:
    """await_icmp for a raw ICMPv6 socket: echo replies and Packet Too Big errors about echoes."""

    def parsed(data: bytes, ancdata: list, sender: Any) -> bool:
        try:
            message = parse_icmp6(data, sender[0])
        except (ValueError, TypeError, IndexError):
            return False
        return take(message, arrival_time(ancdata))

    await_from(sock, timeout_s, parsed, ICMP6_READ_BYTES)
