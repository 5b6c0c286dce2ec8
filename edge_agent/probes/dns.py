"""DNS resolution against one resolver, over an ordinary UDP socket: no privilege needed."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from edge_agent.collectors.connectivity import DnsComparison, DnsProbe
from edge_agent.probes.certificates import CertificateMemory, vouch_disagreements
from edge_agent.probes.dns_wire import encode_query, parse_reply

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
QTYPES = {"A": 1, "AAAA": 28}
# Once one family is answered, the other gets this much longer (or a few times the first answer's latency):
# a resolver that never answers AAAA must not make every round last the full timeout.
SECOND_ANSWER_GRACE_S = 0.1


@dataclass
class _Query:
    qtype: str
    sent: dict[int, float] = field(default_factory=dict)  # query id -> when it was sent
    reply: Any = None
    answered_at: float | None = None

    @property
    def latency_ms(self) -> float | None:
        if self.reply is None or self.answered_at is None:
            return None
        return round((self.answered_at - self.sent[self.reply.id]) * 1000, 2)

    def addresses(self) -> list[str]:
        if self.reply is None:
            return []
        return self.reply.addresses(QTYPES[self.qtype])

    def rcode(self) -> str:
        return RCODES.get(self.reply.rcode, f"RCODE{self.reply.rcode}")


def dns_probe(resolver: str, name: str, timeout_s: float, port: int = 53) -> DnsProbe:
    """Ask `resolver` for the A and AAAA records of `name`. ok means an answer with at least one address; the
    addresses are returned so that the detector can tell a lying resolver (a sinkhole answer is NOERROR too).

    Like a stub resolver, a query unanswered after half the timeout is sent again (with a new id): one lost
    datagram on a lossy line is not a failing resolver. The latency is that of the first query answered.
    """
    family = socket.AF_INET6 if ":" in resolver else socket.AF_INET
    queries = {qtype: _Query(qtype) for qtype in QTYPES}
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        start = time.monotonic()
        try:
            sock.connect((resolver, port))  # connected: ICMP port-unreachable surfaces as ConnectionRefusedError
            for attempt_ends in (start + timeout_s / 2, start + timeout_s):
                for query in queries.values():
                    if query.reply is None:
                        _send_query(sock, name, query)
                _await_replies(sock, queries, attempt_ends)
                if _settled(queries) is not None:
                    break
        except ConnectionRefusedError:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode="unreachable", name=name)
        except OSError as exc:
            return DnsProbe(resolver, ok=False, latency_ms=None, rcode=f"error: {exc.strerror or exc}", name=name)
    return _result(resolver, name, queries["A"], queries["AAAA"])


def _result(resolver: str, name: str, a: _Query, aaaa: _Query) -> DnsProbe:
    answered = [q for q in (a, aaaa) if q.reply is not None]
    if not answered:
        return DnsProbe(resolver, ok=False, latency_ms=None, rcode="timeout", name=name)
    latency_ms = min(q.latency_ms for q in answered if q.latency_ms is not None)
    addresses = tuple(dict.fromkeys([*a.addresses(), *aaaa.addresses()]))
    if addresses:
        # An address in either family is an answer: some resolvers say NXDOMAIN to the family they lack.
        return DnsProbe(resolver, ok=True, latency_ms=latency_ms, rcode="NOERROR", answers=addresses, name=name)
    if a.reply is None:
        # Only the AAAA query was answered, without an address: some resolvers say NXDOMAIN or SERVFAIL to the
        # family a name lacks, so that decides nothing, and the A query went unanswered (lost, on a lossy line).
        return DnsProbe(resolver, ok=False, latency_ms=None, rcode="timeout", name=name)
    rcode = a.rcode()
    return DnsProbe(resolver, ok=False, latency_ms=latency_ms, rcode="NODATA" if rcode == "NOERROR" else rcode,
                    name=name)


def _send_query(sock: socket.socket, name: str, query: _Query) -> None:
    query_id = random.randrange(1, 0x10000)
    while query_id in query.sent:
        query_id = random.randrange(1, 0x10000)
    query.sent[query_id] = time.monotonic()
    sock.send(encode_query(query_id, name, QTYPES[query.qtype]))


def _await_replies(sock: socket.socket, queries: dict[str, _Query], until: float) -> None:
    """Read replies until every query is answered, `until`, or the grace after the first answer runs out."""
    while (remaining := _deadline(queries, until) - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return
        answered_at = time.monotonic()
        try:
            reply = parse_reply(data)
        except ValueError:  # a garbled datagram is no answer
            continue
        for query in queries.values():
            if query.reply is None and reply.id in query.sent:
                query.reply, query.answered_at = reply, answered_at
        if all(q.reply is not None for q in queries.values()):
            return


def _settled(queries: dict[str, _Query]) -> _Query | None:
    """The answer that decides the probe: the A answer, or an AAAA answer with addresses. An AAAA answer
    without any decides nothing (some resolvers say NXDOMAIN to AAAA of a name that has an A record)."""
    a, aaaa = queries["A"], queries["AAAA"]
    if a.reply is not None:
        return a
    return aaaa if aaaa.addresses() else None


def _deadline(queries: dict[str, _Query], until: float) -> float:
    settled = _settled(queries)
    if settled is None or settled.answered_at is None:
        return until
    grace = max(SECOND_ANSWER_GRACE_S, 4 * (settled.latency_ms or 0) / 1000)
    return min(until, settled.answered_at + grace)


def compare_resolvers(resolvers: Sequence[str], references: Sequence[str], names: Sequence[str], timeout_s: float,
                      port: int = 53, certificates: CertificateMemory | None = None) -> tuple[DnsComparison, ...]:
    """Each name asked of every resolver and reference resolver at the same moment (a CDN's answers rotate:
    asked minutes apart, honest resolvers differ), for the detector to compare; where a host resolver's answer
    shares no address with the others', whether it holds the name's certificate (with `certificates`)."""
    sources = list(dict.fromkeys([*resolvers, *references]))
    if len(sources) < 2 or not names:
        return ()
    jobs = [(name, source) for name in names for source in sources]
    with ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="dns-compare") as pool:
        probes = list(pool.map(lambda job: dns_probe(job[1], job[0], timeout_s, port), jobs))
    comparisons = []
    for name in names:
        asked = [p for p in probes if p.name == name]
        answers = {p.resolver: p.answers for p in asked if p.answers}
        vouched = vouch_disagreements(name, answers, [r for r in resolvers if r in answers], certificates) \
            if certificates is not None else {}
        comparisons.append(DnsComparison(name, answers, {p.resolver: p.rcode for p in asked if not p.answers},
                                         tuple(r for r in dict.fromkeys(references) if r not in resolvers), vouched))
    return tuple(comparisons)
