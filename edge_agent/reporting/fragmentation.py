"""Whether routers may fragment what one TCP socket sends (IPv4 only): the agent's way around a path-MTU black
hole on its own connection to the broker.

Linux TCP sends with Don't Fragment set (IP_PMTUDISC_WANT) and learns the path MTU from ICMP "fragmentation
needed". On a path that drops that ICMP, every segment larger than the narrowest hop vanishes and the connection
stalls until keepalive gives up. Without Don't Fragment (IP_PMTUDISC_DONT) the narrow hop fragments the segment
instead, and it arrives. The option may be changed on a connected socket: it applies from the next packet on,
retransmissions of the stalled segments included. IPv6 routers never fragment, so an IPv6 socket is left as is.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

# <linux/in.h>: the socket module does not name them all.
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DONT = getattr(socket, "IP_PMTUDISC_DONT", 0)


def path_mtu_mode(sock: Any) -> int | None:
    """The socket's IP_MTU_DISCOVER mode; None for a socket that is not IPv4 TCP/UDP or cannot say."""
    try:
        if sock.family != socket.AF_INET:
            return None
        return sock.getsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER)
    except (OSError, AttributeError):
        return None


def set_path_mtu_mode(sock: Any, mode: int) -> bool:
    """Set IP_MTU_DISCOVER on an IPv4 socket; False (and logged) when it is not one or the kernel refuses."""
    try:
        if sock.family != socket.AF_INET:
            return False
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, mode)
        return True
    except (OSError, AttributeError) as exc:
        log.warning("cannot change the path-MTU mode of the broker connection: %s", exc)
        return False
