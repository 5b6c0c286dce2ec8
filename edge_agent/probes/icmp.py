"""Gateway reachability and round-trip time with ICMP echo, on raw sockets reused between rounds.

The echoes go out on a packet socket to the MAC this round's ARP confirmed (use_neighbour), never through the
kernel's neighbour cache: a stale entry (a replaced router, a spoofer that has left) would send them to a MAC
nobody has and make a healthy gateway look silent. Without a confirmed MAC they go through the kernel, which
resolves the neighbour itself. Replies come back on a raw ICMP socket (probes/raw_icmp.py).
"""

from __future__ import annotations

import os
import socket
import statistics
import time
from collections.abc import Callable

from edge_agent.collectors.connectivity import GatewayProbe
from edge_agent.probes.arp import interface_address, mac_bytes
from edge_agent.probes.raw_icmp import ETH_P_IP, await_icmp, drain, icmp_receiver, read_routes, route_interface
from edge_agent.probes.wire import ICMP_ECHO_REPLY, PROTO_ICMP, icmp_echo, ipv4


def routable(address: str) -> bool:
    """Whether the kernel has a route to `address` (a UDP connect sends nothing but consults the table)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, 9))
        except OSError:
            return False
    return True


# How long a burst first reads the replies already queued (late ones from the burst before) before it drains.
QUEUED_READ_S = 0.002


class IcmpProber:
    """ICMP echo bursts to the gateway, on raw sockets reused between rounds."""

    def __init__(self, routes: Callable[[], str] = read_routes) -> None:
        self._routes = routes
        self._receiver: socket.socket | None = None
        self._sender: socket.socket | None = None  # a packet socket that only sends (protocol 0 receives nothing)
        self._ident = os.getpid() & 0xFFFF
        self._seq = 0
        self._neighbours: dict[str, str] = {}
        # The last burst's unanswered echoes (seq -> when sent): a reply to one during the next burst is late,
        # not lost; a gateway whose replies only come after the timeout is slow, not unreachable.
        self._unanswered: dict[int, float] = {}

    def use_neighbour(self, address: str, mac: str | None) -> None:
        """Send this round's echoes to `mac` (just confirmed by ARP); None: let the kernel resolve the neighbour."""
        if mac is None:
            self._neighbours.pop(address, None)
        else:
            self._neighbours[address] = mac

    def ping(self, address: str, count: int, timeout_s: float) -> GatewayProbe:
        if not routable(address):
            # No route (the link went down and took it along): nothing can answer.
            self.close()
            return GatewayProbe(address, sent=count, received=0, rtt_ms_median=None, jitter_ms=None)
        sent: dict[int, float] = {}
        rtts: dict[int, float] = {}
        earlier, self._unanswered = self._unanswered, {}
        late: dict[int, float] = {}

        def take(message, arrived: float) -> bool:
            if message.type != ICMP_ECHO_REPLY or message.ident != self._ident or message.src != address:
                return False
            if message.seq in sent and message.seq not in rtts:
                rtts[message.seq] = round((arrived - sent[message.seq]) * 1000, 3)
            elif message.seq in earlier and message.seq not in late:
                late[message.seq] = round((arrived - earlier[message.seq]) * 1000, 3)
            # Done when this burst is all answered; before it is sent, never: every queued late reply is read.
            return bool(sent) and len(rtts) == len(sent)

        receiver = self._socket()  # ProbePermissionError (no CAP_NET_RAW) is the caller's to report, not a loss
        try:
            await_icmp(receiver, QUEUED_READ_S, take)  # late replies already queued
            drain(receiver)
            path = self._path(receiver, address)
            for _ in range(count):
                self._seq = (self._seq + 1) & 0xFFFF
                sent[self._seq] = self._send(receiver, address, self._seq, path)
            await_icmp(receiver, timeout_s, take)
            if rtts and len(rtts) < len(sent) and max(rtts.values()) > timeout_s * 500:
                # Echoes of one burst come back together: when those answered took over half the timeout,
                # the rest are slow, not lost. Half a timeout more for them.
                await_icmp(receiver, timeout_s / 2, take)
        except OSError:
            # Link down or no route between the check and the send: nothing can reach the gateway, which is what
            # this probe measures. Fresh sockets next round.
            self.close()
        self._unanswered = {seq: stamp for seq, stamp in sent.items() if seq not in rtts}
        answered = sorted(rtts.values())
        return GatewayProbe(
            address=address,
            sent=count,
            received=len(answered),
            rtt_ms_median=round(statistics.median(answered), 3) if answered else None,
            jitter_ms=round(statistics.pstdev(answered), 3) if len(answered) > 1 else None,
            late_rtts_ms=tuple(sorted(late.values())),
        )

    def _socket(self) -> socket.socket:
        if self._receiver is None:
            self._receiver = icmp_receiver("ICMP probe")
        return self._receiver

    def _path(self, receiver: socket.socket, address: str) -> tuple[str, str, bytes] | None:
        """(interface, source address, MAC) to send this round's echoes on; None: let the kernel route them (no
        confirmed MAC, or an interface without an IPv4 address)."""
        mac = self._neighbours.get(address)
        if mac is None:
            return None
        try:
            interface = route_interface(self._routes(), address)
        except OSError:
            return None  # no routing table to read: the kernel still knows the way
        if interface is None:
            return None
        source = interface_address(receiver, interface)
        return None if source == "0.0.0.0" else (interface, source, mac_bytes(mac))

    def _send(self, receiver: socket.socket, address: str, seq: int, path: tuple[str, str, bytes] | None) -> float:
        """Send one echo; returns when (wall clock) it left."""
        echo = icmp_echo(self._ident, seq)
        if path is None:
            stamp = time.time()
            receiver.sendto(echo, (address, 0))  # the kernel routes it and resolves the neighbour
            return stamp
        interface, source, mac = path
        if self._sender is None:
            self._sender = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
        packet = ipv4(source, address, PROTO_ICMP, echo, ident=seq)
        stamp = time.time()
        self._sender.sendto(packet, (interface, ETH_P_IP, 0, 0, mac))
        return stamp

    def close(self) -> None:
        for sock in (self._receiver, self._sender):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass  # already broken: it is being replaced anyway
        self._receiver = self._sender = None
