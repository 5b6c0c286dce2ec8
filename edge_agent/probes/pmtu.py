"""Path MTU: ICMP echoes with Don't Fragment set, of several sizes, to one target.

A path with a smaller MTU somewhere should answer an oversized DF packet with "fragmentation needed" (ICMP 3/4)
naming its MTU; a black hole drops the packet and the ICMP error, so small packets (pings, DNS, TCP
handshakes) pass while full-size ones (downloads, TLS certificates, large MQTT messages) vanish. Each check is a
handful of packets: the full local MTU three times (a lost echo is not a black hole), and one each of the smaller
sizes real links have.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from edge_agent.collectors.connectivity import PmtuProbe
from edge_agent.probes.raw_icmp import await_icmp, icmp_receiver
from edge_agent.probes.wire import ICMP_ECHO_REPLY, ICMP_FRAG_NEEDED, ICMP_UNREACHABLE, icmp_echo

# 1492 PPPoE, 1400 many tunnels and VPNs, 1280 the IPv6 minimum that tunnels fall back to, 576 the IPv4
# minimum; the smallest is the reference: a target that does not answer it tells nothing.
PATH_SIZES = (1492, 1400, 1280, 576)
REFERENCE_SIZE = 96
FULL_SIZE_TRIES = 3  # random loss of 15 % loses all three in 0.3 % of checks, and it takes two checks
IP_ICMP_HEADERS = 28
IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3  # set DF, ignore the learned path MTU, never fragment locally


def probe_sizes(local_mtu: int) -> list[int]:
    return sorted({REFERENCE_SIZE, local_mtu, *(size for size in PATH_SIZES if size < local_mtu)})


def interface_mtu(interface: str, sys_class_net: Path = Path("/sys/class/net")) -> int:
    try:
        mtu = int((sys_class_net / interface / "mtu").read_text().strip())
    except (OSError, ValueError):
        return 1500
    return mtu if 576 <= mtu <= 65_535 else 1500


def classify(sizes: list[int], answered: dict[int, str]) -> dict[int, str]:
    """Every size probed, with its outcome ("lost" where nothing came back)."""
    return {size: answered.get(size, "lost") for size in sizes}


def pmtu_probe(target: str, local_mtu: int, timeout_s: float) -> PmtuProbe:
    """Echoes with Don't Fragment of each size in probe_sizes() to `target` (IPv4); which came back, which a
    router refused as too big (with the MTU it named), which vanished. Raises ProbePermissionError without
    CAP_NET_RAW."""
    sizes = probe_sizes(local_mtu)
    ident = (os.getpid() + 0x5A5A) & 0xFFFF  # apart from the gateway prober's echoes
    size_of: dict[int, int] = {}
    answered: dict[int, str] = {}

    def take(message, arrived: float) -> bool:
        if message.ident != ident or message.seq not in size_of:
            return False
        size = size_of[message.seq]
        if message.type == ICMP_ECHO_REPLY and message.src == target:
            answered[size] = "ok"
        elif message.type == ICMP_UNREACHABLE and message.code == ICMP_FRAG_NEEDED and answered.get(size) != "ok":
            answered[size] = f"too big (mtu {message.next_hop_mtu})"
        return len(answered) == len(sizes) and all(v == "ok" for v in answered.values())

    with icmp_receiver("path MTU probe") as sock:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        try:
            for seq, size in enumerate(s for s in sizes for _ in range(FULL_SIZE_TRIES if s == local_mtu else 1)):
                size_of[seq] = size
                sock.sendto(icmp_echo(ident, seq, b"\x00" * (size - IP_ICMP_HEADERS)), (target, 0))
        except OSError as exc:
            # EMSGSIZE: the local interface itself cannot send this size
            return PmtuProbe(target, local_mtu, {size: f"error: {exc.strerror or exc}" for size in sizes})
        await_icmp(sock, timeout_s, take)
    return PmtuProbe(target, local_mtu, classify(sizes, answered))
