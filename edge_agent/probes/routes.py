"""Where the gateway and the resolvers are: pure parsers of /proc/net/route and resolv.conf."""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultRoute:
    interface: str
    gateway: str


def parse_default_route(proc_net_route: str) -> DefaultRoute | None:
    """The default route with the lowest metric, or None. Addresses in the file are little-endian hex."""
    best: tuple[int, DefaultRoute] | None = None
    for line in proc_net_route.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, destination, gateway, flags, metric = fields[0], fields[1], fields[2], fields[3], fields[6]
        try:
            is_up_gateway = int(flags, 16) & 0x3 == 0x3  # RTF_UP | RTF_GATEWAY
            if destination != "00000000" or not is_up_gateway:
                continue
            address = socket.inet_ntoa(struct.pack("<I", int(gateway, 16)))
            rank = int(metric)
        except ValueError:
            continue
        if best is None or rank < best[0]:
            best = (rank, DefaultRoute(iface, address))
    return best[1] if best else None


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
