"""Uplink health: how long a TCP connection to each configured endpoint takes (the MQTT broker included).

An attempt the round gave up on at its timeout keeps trying in the background, and the next round says how it
ended: a path slower than the timeout, or a lost SYN answered on its retransmission, is an endpoint that
answers, not one that is down. TCP's own round-trip measure (TCP_INFO) tells those two apart.
"""

from __future__ import annotations

import socket
import struct
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import replace

from edge_agent.collectors.connectivity import UplinkProbe

# How much longer than its round's timeout an attempt may take to connect: Linux resends an unanswered SYN after
# 1 s, so this covers one resend and its answer, or a path that slow.
LATE_CONNECT_S = 2.5
# struct tcp_info (linux/tcp.h): 8 one-byte fields, then 32-bit ones; tcpi_rtt (microseconds) is the 16th.
TCP_INFO_RTT_OFFSET = 8 + 15 * 4


def tcp_connect_probe(endpoint: str, timeout_s: float) -> UplinkProbe:
    host, _, port = endpoint.rpartition(":")
    start = time.monotonic()
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s) as connection:
            elapsed = round((time.monotonic() - start) * 1000, 2)
            rtt = tcp_rtt_ms(connection)
            address = connection.getpeername()[0]
    except TimeoutError:
        return UplinkProbe(endpoint, ok=False, connect_ms=None, error="timeout")
    except OSError as exc:
        return UplinkProbe(endpoint, ok=False, connect_ms=None, error=exc.strerror or str(exc))
    return UplinkProbe(endpoint, ok=True, connect_ms=elapsed, error=None, rtt_ms=rtt, address=address)


def tcp_rtt_ms(connection: socket.socket) -> float | None:
    """The kernel's round-trip time for a connection just made (Linux; None elsewhere). With TCP timestamps it
    is measured even when the SYN had to be resent, so it stays the path's time, not the wait for the resend."""
    try:
        info = connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_RTT_OFFSET + 4)
        (rtt_us,) = struct.unpack_from("I", info, TCP_INFO_RTT_OFFSET)
    except (AttributeError, OSError, struct.error):
        return None
    return round(rtt_us / 1000, 2) if rtt_us else None


class UplinkAttempts:
    """One connection attempt per endpoint and round, each allowed LATE_CONNECT_S past the round's timeout.

    A round reports an attempt still connecting at its deadline as a timeout and keeps it; the next round
    reports whether it connected since (late_connect_ms). Attempts run on their own threads, so a dead endpoint's
    waits never hold up the gateway and DNS probes."""

    def __init__(self, endpoints: list[str]):
        self.endpoints = endpoints
        # Up to four attempts per endpoint may be waiting at 1 s rounds: this round's and the late ones.
        self._pool = ThreadPoolExecutor(max_workers=max(1, 4 * len(endpoints)), thread_name_prefix="uplink")
        self._pending: dict[str, Future] = {}

    def start(self, timeout_s: float) -> dict[str, Future]:
        return {e: self._pool.submit(tcp_connect_probe, e, timeout_s + LATE_CONNECT_S) for e in self.endpoints}

    def collect(self, jobs: dict[str, Future], deadline: float) -> list[UplinkProbe]:
        """This round's results once each attempt ended or the deadline (monotonic) passed."""
        wait_for_futures(jobs.values(), timeout=max(0.0, deadline - time.monotonic()))
        results = []
        for endpoint, job in jobs.items():
            earlier = self._pending.pop(endpoint, None)
            if job.done():
                probe = job.result()
            else:
                self._pending[endpoint] = job
                probe = UplinkProbe(endpoint, ok=False, connect_ms=None, error="timeout")
            if earlier is not None and earlier.done() and earlier.result().ok:
                late = earlier.result()
                probe = replace(probe, late_connect_ms=late.connect_ms, late_rtt_ms=late.rtt_ms)
            results.append(probe)
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
