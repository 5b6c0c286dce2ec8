"""Connectivity to the gateway, the DNS resolvers and the uplink, read through a ConnectivityBackend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from edge_agent.model import Sample


class ProbePermissionError(PermissionError):
    """A raw-socket probe without CAP_NET_RAW: the agent must be granted it (systemd AmbientCapabilities=)."""


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
    # "NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "NODATA", "timeout", "unreachable", ...
    rcode: str


@dataclass(frozen=True)
class UplinkProbe:
    endpoint: str  # "host:port"
    ok: bool
    connect_ms: float | None
    error: str | None


@dataclass(frozen=True)
class DhcpProbe:
    interface: str
    ok: bool
    offer_ms: float | None
    server: str | None
    offered_address: str | None
    error: str | None


@dataclass(frozen=True)
class ConnectivityStatus:
    gateway: GatewayProbe | None
    dns: tuple[DnsProbe, ...]
    gateway_mac: str | None = None
    uplinks: tuple[UplinkProbe, ...] = ()
    # probe name -> why it could not run (no CAP_NET_RAW, no default route...): a finding, not a crash
    probe_errors: Mapping[str, str] = field(default_factory=dict)
    # every MAC that answered ARP for the gateway this round: two at once is an address conflict
    gateway_macs: tuple[str, ...] = ()


class ConnectivityBackend(Protocol):
    def probe(self) -> ConnectivityStatus: ...

    def dhcp(self) -> DhcpProbe | None:
        """A DISCOVER→OFFER check, on demand only; None where there is nothing to ask.
        Raises ProbePermissionError without the privilege to send it."""
        ...


class ConnectivityCollector:
    name = "connectivity"

    def __init__(self, interval_s: float, backend: ConnectivityBackend):
        self.interval_s = interval_s
        self.backend = backend

    def collect(self, mono: float, ts: float) -> list[Sample]:
        return status_samples(self.backend.probe(), mono, ts)

    def collect_dhcp(self, mono: float, ts: float) -> list[Sample]:
        try:
            result = self.backend.dhcp()
        except ProbePermissionError as exc:
            return [Sample("connectivity.probe", "dhcp", {"ok": False, "error": str(exc)}, mono, ts)]
        if result is None:
            return []
        metrics = {"ok": result.ok, "offer_ms": result.offer_ms, "server": result.server,
                   "offered_address": result.offered_address, "error": result.error}
        return [Sample("connectivity.dhcp", result.interface, metrics, mono, ts)]


def status_samples(status: ConnectivityStatus, mono: float, ts: float) -> list[Sample]:
    samples = []
    gw = status.gateway
    if gw is not None:
        metrics = {
            "sent": gw.sent,
            "received": gw.received,
            "loss_pct": round(gw.loss_pct, 1),
            "rtt_ms": gw.rtt_ms_median,
            "jitter_ms": gw.jitter_ms,
            "mac": status.gateway_mac,
        }
        if len(status.gateway_macs) > 1:
            metrics["macs"] = list(status.gateway_macs)
        samples.append(Sample("connectivity.gateway", gw.address, metrics, mono, ts))
    for dns in status.dns:
        metrics = {"ok": dns.ok, "latency_ms": dns.latency_ms, "rcode": dns.rcode}
        samples.append(Sample("connectivity.dns", dns.resolver, metrics, mono, ts))
    for uplink in status.uplinks:
        metrics = {"ok": uplink.ok, "connect_ms": uplink.connect_ms, "error": uplink.error}
        samples.append(Sample("connectivity.uplink", uplink.endpoint, metrics, mono, ts))
    for probe, error in status.probe_errors.items():
        samples.append(Sample("connectivity.probe", probe, {"ok": False, "error": error}, mono, ts))
    return samples
