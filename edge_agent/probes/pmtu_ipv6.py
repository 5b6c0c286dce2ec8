"""Which IPv6 paths the path-MTU check probes: the IPv6 gateway (the default route's next hop) and the uplink
hosts' and configured targets' IPv6 addresses that the host has a route to. A host without IPv6 is told once
and not probed: no IPv6 is a configuration, not a fault.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edge_agent.collectors.connectivity import PmtuProbe
from edge_agent.probes.pmtu import interface_mtu, pmtu6_probe
from edge_agent.probes.routes6 import default_route6, parse_ipv6_routes, read_ipv6_routes, route6_to

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ipv6Target:
    address: str
    interface: str  # where the route to it leaves: its MTU is the full size probed


def resolve_ipv6(host: str) -> str | None:
    """An IPv6 literal as is, else the host's first AAAA address; None for IPv4 or a name without one."""
    try:
        return str(ipaddress.IPv6Address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        ipaddress.IPv4Address(host)
        return None
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET6, socket.SOCK_DGRAM)
    except (OSError, UnicodeError):
        return None
    return str(infos[0][4][0]).split("%", 1)[0] if infos else None


def ipv6_targets(routes_text: str, addresses: Sequence[str | None]) -> list[Ipv6Target]:
    """The gateway first, then each address with a route to it, each once; empty when the host has no IPv6
    route beyond its links and none of the addresses is on one."""
    routes = parse_ipv6_routes(routes_text)
    targets: dict[str, Ipv6Target] = {}
    gateway = default_route6(routes)
    if gateway is not None and gateway.next_hop is not None:
        targets[gateway.next_hop] = Ipv6Target(gateway.next_hop, gateway.interface)
    for address in addresses:
        if address is None or address in targets:
            continue
        route = route6_to(routes, address)
        if route is not None and not ipaddress.IPv6Address(address).is_link_local:
            targets[address] = Ipv6Target(address, route.interface)
    return list(targets.values())


class Ipv6PathMtu:
    """The IPv6 half of the background path-MTU check."""

    def __init__(self, routes: Callable[[], str] = read_ipv6_routes,
                 resolve: Callable[[str], str | None] = resolve_ipv6,
                 probe: Callable[..., PmtuProbe] = pmtu6_probe,
                 mtu_of: Callable[[str], int] = interface_mtu):
        self._routes, self._resolve, self._probe, self._mtu_of = routes, resolve, probe, mtu_of
        self._absent_told = False

    def check(self, uplink_hosts: Sequence[str], configured: Sequence[str], timeout_s: float
              ) -> tuple[PmtuProbe, ...]:
        addresses = [*(self._resolve(h) for h in uplink_hosts), *(a for a in configured if ":" in a)]
        targets = ipv6_targets(self._routes(), addresses)
        if not targets:
            return self._absent("the host has no IPv6 route")
        try:
            probes = tuple(self._probe(t.address, self._mtu_of(t.interface), timeout_s, t.interface)
                           for t in targets)
        except OSError as exc:
            if isinstance(exc, PermissionError):
                raise  # no CAP_NET_RAW: reported like the IPv4 check's
            return self._absent(f"IPv6 cannot be used ({exc.strerror or exc})")
        self._absent_told = False
        return probes

    def _absent(self, why: str) -> tuple[PmtuProbe, ...]:
        if not self._absent_told:
            log.info("the IPv6 path MTU is not checked: %s", why)
            self._absent_told = True
        return ()
