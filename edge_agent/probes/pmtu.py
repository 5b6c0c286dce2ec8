"""Path MTU: ICMP echoes with Don't Fragment set, of several sizes, to one target.

A path with a smaller MTU somewhere should answer an oversized DF packet with "fragmentation needed" (ICMP 3/4)
naming its MTU; a black hole drops the packet and the ICMP error, so small packets (pings, DNS, TCP
handshakes) pass while full-size ones (downloads, TLS certificates, large MQTT messages) vanish. Each check is a
handful of packets: the full local MTU twice (one lost echo is not a black hole), and one each of the smaller
sizes real links have.
"""

from __future__ import annotations

import os
from pathlib import Path

from edge_agent.collectors.connectivity import PmtuProbe
from edge_agent.probes import ProbePermissionError

# 1492 PPPoE, 1400 many tunnels and VPNs, 1280 the IPv6 minimum that tunnels fall back to, 576 the IPv4
# minimum; the smallest is the reference: a target that does not answer it tells nothing.
PATH_SIZES = (1492, 1400, 1280, 576)
REFERENCE_SIZE = 96
FULL_SIZE_TRIES = 2
IP_ICMP_HEADERS = 28


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
    """One check against `target` (IPv4). Raises ProbePermissionError without CAP_NET_RAW."""
    from scapy.config import conf
    from scapy.layers.inet import ICMP, IP
    from scapy.packet import Raw

    sizes = probe_sizes(local_mtu)
    ident = (os.getpid() + 0x5A5A) & 0xFFFF  # apart from the gateway pinger's echoes
    queries = []
    for seq, size in enumerate(s for s in sizes for _ in range(FULL_SIZE_TRIES if s == local_mtu else 1)):
        payload = b"\x00" * (size - IP_ICMP_HEADERS)
        queries.append(IP(dst=target, flags="DF") / ICMP(id=ident, seq=seq) / Raw(payload))
    try:
        sock = conf.L3socket()
    except PermissionError as exc:
        raise ProbePermissionError(f"path MTU probe needs CAP_NET_RAW: {exc}") from None
    answered: dict[int, str] = {}
    try:
        pairs, _ = sock.sr(queries, timeout=timeout_s, verbose=0)
    except OSError as exc:
        # EMSGSIZE: the local interface itself cannot send this size
        return PmtuProbe(target, local_mtu, {size: f"error: {exc.strerror or exc}" for size in sizes})
    finally:
        sock.close()
    for query, answer in pairs:
        size = len(query)
        icmp = answer.getlayer(ICMP)
        if icmp is None:
            continue
        if icmp.type == 0:
            answered[size] = "ok"
        elif icmp.type == 3 and icmp.code == 4 and answered.get(size) != "ok":
            answered[size] = f"too big (mtu {icmp.nexthopmtu})"
    return PmtuProbe(target, local_mtu, classify(sizes, answered))
