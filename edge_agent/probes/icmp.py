"""Gateway reachability and round-trip time with ICMP echo, on one raw socket reused between rounds."""

from __future__ import annotations

import os
import socket
import statistics
from typing import Any

from edge_agent.collectors.connectivity import GatewayProbe
from edge_agent.probes import ProbePermissionError


def routable(address: str) -> bool:
    """Whether the kernel has a route to `address` (a UDP connect sends nothing but consults the table)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, 9))
        except OSError:
            return False
    return True


class IcmpProber:
    def __init__(self) -> None:
        self._socket: Any = None
        self._ident = os.getpid() & 0xFFFF
        self._seq = 0
        self._routes_stale = False

    def _sock(self) -> Any:
        if self._socket is None:
            from scapy.config import conf

            if self._routes_stale:
                # scapy caches interfaces and routes; a link flap changes both.
                conf.ifaces.reload()
                conf.route.resync()
                self._routes_stale = False
            try:
                self._socket = conf.L3socket()
            except PermissionError as exc:
                raise ProbePermissionError(f"ICMP probe needs CAP_NET_RAW: {exc}") from None
        return self._socket

    def ping(self, address: str, count: int, timeout_s: float) -> GatewayProbe:
        from scapy.layers.inet import ICMP, IP

        if not routable(address):
            # No route (the link went down and took it along): nothing can answer. scapy's sr() can hang without
            # a route, so it is not asked; its cached routes are refreshed once the route is back.
            self.close()
            self._routes_stale = True
            return GatewayProbe(address, sent=count, received=0, rtt_ms_median=None, jitter_ms=None)
        queries = []
        for _ in range(count):
            self._seq = (self._seq + 1) & 0xFFFF
            queries.append(IP(dst=address) / ICMP(id=self._ident, seq=self._seq))
        sock = self._sock()
        try:
            answered, _ = sock.sr(queries, timeout=timeout_s, verbose=0)
        except (OSError, ValueError):
            # Link down or no route: nothing can reach the gateway, which is what this probe measures. scapy
            # closes its socket on some of these errors (ValueError on the -1 descriptor): start afresh.
            self.close()
            self._routes_stale = True
            answered = []
        # RTT from the kernel's packet timestamps, not from Python's wall clock around sr().
        rtts = sorted(round((answer.time - query.sent_time) * 1000, 3) for query, answer in answered)
        return GatewayProbe(
            address=address,
            sent=count,
            received=len(rtts),
            rtt_ms_median=round(statistics.median(rtts), 3) if rtts else None,
            jitter_ms=round(statistics.pstdev(rtts), 3) if len(rtts) > 1 else None,
        )

    def use_neighbour(self, address: str, mac: str | None) -> None:
        """Send this round's echoes to `mac` (just confirmed by ARP); None: let scapy resolve afresh.

        scapy keeps its own ARP cache apart from the kernel's; left alone it would go on pinging whichever MAC
        answered first minutes ago (a spoofer that has left, a replaced router), and call the gateway silent.
        """
        import scapy.layers.l2  # noqa: F401 — creates the cache (conf.netcache.arp_cache) on first import
        from scapy.config import conf

        if mac is None:
            conf.netcache.arp_cache.pop(address, None)
        else:
            conf.netcache.arp_cache[address] = mac

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            except OSError:
                pass  # already broken: it is being replaced anyway
            self._socket = None
