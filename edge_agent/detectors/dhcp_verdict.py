"""What one DHCP check says: a server that no longer answers DISCOVER, or a lease the host's client has not
renewed in time. Pure: a `connectivity.dhcp` sample in, the `dhcp_failure` finding out."""

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
    if ok is False and expected:
        reasons.append(f"no DHCP server answered a DISCOVER on {sample.subject}"
                       + (f": {metrics['error']}" if metrics.get("error") else ""))
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
    return [Finding("dhcp_failure", sample.subject, bool(reasons), Severity.CRITICAL, detector, "; ".join(reasons),
                    evidence)]
