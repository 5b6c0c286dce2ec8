"""The host's IPv6 routes: a pure parser of /proc/net/ipv6_route, the default route's next hop, and the route to an
address.

Each line: destination and its prefix length, source and its prefix length, next hop, metric, reference count,
use count, flags (all hex) and the device. The kernel lists "unreachable" routes (RTF_REJECT, e.g. the ::/0 on
lo of a host without IPv6 connectivity) beside real ones: they are no route.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

RTF_UP, RTF_GATEWAY, RTF_REJECT = 0x0001, 0x0002, 0x0200


@dataclass(frozen=True)
class Route6:
    destination: ipaddress.IPv6Network
    next_hop: str | None  # None: on-link
    metric: int
    interface: str


def read_ipv6_routes(path: Path = Path("/proc/net/ipv6_route")) -> str:
    """The table as text; empty when the kernel has no IPv6 (the file is missing)."""
    try:
        return path.read_text()
    except OSError:
        return ""


def parse_ipv6_routes(text: str) -> list[Route6]:
    """The usable routes (up, not reject); lines that do not parse are skipped."""
    routes = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 10:
            continue
        try:
            destination = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
            prefix, metric, flags = int(fields[1], 16), int(fields[5], 16), int(fields[8], 16)
            next_hop = ipaddress.IPv6Address(bytes.fromhex(fields[4]))
            network = ipaddress.IPv6Network((destination, prefix), strict=False)
        except ValueError:
            continue
        if not flags & RTF_UP or flags & RTF_REJECT:
            continue
        via = str(next_hop) if flags & RTF_GATEWAY and not next_hop.is_unspecified else None
        routes.append(Route6(network, via, metric, fields[9]))
    return routes


def default_route6(routes: list[Route6]) -> Route6 | None:
    """The default route through a router with the lowest metric, or None (no IPv6 beyond the link)."""
    defaults = [r for r in routes if r.destination.prefixlen == 0 and r.next_hop is not None]
    return min(defaults, key=lambda r: r.metric, default=None)


def route6_to(routes: list[Route6], address: str) -> Route6 | None:
    """The most specific route to `address`, the lowest metric among equals; None when nothing routes it."""
    target = ipaddress.IPv6Address(address.split("%", 1)[0])
    matching = [r for r in routes if target in r.destination]
    return min(matching, key=lambda r: (-r.destination.prefixlen, r.metric), default=None)
