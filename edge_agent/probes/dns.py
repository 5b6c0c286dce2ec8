"""DNS resolution against one resolver, over an ordinary UDP socket: no privilege needed."""

from __future__ import annotations

import random
import socket
import time

from edge_agent.collectors.connectivity import DnsProbe

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns_probe(resolver: str, name: str, timeout_s: float, port: int = 53) -> DnsProbe:
    """Ask `resolver` for the A record of `name`. ok means NOERROR with at least one answer."""
    from scapy.layers.dns import DNS, DNSQR

    query_id = random.randrange(1, 0xFFFF)
    query = bytes(DNS(id=query_id, rd=1, qd=DNSQR(qname=name, qtype="A")))
    family = socket.AF_INET6 if ":" in resolver else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        start = time.monotonic()
        try:
            sock.connect((resolver, port))  # connected: ICMP port-unreachable surfaces as ConnectionRefusedError
            sock.send(query)
            while True:
                reply = DNS(sock.recv(4096))
                if reply.id == query_id:
                    break
        except TimeoutError:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode="timeout")
        except ConnectionRefusedError:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode="unreachable")
        except OSError as exc:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode=f"error: {exc.strerror or exc}")
        latency_ms = round((time.monotonic() - start) * 1000, 2)
    rcode = RCODES.get(reply.rcode, f"RCODE{reply.rcode}")
    ok = rcode == "NOERROR" and (reply.ancount or 0) > 0
    return DnsProbe(resolver, ok=ok, latency_ms=latency_ms, rcode=rcode if ok or rcode != "NOERROR" else "NODATA")
