"""Where the gateway and the resolvers are: pure parsers of /proc/net/route and resolv.conf."""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

RTF_UP, RTF_GATEWAY = 0x1, 0x2


@dataclass(frozen=True)
class DefaultRoute:
    interface: str
    # None: a default route with no next hop ("default dev ppp0": PPPoE, WireGuard, a tunnel), where the
    # peer, if the link has one, is the gateway to probe
    gateway: str | None


@dataclass(frozen=True)
class _Route:
    interface: str
    destination: int
    gateway: int
    flags: int
    metric: int
    mask: int


def _routes(proc_net_route: str) -> list[_Route]:
    """The IPv4 routes that are up; lines that do not parse are skipped. Addresses are little-endian hex."""
    routes = []
    for line in proc_net_route.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            route = _Route(fields[0], int(fields[1], 16), int(fields[2], 16), int(fields[3], 16), int(fields[6]),
                           int(fields[7], 16))
        except ValueError:
            continue
        if route.flags & RTF_UP:
            routes.append(route)
    return routes


def parse_default_route(proc_net_route: str) -> DefaultRoute | None:
    """The default route with the lowest metric, or None."""
    defaults = [r for r in _routes(proc_net_route) if r.destination == 0 and r.mask == 0]
    if not defaults:
        return None
    best = min(defaults, key=lambda r: r.metric)
    gateway = socket.inet_ntoa(struct.pack("<I", best.gateway)) if best.flags & RTF_GATEWAY else None
    return DefaultRoute(best.interface, gateway)


def is_on_link(proc_net_route: str, address: str) -> bool:
    """Whether `address` (IPv4) is reached directly, without the gateway: inside a route with no next hop other
    than a default one. Traffic to anything else passes through the gateway."""
    try:
        wanted = struct.unpack("<I", socket.inet_aton(address))[0]
    except OSError:
        return False
    return any(r.mask and not r.flags & RTF_GATEWAY and wanted & r.mask == r.destination & r.mask
               for r in _routes(proc_net_route))


def parse_nameservers(resolv_conf: str) -> list[str]:
    """IPv4/IPv6 `nameserver` entries, in order, skipping anything that is not an address."""
    servers = []
    for line in resolv_conf.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                servers.append(str(ipaddress.ip_address(fields[1].split("%", 1)[0])))
            except ValueError:
                continue
    return servers
