"""DNS resolution against one resolver, over an ordinary UDP socket: no privilege needed."""

from __future__ import annotations

import random
import socket
import time
from typing import Any

from edge_agent.collectors.connectivity import DnsProbe

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns_probe(resolver: str, name: str, timeout_s: float, port: int = 53) -> DnsProbe:
    """Ask `resolver` for the A record of `name`. ok means NOERROR with at least one answer.

    Like a stub resolver, a query unanswered after half the timeout is sent again (with a new id): one lost
    datagram on a lossy line is not a failing resolver. The latency is that of the query that was answered.
    """
    import scapy.layers.dns  # noqa: F401 — imported before the clock starts: a first import takes ~0.2 s

    family = socket.AF_INET6 if ":" in resolver else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        start = time.monotonic()
        sent: dict[int, float] = {}  # query id -> when it was sent
        answer = None
        try:
            sock.connect((resolver, port))  # connected: ICMP port-unreachable surfaces as ConnectionRefusedError
            for attempt_ends in (start + timeout_s / 2, start + timeout_s):
                _send_query(sock, name, sent)
                answer = _await_reply(sock, sent, attempt_ends)
                if answer is not None:
                    break
        except ConnectionRefusedError:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode="unreachable")
        except OSError as exc:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode=f"error: {exc.strerror or exc}")
    if answer is None:
        return DnsProbe(resolver, ok=False, latency_ms=None, rcode="timeout")
    reply, answered_at = answer
    latency_ms = round((answered_at - sent[reply.id]) * 1000, 2)
    rcode = RCODES.get(reply.rcode, f"RCODE{reply.rcode}")
    ok = rcode == "NOERROR" and (reply.ancount or 0) > 0
    return DnsProbe(resolver, ok=ok, latency_ms=latency_ms, rcode=rcode if ok or rcode != "NOERROR" else "NODATA")


def _send_query(sock: socket.socket, name: str, sent: dict[int, float]) -> None:
    from scapy.layers.dns import DNS, DNSQR

    query_id = random.randrange(1, 0x10000)
    while query_id in sent:
        query_id = random.randrange(1, 0x10000)
    sent[query_id] = time.monotonic()
    sock.send(bytes(DNS(id=query_id, rd=1, qd=DNSQR(qname=name, qtype="A"))))


def _await_reply(sock: socket.socket, sent: dict[int, float], until: float) -> tuple[Any, float] | None:
    """(reply, when) for the first reply to any query sent, or None at `until`."""
    from scapy.layers.dns import DNS

    while (remaining := until - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return None
        answered_at = time.monotonic()
        reply = DNS(data)
        if reply.id in sent:
            return reply, answered_at
    return None
