"""The IPv6 gateway: ICMPv6 echo to the default router, for a host with no IPv4 default route (IPv6-only).

The router is usually a link-local address, reached through the route's interface and reported as
"address%interface". Neighbour discovery is the kernel's: IPv6 has no ARP to watch.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import statistics
import time

from edge_agent.collectors.connectivity import GatewayProbe
from edge_agent.probes.raw_icmp import await_icmp6, icmp6_receiver
from edge_agent.probes.wire6 import ICMP6_ECHO_REPLY, icmp6_echo

PAYLOAD = b"edge-agent gateway"


def ping6(router: str, interface: str, count: int, timeout_s: float) -> GatewayProbe:
    """`count` echoes to `router`, answered within `timeout_s` or lost. Raises ProbePermissionError without
    CAP_NET_RAW; a send the kernel refuses (no route, link down) leaves that echo unanswered."""
    address = ipaddress.IPv6Address(router.split("%", 1)[0])
    scope = socket.if_nametoindex(interface) if address.is_link_local else 0
    shown = f"{address}%{interface}" if scope else str(address)
    ident = (os.getpid() + 0x3636) & 0xFFFF  # apart from the path-MTU check's echoes
    sent: dict[int, float] = {}
    rtts: dict[int, float] = {}

    def take(message, arrived: float) -> bool:
        if (message.type == ICMP6_ECHO_REPLY and message.ident == ident and message.src == str(address)
                and message.seq in sent and message.seq not in rtts):
            rtts[message.seq] = round((arrived - sent[message.seq]) * 1000, 3)
        return len(rtts) == len(sent)

    with icmp6_receiver("IPv6 gateway probe") as sock:
        for seq in range(1, count + 1):
            try:
                sock.sendto(icmp6_echo(ident, seq, PAYLOAD), (str(address), 0, 0, scope))
            except OSError:
                break  # nothing to send it through: every echo of this round is unanswered
            sent[seq] = time.time()  # arrivals are the kernel's wall-clock stamps
        if sent:
            await_icmp6(sock, timeout_s, take)
    answered = sorted(rtts.values())
    return GatewayProbe(shown, count, len(answered),
                        round(statistics.median(answered), 3) if answered else None,
                        round(statistics.pstdev(answered), 3) if len(answered) > 1 else None)
