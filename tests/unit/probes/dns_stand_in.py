"""A DNS resolver stand-in on a loopback address: real UDP, answers built with scapy, for the probe tests."""

from __future__ import annotations

import socket
import threading

from scapy.layers.dns import DNS, DNSRR


class Resolver:
    """Answers queries on `address` (port: any free one), ignoring the first `drop` of them (lost on the way).
    `records` maps a query type to the addresses answered (none: NOERROR without an answer); `rcode` answers
    every query with it, `rcodes` the queries of one type; queries of a type in `lose` are never answered (every
    one lost on a lossy line)."""

    def __init__(self, drop: int = 0, answer: bool = True, records: dict | None = None, rcode: int = 0,
                 garbage_first: bool = False, address: str = "127.0.0.1", port: int = 0,
                 rcodes: dict[str, int] | None = None, lose: tuple[str, ...] = ()):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.port = self.sock.getsockname()[1]
        self.drop, self.answer, self.queries = drop, answer, 0
        self.records = records if records is not None else {"A": ["192.0.2.1"]}
        self.rcode, self.garbage_first = rcode, garbage_first
        self.rcodes, self.lose = rcodes or {}, lose
        self.by_type: dict[str, int] = {}
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            self.queries += 1
            query = DNS(data)
            qtype = {1: "A", 28: "AAAA"}[query.qd[0].qtype]
            self.by_type[qtype] = self.by_type.get(qtype, 0) + 1
            if self.queries <= self.drop or not self.answer or qtype in self.lose:
                continue
            if self.garbage_first:
                self.sock.sendto(b"\x01", peer)
            rcode = self.rcodes.get(qtype, self.rcode)
            addresses = [] if rcode else self.records.get(qtype, [])
            answers = [DNSRR(rrname=query.qd[0].qname, type=qtype, rdata=a) for a in addresses]
            reply = DNS(id=query.id, qr=1, rd=1, ra=1, rcode=rcode, qd=query.qd, an=answers)
            self.sock.sendto(bytes(reply), peer)

    def close(self) -> None:
        self.sock.close()
