"""Gateway reachability and round-trip time with ICMP echo, on one raw socket reused between rounds."""

from __future__ import annotations

import os
import statistics
from typing import Any

from edge_agent.collectors.connectivity import GatewayProbe
from edge_agent.probes import ProbePermissionError


class IcmpProber:
    def __init__(self) -> None:
        self._socket: Any = None
        self._ident = os.getpid() & 0xFFFF
        self._seq = 0

    def _sock(self) -> Any:
        if self._socket is None:
            from scapy.config import conf

            try:
                self._socket = conf.L3socket()
            except PermissionError as exc:
                raise ProbePermissionError(f"ICMP probe needs CAP_NET_RAW: {exc}") from None
        return self._socket

    def ping(self, address: str, count: int, timeout_s: float) -> GatewayProbe:
        from scapy.layers.inet import ICMP, IP

        queries = []
        for _ in range(count):
            self._seq = (self._seq + 1) & 0xFFFF
            queries.append(IP(dst=address) / ICMP(id=self._ident, seq=self._seq))
        try:
            answered, _ = self._sock().sr(queries, timeout=timeout_s, verbose=0)
        except OSError:
            # The socket may be dead after a link flap or a namespace change: start afresh next round.
            self.close()
            raise
        # RTT from the kernel's packet timestamps, not from Python's wall clock around sr().
        rtts = sorted(round((answer.time - query.sent_time) * 1000, 3) for query, answer in answered)
        return GatewayProbe(
            address=address,
            sent=count,
            received=len(rtts),
            rtt_ms_median=round(statistics.median(rtts), 3) if rtts else None,
            jitter_ms=round(statistics.pstdev(rtts), 3) if len(rtts) > 1 else None,
        )

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
