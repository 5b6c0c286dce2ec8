"""Connectivity detectors: threshold rules, the device's own latency/loss baseline, and the gateway's MAC."""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.rules import above_limit
from edge_agent.model import Finding, Sample, Severity


class ConnectivityRules:
    name = "rules.connectivity"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.t = thresholds

    def evaluate(self, sample: Sample) -> list[Finding]:
        stream = sample.stream
        if stream == "connectivity.gateway":
            return self._gateway(sample)
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
        findings = [Finding("gateway_unreachable", sample.subject, unreachable, Severity.CRITICAL, self.name,
                            summary, {"sent": sent, "received": received})]
        if unreachable:
            return findings  # loss, latency and jitter mean nothing without an answer: leave their issues as they are
        return [
            *findings,
            *above_limit(sample, "loss_pct", self.t.gateway_loss_pct_max, "gateway_packet_loss", self.name),
            *above_limit(sample, "rtt_ms", self.t.gateway_rtt_ms_max, "gateway_high_latency", self.name),
            *above_limit(sample, "jitter_ms", self.t.gateway_jitter_ms_max, "gateway_high_jitter", self.name),
        ]

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


@dataclass
class _Baseline:
    rtt: deque = field(default_factory=deque)
    loss: deque = field(default_factory=deque)
    recent_rtt: deque = field(default_factory=deque)
    recent_loss: deque = field(default_factory=deque)


class GatewayTrend:
    """Degradation against the device's own normal, before any absolute limit is crossed.

    The baseline is the median of healthy rounds (up to 10x the window, so it follows slow drifts); the
    recent window is compared to it. Rounds flagged as degraded do not feed the baseline, so a slow climb
    cannot teach the detector that bad is normal.
    """

    name = "trend.gateway"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.t = thresholds
        self._state: dict[str, _Baseline] = {}

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != "connectivity.gateway" or not sample.metrics.get("received"):
            return []
        rtt, loss = sample.metrics.get("rtt_ms"), sample.metrics.get("loss_pct")
        if rtt is None or loss is None:
            return []
        state = self._state.setdefault(sample.subject, _Baseline())
        window = self.t.trend_window
        _push(state.recent_rtt, rtt, window)
        _push(state.recent_loss, loss, window)
        if len(state.rtt) < self.t.trend_warmup or len(state.recent_rtt) < window:
            self._learn(state, rtt, loss)
            return []
        findings = [self._rtt_finding(sample, state), self._loss_finding(sample, state)]
        if not any(f.present for f in findings):
            self._learn(state, rtt, loss)
        return findings

    def _learn(self, state: _Baseline, rtt: float, loss: float) -> None:
        keep = max(self.t.trend_warmup, 10 * self.t.trend_window)
        _push(state.rtt, rtt, keep)
        _push(state.loss, loss, keep)

    def _rtt_finding(self, sample: Sample, state: _Baseline) -> Finding:
        baseline = statistics.median(state.rtt)
        recent = statistics.median(state.recent_rtt)
        limit = max(baseline * self.t.trend_rtt_ratio, baseline + self.t.trend_rtt_min_delta_ms)
        present = recent > limit
        evidence = {"recent_rtt_ms": round(recent, 2), "baseline_rtt_ms": round(baseline, 2),
                    "limit": round(limit, 2), "window": len(state.recent_rtt), "baseline_rounds": len(state.rtt)}
        summary = f"gateway RTT {recent:.1f} ms over the last {len(state.recent_rtt)} rounds, normal {baseline:.1f} ms"
        return Finding("gateway_latency_rising", sample.subject, present, Severity.WARNING, self.name,
                       summary if present else "", evidence)

    def _loss_finding(self, sample: Sample, state: _Baseline) -> Finding:
        baseline = statistics.fmean(state.loss)
        recent = statistics.fmean(state.recent_loss)
        lossy_rounds = sum(1 for value in state.recent_loss if value > 0)
        limit = baseline + self.t.trend_loss_delta_pct
        # One unlucky round is not a trend: most of the window must have lost something.
        present = recent > limit and lossy_rounds * 2 > len(state.recent_loss)
        evidence = {"recent_loss_pct": round(recent, 1), "baseline_loss_pct": round(baseline, 1),
                    "limit": round(limit, 1), "lossy_rounds": lossy_rounds, "window": len(state.recent_loss)}
        summary = f"gateway loss {recent:.1f} % over the last {len(state.recent_loss)} rounds, normal {baseline:.1f} %"
        return Finding("gateway_loss_rising", sample.subject, present, Severity.WARNING, self.name,
                       summary if present else "", evidence)


def _push(values: deque, value: float, keep: int) -> None:
    values.append(value)
    while len(values) > keep:
        values.popleft()


class GatewayMacWatch:
    """The gateway's MAC is learned once; answering from another MAC is a swapped or spoofed router.

    A new MAC that persists for `gateway_mac_adopt_after` rounds is adopted (a replaced router), which
    resolves the issue with the new MAC as evidence.
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
        known = self._known.setdefault(gateway, mac)
        if mac == known:
            self._strange_rounds[gateway] = 0
            return [Finding("gateway_mac_changed", gateway, False, Severity.CRITICAL, self.name, "", {"mac": mac})]
        rounds = self._strange_rounds.get(gateway, 0) + 1
        self._strange_rounds[gateway] = rounds
        evidence = {"known_mac": known, "mac": mac, "rounds": rounds, "adopt_after": self.adopt_after}
        if rounds >= self.adopt_after:
            self._known[gateway] = mac
            self._strange_rounds[gateway] = 0
            return [Finding("gateway_mac_changed", gateway, False, Severity.CRITICAL, self.name, "", evidence)]
        summary = f"gateway {gateway} answers from {mac}, known as {known}"
        return [Finding("gateway_mac_changed", gateway, True, Severity.CRITICAL, self.name, summary, evidence)]
