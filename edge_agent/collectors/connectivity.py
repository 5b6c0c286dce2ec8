"""Connectivity to the gateway and the DNS resolvers, read through a ConnectivityBackend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from edge_agent.model import Sample


@dataclass(frozen=True)
class GatewayProbe:
    address: str
    sent: int
    received: int
    rtt_ms_median: float | None
    jitter_ms: float | None

    @property
    def loss_pct(self) -> float:
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 100.0


@dataclass(frozen=True)
class DnsProbe:
    resolver: str
    ok: bool
    latency_ms: float | None
    # "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "timeout", ...
    rcode: str


@dataclass(frozen=True)
class ConnectivityStatus:
    gateway: GatewayProbe
    dns: tuple[DnsProbe, ...]


class ConnectivityBackend(Protocol):
    def probe(self) -> ConnectivityStatus: ...


class ConnectivityCollector:
    name = "connectivity"

    def __init__(self, interval_s: float, backend: ConnectivityBackend):
        self.interval_s = interval_s
        self.backend = backend

    def collect(self, mono: float, ts: float) -> list[Sample]:
        status = self.backend.probe()
        gw = status.gateway
        samples = [
            Sample(
                "connectivity.gateway",
                gw.address,
                {
                    "sent": gw.sent,
                    "received": gw.received,
                    "loss_pct": round(gw.loss_pct, 1),
                    "rtt_ms": gw.rtt_ms_median,
                    "jitter_ms": gw.jitter_ms,
                },
                mono,
                ts,
            )
        ]
        for dns in status.dns:
            metrics = {"ok": dns.ok, "latency_ms": dns.latency_ms, "rcode": dns.rcode}
            samples.append(Sample("connectivity.dns", dns.resolver, metrics, mono, ts))
        return samples
