"""Path MTU: echoes of several sizes that no one may fragment, to one target, over IPv4 or IPv6.

A path with a smaller MTU somewhere should refuse an oversized packet with an error naming its MTU (IPv4: ICMP
"fragmentation needed" to a packet with Don't Fragment; IPv6, where routers never fragment: ICMPv6 Packet Too
Big); a black hole drops the packet and the error, so small packets (pings, DNS, TCP handshakes) pass while
full-size ones (downloads, TLS certificates, large MQTT messages) vanish. Each check is a handful of packets:
the full local MTU three times (a lost echo is not a black hole), and one each of the smaller sizes real links
have.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from edge_agent.collectors.connectivity import PmtuProbe
from edge_agent.probes.raw_icmp import await_icmp, await_icmp6, icmp6_receiver, icmp_receiver
from edge_agent.probes.wire import ICMP_ECHO_REPLY, ICMP_FRAG_NEEDED, ICMP_UNREACHABLE, icmp_echo
from edge_agent.probes.wire6 import ICMP6_ECHO_REPLY, ICMP6_PACKET_TOO_BIG, IPV6_ICMP6_HEADERS, icmp6_echo

# 1492 PPPoE, 1400 many tunnels and VPNs, 1280 the IPv6 minimum that tunnels fall back to, 576 the IPv4
# minimum; the smallest is the reference: a target that does not answer it tells nothing.
PATH_SIZES = (1492, 1400, 1280, 576)
# IPv6 links carry at least 1280; 1480 is a 6in4 or 6rd tunnel over a 1500 line.
PATH_SIZES_V6 = (1492, 1480, 1400, 1280)
REFERENCE_SIZE = 96
FULL_SIZE_TRIES = 3  # random loss of 15 % loses all three in 0.3 % of checks, and it takes two checks
IP_ICMP_HEADERS = 28
IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3  # set DF, ignore the learned path MTU, never fragment locally
# IPv6: never fragment locally (a too-big send fails with EMSGSIZE), and size packets by the interface, not by
# a path MTU the kernel learned from an earlier Packet Too Big (that cache would hide the hole it came from).
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE = getattr(socket, "IPV6_MTU_DISCOVER", 23), 3
IPV6_DONTFRAG = getattr(socket, "IPV6_DONTFRAG", 62)


def probe_sizes(local_mtu: int, path_sizes: tuple[int, ...] = PATH_SIZES) -> list[int]:
    return sorted({REFERENCE_SIZE, local_mtu, *(size for size in path_sizes if size < local_mtu)})


def interface_mtu(interface: str, sys_class_net: Path = Path("/sys/class/net")) -> int:
    try:
        mtu = int((sys_class_net / interface / "mtu").read_text().strip())
    except (OSError, ValueError):
        return 1500
    return mtu if 576 <= mtu <= 65_535 else 1500


def classify(sizes: list[int], answered: dict[int, str]) -> dict[int, str]:
    """Every size probed, with its outcome ("lost" where nothing came back)."""
    return {size: answered.get(size, "lost") for size in sizes}


def echo_schedule(sizes: list[int], local_mtu: int) -> list[int]:
    """The size of each echo in the order sent (its index is its sequence number): the full size thrice."""
    return [size for size in sizes for _ in range(FULL_SIZE_TRIES if size == local_mtu else 1)]


class _Outcomes:
    """What became of each size: an echo answered ("ok") beats a refusal ("too big (mtu N)") for the same size."""

    def __init__(self, sizes: list[int], local_mtu: int):
        self.sizes = sizes
        self.size_of = dict(enumerate(echo_schedule(sizes, local_mtu)))
        self.answered: dict[int, str] = {}
        self.sent_at: dict[int, float] = {}  # seq -> wall clock, as the kernel stamps arrivals
        self.reference_rtt_ms: float | None = None

    def sent(self, seq: int) -> None:
        self.sent_at[seq] = time.time()

    def answer(self, seq: int, arrived: float) -> None:
        self.answered[self.size_of[seq]] = "ok"
        if self.size_of[seq] == self.sizes[0] and seq in self.sent_at and self.reference_rtt_ms is None:
            self.reference_rtt_ms = round(max(0.0, arrived - self.sent_at[seq]) * 1000, 2)

    def refuse(self, seq: int, mtu: int | None) -> None:
        if self.answered.get(self.size_of[seq]) != "ok":
            self.answered[self.size_of[seq]] = f"too big (mtu {mtu})"

    def complete(self) -> bool:
        """Every size has its outcome: a router that refused one size refuses its repeats too."""
        return len(self.answered) == len(self.sizes)

    def probe(self, target: str, local_mtu: int) -> PmtuProbe:
        return PmtuProbe(target, local_mtu, classify(self.sizes, self.answered), self.reference_rtt_ms)


def _send_all(outcomes: _Outcomes, send: Callable[[int, int], None]) -> str | None:
    """Every echo sent; the local error that stopped it (EMSGSIZE: the interface cannot send this size)."""
    try:
        for seq, size in outcomes.size_of.items():
            outcomes.sent(seq)
            send(seq, size)
    except OSError as exc:
        return f"error: {exc.strerror or exc}"
    return None


def pmtu_probe(target: str, local_mtu: int, timeout_s: float) -> PmtuProbe:
    """Echoes with Don't Fragment of each size in probe_sizes() to `target` (IPv4); which came back, which a
    router refused as too big (with the MTU it named), which vanished. Raises ProbePermissionError without
    CAP_NET_RAW."""
    sizes = probe_sizes(local_mtu)
    ident = (os.getpid() + 0x5A5A) & 0xFFFF  # apart from the gateway prober's echoes
    outcomes = _Outcomes(sizes, local_mtu)

    def take(message, arrived: float) -> bool:
        if message.ident != ident or message.seq not in outcomes.size_of:
            return False
        if message.type == ICMP_ECHO_REPLY and message.src == target:
            outcomes.answer(message.seq, arrived)
        elif message.type == ICMP_UNREACHABLE and message.code == ICMP_FRAG_NEEDED:
            outcomes.refuse(message.seq, message.next_hop_mtu)
        return outcomes.complete()

    with icmp_receiver("path MTU probe") as sock:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        error = _send_all(outcomes, lambda seq, size: sock.sendto(
            icmp_echo(ident, seq, b"\x00" * (size - IP_ICMP_HEADERS)), (target, 0)))
        if error is not None:
            return PmtuProbe(target, local_mtu, {size: error for size in sizes})
        await_icmp(sock, timeout_s, take)
    return outcomes.probe(target, local_mtu)


def pmtu6_probe(target: str, local_mtu: int, timeout_s: float, interface: str | None = None) -> PmtuProbe:
    """The IPv6 path MTU check: ICMPv6 echoes of each size in probe_sizes(local_mtu, PATH_SIZES_V6) to `target`,
    never fragmented; which came back, which a router refused with Packet Too Big (and its MTU), which vanished.
    A link-local target is reached through `interface` and reported as "address%interface". Raises
    ProbePermissionError without CAP_NET_RAW, OSError where the kernel has no IPv6."""
    address = ipaddress.IPv6Address(target.split("%", 1)[0])
    scope = socket.if_nametoindex(interface) if address.is_link_local and interface else 0
    shown = f"{address}%{interface}" if scope else str(address)
    sizes = probe_sizes(local_mtu, PATH_SIZES_V6)
    ident = (os.getpid() + 0x6A6A) & 0xFFFF  # apart from the IPv4 check's echoes
    outcomes = _Outcomes(sizes, local_mtu)

    def take(message, arrived: float) -> bool:
        if message.ident != ident or message.seq not in outcomes.size_of:
            return False
        if message.type == ICMP6_ECHO_REPLY and message.src == str(address):
            outcomes.answer(message.seq, arrived)
        elif message.type == ICMP6_PACKET_TOO_BIG and message.quoted_dst == str(address):
            outcomes.refuse(message.seq, message.mtu)
        return outcomes.complete()

    with icmp6_receiver("IPv6 path MTU probe") as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
        error = _send_all(outcomes, lambda seq, size: sock.sendto(
            icmp6_echo(ident, seq, b"\x00" * (size - IPV6_ICMP6_HEADERS)), (str(address), 0, 0, scope)))
        if error is not None:
            return PmtuProbe(shown, local_mtu, {size: error for size in sizes})
        await_icmp6(sock, timeout_s, take)
    return outcomes.probe(shown, local_mtu)
