"""What one DHCP check says: a server that no longer answers DISCOVER, a lease the host's client has not
renewed in time, or a second server answering on the segment. Pure: a `connectivity.dhcp` sample in, the
`dhcp_failure` and `dhcp_rogue_server` findings out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edge_agent.detectors.rules import finite_number
from edge_agent.model import Finding, Sample, Severity


def lease_problem(lease: Mapping[str, Any], now: float) -> str | None:
    """Why the lease is in trouble, or None. A client renews from T1 on; a lease still not renewed at its
    rebind time (T2) means the server has not answered the client for a good part of the lease."""
    expire, rebind = finite_number(lease.get("expire_ts")), finite_number(lease.get("rebind_ts"))
    address = lease.get("address") or "the address"
    if expire is not None and now >= expire:
        return f"the lease on {address} expired {now - expire:.0f} s ago and was not renewed"
    if rebind is not None and now >= rebind:
        left = f", {expire - now:.0f} s before it expires" if expire is not None else ""
        return f"the lease on {address} is past its rebind time and still not renewed{left}"
    return None


def judge_dhcp(sample: Sample, detector: str) -> list[Finding]:
    metrics = sample.metrics
    ok = metrics.get("ok")
    # On demand (diagnose) every no-offer counts; the periodic check counts one only where a DHCP server has
    # answered before or the host holds a lease: a network with static addresses has no server to miss.
    expected = metrics.get("server_expected", True)
    lease = metrics.get("lease") if isinstance(metrics.get("lease"), Mapping) else None
    reasons = []
    # On demand with no lease held and no server ever seen, the host likely has a static address: a warning.
    static_likely = ok is False and metrics.get("no_lease") is True
    if ok is False and expected:
        reasons.append(f"no DHCP server answered a DISCOVER on {sample.subject}"
                       + (f": {metrics['error']}" if metrics.get("error") else "")
                       + ("; this host holds no DHCP lease: expected if its address is static" if static_likely
                          else ""))
    if lease is not None and (problem := lease_problem(lease, sample.ts)) is not None:
        reasons.append(problem)
    if ok is None and lease is None:
        return []
    evidence = {"ok": not reasons, "reason": "; ".join(reasons) or None, "error": metrics.get("error"),
                "server": metrics.get("server"), "server_expected": expected}
    if lease is not None:
        evidence["lease"] = dict(lease)
        expire = finite_number(lease.get("expire_ts"))
        evidence["lease_expires_in_s"] = round(expire - sample.ts) if expire is not None else None
    severity = Severity.WARNING if static_likely and lease is None else Severity.CRITICAL
    return [Finding("dhcp_failure", sample.subject, bool(reasons), severity, detector, "; ".join(reasons),
                    evidence), *judge_rogue(sample, detector)]


def _servers(metrics: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    servers = metrics.get("servers")
    if not isinstance(servers, list):
        return []
    return [s for s in servers if isinstance(s, Mapping) and isinstance(s.get("server"), str)]


def _addresses(server: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = server.get(key)
    return tuple(a for a in value if isinstance(a, str)) if isinstance(value, list) else ()


def legitimate_server(servers: list[Mapping[str, Any]], lease_server: Any, gateway: Any
                      ) -> tuple[Mapping[str, Any] | None, str | None]:
    """Which answering server is the network's own, and why: the one that gave this host its lease, else the
    only one offering this host's gateway as the router, else the first one the operator listed as known; else
    none is known."""
    for server in servers:
        if lease_server is not None and server["server"] == lease_server:
            return server, "gave this host its lease"
    offering_gateway = [s for s in servers if gateway is not None and gateway in _addresses(s, "routers")]
    if len(offering_gateway) == 1:
        return offering_gateway[0], f"offers this host's gateway {gateway} as the router"
    known = [s for s in servers if s.get("known") is True]
    if known:
        return known[0], "is listed in dhcp_known_servers"
    return None, None


def rogue_servers(servers: list[Mapping[str, Any]], legitimate: Mapping[str, Any] | None
                  ) -> list[Mapping[str, Any]]:
    """The servers that should not be answering: all but the legitimate one, those listed as known (a failover
    partner) and those heard only through a relay (servers the operator of the network beyond it runs, such as
    a provider's redundant pair: a rogue on this segment answers directly); none where only one server answered."""
    others = [s for s in servers if s is not legitimate and s.get("known") is not True
              and s.get("direct") is not False]
    return others if len(servers) > 1 else []


def describe_server(server: Mapping[str, Any]) -> str:
    """`10.0.0.9 (MAC 02:..; offers 10.0.0.150, router 10.0.0.9, DNS 10.0.0.9)`: who it is and what it hands out."""
    details = []
    if macs := _addresses(server, "macs"):
        details.append("MAC " + ", ".join(macs))
    if relays := _addresses(server, "relays"):
        details.append("via relay " + ", ".join(relays))
    if isinstance(server.get("offered_address"), str):
        details.append(f"offers {server['offered_address']}")
    details.append("router " + (", ".join(_addresses(server, "routers")) or "none"))
    details.append("DNS " + (", ".join(_addresses(server, "dns_servers")) or "none"))
    return f"{server['server']} ({'; '.join(details)})"


def judge_rogue(sample: Sample, detector: str) -> list[Finding]:
    """More than one DHCP server answered the same DISCOVER: `dhcp_rogue_server`. Servers are told apart by
    their server identifier (the probe groups them), so one server answering twice, or through several relays,
    is one server; servers marked known (dhcp_known_servers) never count. A check without any OFFER says nothing
    either way."""
    servers = _servers(sample.metrics)
    if not servers:
        return []
    legitimate, because = legitimate_server(servers, sample.metrics.get("lease_server"),
                                            sample.metrics.get("gateway"))
    others = rogue_servers(servers, legitimate)
    rogue = bool(others)
    # What clients are handed decides the harm: a router or DNS server unlike the network's own sends the
    # clients that take it nowhere (or through someone else); the same router and DNS from overlapping pools
    # "only" risks two devices given one address.
    reference = legitimate or servers[0]
    misleading = [s for s in others if (_addresses(s, "routers"), _addresses(s, "dns_servers"))
                  != (_addresses(reference, "routers"), _addresses(reference, "dns_servers"))]
    severity = Severity.CRITICAL if misleading else Severity.WARNING
    evidence = {"servers": len(servers), "legitimate": legitimate["server"] if legitimate else None,
                "legitimate_because": because, "answering": [dict(s) for s in servers],
                "lease_server": sample.metrics.get("lease_server"), "gateway": sample.metrics.get("gateway")}
    if rogue:  # for the summary and the guidance: who the others are and what they hand out
        own = f"{legitimate['server']}, which {because}" if legitimate else "not known, one of those named"
        evidence |= {"own": own, "rogue": ", ".join(s["server"] for s in others),
                     "rogue_macs": ", ".join(m for s in others for m in _addresses(s, "macs")),
                     "rogue_offers": "; ".join(describe_server(s) for s in others)}
    if isinstance(sample.metrics.get("unlisted_offers"), int):
        evidence["unlisted_offers"] = sample.metrics["unlisted_offers"]
    summary = ""
    if rogue and legitimate is not None:
        summary = (f"{len(servers)} DHCP servers answer on {sample.subject}: {legitimate['server']} {because}; "
                   f"also {evidence['rogue_offers']}")
    elif rogue:
        summary = (f"{len(servers)} DHCP servers answer on {sample.subject}, none known to be the network's own: "
                   f"{evidence['rogue_offers']}")
    return [Finding("dhcp_rogue_server", sample.subject, rogue, severity, detector, summary, evidence)]
