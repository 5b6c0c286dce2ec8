"""Connectivity detectors: the gateway's reachability, DNS, the uplink, DHCP, and who answers for the gateway.

The gateway's loss, latency and jitter are judged in gateway_quality.py.
"""

from __future__ import annotations

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.rules import above_limit
from edge_agent.model import Finding, Sample, Severity


class ConnectivityRules:
    name = "rules.connectivity"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.t = thresholds
        self._unreachable_round: float | None = None  # mono of the last round the gateway did not answer

    def evaluate(self, sample: Sample) -> list[Finding]:
        stream = sample.stream
        if stream == "connectivity.gateway":
            return self._gateway(sample)
        if stream in ("connectivity.dns", "connectivity.uplink") and sample.mono == self._unreachable_round:
            # Beyond an unreachable gateway nothing can answer: a consequence of gateway_unreachable, not a
            # fault of its own. Undecided for this round, so their issues neither open nor resolve on it.
            return []
        if stream == "connectivity.dns":
            return self._dns(sample)
        if stream == "connectivity.uplink":
            return self._uplink(sample)
        if stream == "connectivity.dhcp":
            return _ok_finding(sample, "dhcp_failure", self.name, Severity.CRITICAL, "error",
                               "no DHCP server answered on {subject}")
        if stream == "connectivity.probe":
            return _ok_finding(sample, "probe_failed", self.name, Severity.CRITICAL, "error",
                               "the {subject} probe cannot run")
        return []

    def _gateway(self, sample: Sample) -> list[Finding]:
        received, loss = sample.metrics.get("received"), sample.metrics.get("loss_pct")
        unreachable = received == 0 if received is not None else loss == 100.0
        sent = sample.metrics.get("sent")
        summary = f"gateway {sample.subject} answered none of {sent or 'the'} probes" if unreachable else ""
        self._unreachable_round = sample.mono if unreachable else None
        # loss, latency and jitter: GatewayQuality
        return [Finding("gateway_unreachable", sample.subject, unreachable, Severity.CRITICAL, self.name,
                        summary, {"sent": sent, "received": received})]

    def _dns(self, sample: Sample) -> list[Finding]:
        if sample.metrics.get("ok") is None:
            return []
        ok = bool(sample.metrics["ok"])
        rcode = sample.metrics.get("rcode")
        failure = Finding(
            "dns_failure", sample.subject, not ok, Severity.CRITICAL, self.name,
            "" if ok else f"resolver {sample.subject} failed: {rcode}", {"ok": ok, "rcode": rcode},
        )
        slow = above_limit(sample, "latency_ms", self.t.dns_latency_ms_max, "dns_slow", self.name) if ok else []
        return [failure, *slow]

    def _uplink(self, sample: Sample) -> list[Finding]:
        findings = _ok_finding(sample, "uplink_down", self.name, Severity.CRITICAL, "error",
                               "no TCP connection to {subject}")
        if sample.metrics.get("ok"):
            findings += above_limit(sample, "connect_ms", self.t.uplink_connect_ms_max, "uplink_slow", self.name)
        return findings


def _ok_finding(
    sample: Sample, issue_type: str, detector: str, severity: Severity, detail_key: str, summary: str
) -> list[Finding]:
    """A finding on the sample's `ok` flag; none when it is unknown."""
    if sample.metrics.get("ok") is None:
        return []
    ok = bool(sample.metrics["ok"])
    detail = sample.metrics.get(detail_key)
    text = "" if ok else summary.format(subject=sample.subject) + (f": {detail}" if detail else "")
    return [Finding(issue_type, sample.subject, not ok, severity, detector, text, {"ok": ok, detail_key: detail})]


class GatewayMacWatch:
    """Who answers for the gateway's address.

    Two MACs answering the same request is an address conflict (or a spoofer racing the router): `ip_conflict`.
    One answer from a MAC other than the learned one is a swapped or spoofed router: `gateway_mac_changed`; a
    new MAC that persists for `gateway_mac_adopt_after` rounds is adopted (a replaced router), which resolves
    the issue with the new MAC as evidence.
    """

    name = "watch.gateway_mac"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.adopt_after = thresholds.gateway_mac_adopt_after
        self._known: dict[str, str] = {}
        self._strange_rounds: dict[str, int] = {}

    def evaluate(self, sample: Sample) -> list[Finding]:
        mac = sample.metrics.get("mac") if sample.stream == "connectivity.gateway" else None
        if not isinstance(mac, str):
            return []
        gateway = sample.subject
        macs = [m for m in sample.metrics.get("macs") or [mac] if isinstance(m, str)]
        known = self._known.setdefault(gateway, mac)
        conflict = len(set(macs)) > 1
        summary = f"{len(set(macs))} devices answer for the gateway {gateway}: {', '.join(macs)}" if conflict else ""
        findings = [Finding("ip_conflict", gateway, conflict, Severity.CRITICAL, self.name, summary,
                            {"macs": ", ".join(macs), "known_mac": known})]
        if conflict and known in macs:
            # The real gateway still answers: the other one is the conflict, not a replacement.
            self._strange_rounds[gateway] = 0
            return [*findings, self._unchanged(gateway, mac)]
        if mac == known:
            self._strange_rounds[gateway] = 0
            return [*findings, self._unchanged(gateway, mac)]
        rounds = self._strange_rounds.get(gateway, 0) + 1
        self._strange_rounds[gateway] = rounds
        evidence = {"known_mac": known, "mac": mac, "rounds": rounds, "adopt_after": self.adopt_after}
        if rounds >= self.adopt_after:
            self._known[gateway] = mac
            self._strange_rounds[gateway] = 0
            return [*findings, Finding("gateway_mac_changed", gateway, False, Severity.CRITICAL, self.name, "",
                                       evidence)]
        summary = f"gateway {gateway} answers from {mac}, known as {known}"
        return [*findings, Finding("gateway_mac_changed", gateway, True, Severity.CRITICAL, self.name, summary,
                                   evidence)]

    def _unchanged(self, gateway: str, mac: str) -> Finding:
        return Finding("gateway_mac_changed", gateway, False, Severity.CRITICAL, self.name, "", {"mac": mac})
