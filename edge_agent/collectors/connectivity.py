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
    # round trips of the previous burst's echoes whose replies came in during this one, after their timeout
    late_rtts_ms: tuple[float, ...] = ()

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
    # the addresses answered (A and AAAA), judged by the detector: a sinkhole answer is NOERROR too
    answers: tuple[str, ...] = ()
    name: str | None = None  # the name asked for


@dataclass(frozen=True)
class AddressProbe:
    """Who else answers ARP for the host's own address: any MAC here is another device using it."""

    interface: str
    address: str
    macs: tuple[str, ...]


@dataclass(frozen=True)
class UplinkProbe:
    endpoint: str  # "host:port"
    ok: bool
    connect_ms: float | None
    error: str | None
    rtt_ms: float | None = None  # TCP's own round trip for this connection (Linux TCP_INFO)
    address: str | None = None  # the address connected to
    # The previous round's attempt, given up on at its timeout, that connected since: how long it took
    late_connect_ms: float | None = None
    late_rtt_ms: float | None = None


@dataclass(frozen=True)
class DhcpProbe:
    interface: str
    ok: bool
    offer_ms: float | None
    server: str | None
    offered_address: str | None
    error: str | None
    # whether a missing OFFER is a fault: a server answered before, or the host holds a lease (a network of
    # static addresses has no DHCP server to miss)
    server_expected: bool = True
    # every server that answered this DISCOVER, one mapping each (server, macs, sources, offered_address, routers,
    # dns_servers, offers): two or more is a second DHCP server on the segment
    servers: tuple[Mapping[str, object], ...] = ()
    unlisted_offers: int = 0  # offers past the cap on servers listed (a flood of forged OFFERs)
    lease_server: str | None = None  # the server that gave the host its current lease (its lease file says)
    gateway: str | None = None  # the host's default gateway when the DISCOVER went out
    # on demand: no DHCP client holds a lease here and no server has ever answered (likely a static address)
    no_lease: bool = False


@dataclass(frozen=True)
class LeaseState:
    """What the host's DHCP client wrote about its lease on one interface (times are wall clock, seconds)."""

    interface: str
    source: str  # the file it came from
    address: str | None
    obtained_ts: float | None
    renew_ts: float | None
    rebind_ts: float | None
    expire_ts: float | None


@dataclass(frozen=True)
class PmtuProbe:
    """Echoes with Don't Fragment set, of several sizes, to one target: which sizes get through."""

    target: str
    local_mtu: int
    # size -> "ok", "lost" or "too big (mtu N)"
    results: Mapping[int, str]
    reference_rtt_ms: float | None = None  # the smallest echo's round trip: a loaded path shows in it

    @property
    def verdict(self) -> str:
        """"ok", "blackhole" (small echoes answered, full-size ones vanish without a word) or "unknown"."""
        sizes = sorted(self.results)
        if not sizes or self.results[sizes[0]] != "ok":
            return "unknown"  # the target does not answer even small echoes: nothing to judge
        largest = self.results[sizes[-1]]
        if largest == "lost" and not any(r.startswith("too big") for r in self.results.values()):
            return "blackhole"
        return "ok"

    @property
    def largest_ok(self) -> int | None:
        return max((size for size, result in self.results.items() if result == "ok"), default=None)


# What a certificate check of a DNS answer found (probes/certificates.py makes it, the detector reads it): the
# address holds a valid certificate for the name, presents one not valid for it, speaks no TLS on 443, refuses
# the connection, or does not answer in time.
VALID, REJECTED, NO_TLS, REFUSED, NO_ANSWER = "valid", "rejected", "no_tls", "refused", "no_answer"


@dataclass(frozen=True)
class DnsComparison:
    """One public name asked of every resolver at once (the host's and the reference resolvers), to compare."""

    name: str
    answers: Mapping[str, tuple[str, ...]]  # resolver -> the addresses it answered (those that answered some)
    failed: Mapping[str, str]  # resolver -> why it gave no address (rcode, timeout)
    references: tuple[str, ...] = ()  # which of them the host does not use: compared with, never judged
    # host resolver -> whether its answer, sharing no address with the others', holds the name's certificate
    # (probes/certificates.py: address, control, control_result, result, detail)
    certificates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


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
    # the MACs the host's own neighbour table held for the gateway during the round: what its DNS and TCP
    # traffic was sent to (a spoofer's MAC here explains their failures)
    neighbour_macs: tuple[str, ...] = ()
    # background checks that finished since the last round (they run at their own, slower pace)
    dhcp: DhcpProbe | None = None
    leases: tuple[LeaseState, ...] = ()
    pmtu: tuple[PmtuProbe, ...] = ()
    dns_comparisons: tuple[DnsComparison, ...] = ()
    # endpoints connected to this round through the gateway: it forwards, whatever it says to pings
    forwarded: int = 0
    own_address: AddressProbe | None = None  # a background check of the host's own address, when one finished


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

    def collect_settled(self, mono: float, ts: float) -> list[Sample]:
        """One round for a diagnosis: connections slower than the probe timeout are waited for, where the
        backend can (a one-off round has no next one to report them late)."""
        settled = getattr(self.backend, "probe_settled", None)
        return status_samples(settled() if settled else self.backend.probe(), mono, ts)

    def collect_pmtu(self, mono: float, ts: float) -> list[Sample]:
        """A path-MTU check now (diagnose), where the backend has one."""
        check = getattr(self.backend, "pmtu", None)
        if check is None:
            return []
        try:
            probes = check()
        except ProbePermissionError as exc:
            return [Sample("connectivity.probe", "pmtu", {"ok": False, "error": str(exc)}, mono, ts)]
        return status_samples(ConnectivityStatus(None, (), pmtu=tuple(probes)), mono, ts)

    def collect_dhcp(self, mono: float, ts: float) -> list[Sample]:
        try:
            result = self.backend.dhcp()
        except ProbePermissionError as exc:
            return [Sample("connectivity.probe", "dhcp", {"ok": False, "error": str(exc)}, mono, ts)]
        if result is None:
            return []
        return [dhcp_sample(result, (), mono, ts)]


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
        if gw.late_rtts_ms:
            metrics["late_replies"] = len(gw.late_rtts_ms)
        if status.forwarded:
            metrics["forwarded"] = status.forwarded
        if len(status.gateway_macs) > 1:
            metrics["macs"] = list(status.gateway_macs)
        if status.neighbour_macs:
            metrics["neighbour_macs"] = list(status.neighbour_macs)
        samples.append(Sample("connectivity.gateway", gw.address, metrics, mono, ts))
    for comparison in status.dns_comparisons:  # before the resolvers' own samples: they are judged with it
        metrics = {"answers": {r: list(a) for r, a in comparison.answers.items()}, "failed": dict(comparison.failed),
                   "references": list(comparison.references)}
        if comparison.certificates:
            metrics["certificates"] = {r: dict(c) for r, c in comparison.certificates.items()}
        samples.append(Sample("connectivity.dns_comparison", comparison.name, metrics, mono, ts))
    for dns in status.dns:
        metrics = {"ok": dns.ok, "latency_ms": dns.latency_ms, "rcode": dns.rcode}
        if dns.answers:
            metrics["answers"] = list(dns.answers)
        if dns.name is not None:
            metrics["name"] = dns.name
        samples.append(Sample("connectivity.dns", dns.resolver, metrics, mono, ts))
    for uplink in status.uplinks:
        metrics = {"ok": uplink.ok, "connect_ms": uplink.connect_ms, "error": uplink.error}
        optional = {"rtt_ms": uplink.rtt_ms, "late_connect_ms": uplink.late_connect_ms,
                    "late_rtt_ms": uplink.late_rtt_ms}
        metrics.update((key, value) for key, value in optional.items() if value is not None)
        samples.append(Sample("connectivity.uplink", uplink.endpoint, metrics, mono, ts))
    if status.own_address is not None:
        own = status.own_address
        samples.append(Sample("connectivity.address", own.address,
                              {"interface": own.interface, "macs": list(own.macs)}, mono, ts))
    if status.dhcp is not None or status.leases:
        samples.append(dhcp_sample(status.dhcp, status.leases, mono, ts))
    for pmtu in status.pmtu:
        metrics = {"verdict": pmtu.verdict, "largest_ok": pmtu.largest_ok, "local_mtu": pmtu.local_mtu,
                   "sizes": {str(size): result for size, result in sorted(pmtu.results.items())},
                   "reference_rtt_ms": pmtu.reference_rtt_ms}
        samples.append(Sample("connectivity.pmtu", pmtu.target, metrics, mono, ts))
    for probe, error in status.probe_errors.items():
        samples.append(Sample("connectivity.probe", probe, {"ok": False, "error": error}, mono, ts))
    return samples


def dhcp_sample(probe: DhcpProbe | None, leases: tuple[LeaseState, ...], mono: float, ts: float) -> Sample:
    """One DHCP sample per check: the DISCOVER's answer (if one was sent) and the host's lease, side by side,
    so one detector judges both and the issue does not flip between two sources."""
    metrics: dict = {}
    if probe is not None:
        metrics = {"ok": probe.ok, "offer_ms": probe.offer_ms, "server": probe.server,
                   "offered_address": probe.offered_address, "error": probe.error,
                   "server_expected": probe.server_expected}
        optional = {"servers": [dict(server) for server in probe.servers] or None,
                    "unlisted_offers": probe.unlisted_offers or None, "lease_server": probe.lease_server,
                    "gateway": probe.gateway, "no_lease": probe.no_lease or None}
        metrics.update((key, value) for key, value in optional.items() if value is not None)
    interface = probe.interface if probe is not None else leases[0].interface
    lease = next((lease for lease in leases if lease.interface == interface), None)
    if lease is not None:
        metrics["lease"] = {"source": lease.source, "address": lease.address, "obtained_ts": lease.obtained_ts,
                            "renew_ts": lease.renew_ts, "rebind_ts": lease.rebind_ts, "expire_ts": lease.expire_ts}
    return Sample("connectivity.dhcp", interface, metrics, mono, ts)
