"""The gateway's loss, latency and jitter: absolute limits and the device's own normal, one issue per cause.

Loss is judged over a window of probes with a confidence bound (five pings a round cannot tell 15 % loss
from bad luck). Latency and jitter are judged per round against the limits, and the recent median against a
robust baseline of healthy rounds. Symptoms of one cause are grouped: high latency, rising latency and high
jitter are one issue, named after its clearest symptom when it starts and carrying the evidence of all of
them; high loss and rising loss likewise.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from edge_agent.config import ConnectivityThresholds
from edge_agent.detectors.estimators import LossWindow, RobustBaseline, z_for
from edge_agent.model import Finding, Sample, Severity

LATENCY_GROUP = ("gateway_high_latency", "gateway_latency_rising", "gateway_high_jitter")
LOSS_GROUP = ("gateway_packet_loss", "gateway_loss_rising")
# Rounds after a group turns present in which its name may still change (the shipped open_after less one).
LEAD_SETTLE_ROUNDS = 2
# Once loss has an issue, the all-clear needs the rate sure to be under this share of its limit: loss hovering
# at the limit (10 % against 10 %) otherwise cleared and reopened, two issues in one two-minute episode of eight.
LOSS_CLEAR_SHARE = 0.75


@dataclass(frozen=True)
class Symptom:
    type: str
    state: bool | None  # present, absent, or not decidable yet
    named: bool  # its own measure is over its limit: the clearest name for the group's issue
    summary: str
    evidence: dict


@dataclass
class SymptomGroup:
    """Symptoms of one cause, reported as one issue: its type is fixed when the group turns present and kept
    until the group has been clear for `quiet_rounds` (by then the tracker has resolved it)."""

    types: tuple[str, ...]
    quiet_rounds: int
    lead: str | None = None
    quiet: int = 0
    settling: int = 0  # rounds left in which a lead that was no clear name may still give way to one

    def findings(self, subject: str, symptoms: Sequence[Symptom], detector: str) -> list[Finding]:
        present = [s for s in symptoms if s.state]
        if self.lead is None and present:
            named = next((s.type for s in present if s.named), None)
            self.lead = named or next((s.type for s in symptoms if s.named and s.state is not False),
                                      present[0].type)
            self.settling = 0 if named else LEAD_SETTLE_ROUNDS
            self.quiet = 0
        elif self.settling and present:
            # A trend noticed first at a fault's onset (it has the lower limit) gives way to the absolute
            # symptom once that is clear, before the issue can have opened: 40 % loss is packet loss.
            self.settling -= 1
            named = next((s.type for s in present if s.named and s.type != self.lead), None)
            if named is not None:
                self.lead, self.settling = named, 0
        if self.lead is None:
            return [_finding(s, subject, False, detector) for s in symptoms if s.state is False]
        lead = next(s for s in symptoms if s.type == self.lead)
        others = [_finding(s, subject, False, detector) for s in symptoms if s.type != self.lead]
        if present:
            self.quiet = 0
            return [self._grouped(lead, present, subject, detector), *others]
        primary = next((s for s in symptoms if s.type == self.types[0]), None)
        if primary is not None and primary.state is False:
            # Clear when the absolute measure says so and nothing is present: a trend that cannot yet tell
            # (a low limit needs many probes) must not hold an issue open long after a repair.
            self.quiet += 1
            if self.quiet >= self.quiet_rounds:
                self.lead = None
            return [_finding(lead, subject, False, detector), *others]
        return others  # undecided: the lead's issue stays as it is

    def _grouped(self, lead: Symptom, present: list[Symptom], subject: str, detector: str) -> Finding:
        also = [s for s in present if s.type != lead.type]
        summary = lead.summary if lead.state or lead.named else present[0].summary
        if also:
            summary += "; also " + "; ".join(s.summary for s in also if s.summary != summary)
        evidence = {**lead.evidence, "symptoms": [s.type for s in present],
                    "related": {s.type: s.evidence for s in also}}
        return Finding(lead.type, subject, True, Severity.WARNING, detector, summary, evidence)


def _finding(symptom: Symptom, subject: str, present: bool, detector: str) -> Finding:
    return Finding(symptom.type, subject, present, Severity.WARNING, detector, symptom.summary if present else "",
                   symptom.evidence)


def ms(value: float) -> str:
    """Milliseconds for people: two significant digits below 10 ms, so a fast LAN never reads '0.0 ms'."""
    return f"{value:.2g} ms" if value < 10 else f"{value:.0f} ms"


@dataclass
class _Gateway:
    latency: SymptomGroup
    loss: SymptomGroup
    window: LossWindow
    rtt: RobustBaseline
    loss_rate: RobustBaseline
    recent_rtt: deque = field(default_factory=deque)
    last_in_window: bool = False  # whether the newest round's probes are the window's newest


class GatewayQuality:
    name = "quality.gateway"

    def __init__(self, thresholds: ConnectivityThresholds):
        self.t = thresholds
        self.z = z_for(thresholds.loss_confidence)
        self._state: dict[str, _Gateway] = {}

    def _gateway(self, subject: str) -> _Gateway:
        if subject not in self._state:
            t = self.t
            keep = max(t.trend_warmup, 10 * t.trend_window)
            self._state[subject] = _Gateway(
                SymptomGroup(LATENCY_GROUP, t.symptom_quiet_rounds),
                SymptomGroup(LOSS_GROUP, t.symptom_quiet_rounds),
                LossWindow(t.loss_window_probes, t.loss_recent_probes, t.loss_min_probes),
                RobustBaseline(keep, t.trend_window, t.trend_warmup, t.trend_rtt_floor_ms),
                RobustBaseline(keep, t.trend_window, t.trend_warmup, 0.0),
            )
        return self._state[subject]

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != "connectivity.gateway":
            return []
        sent, received = sample.metrics.get("sent"), sample.metrics.get("received")
        if not isinstance(sent, int) or not isinstance(received, int) or sent <= 0:
            return []
        state = self._gateway(sample.subject)
        late = sample.metrics.get("late_replies")
        if state.last_in_window and isinstance(late, int) and not isinstance(late, bool):
            # Echoes of the round before answered after its timeout: a gateway that slow is slow, not lossy.
            state.window.answered_late(late)
        state.last_in_window = received != 0
        if received == 0:
            # Unreachable is its own issue; a lost round here would only echo it as loss afterwards.
            state.rtt.offer(0.0, suspicious=True)
            state.loss_rate.offer(0.0, suspicious=True)
            return []
        state.window.add(sent, sent - received)
        rtt, jitter = sample.metrics.get("rtt_ms"), sample.metrics.get("jitter_ms")
        findings = []
        latency: list[Symptom] = []
        if isinstance(rtt, (int, float)):
            state.recent_rtt.append(float(rtt))
            while len(state.recent_rtt) > self.t.trend_window:
                state.recent_rtt.popleft()
            latency = [self._high_latency(sample.subject, float(rtt)), self._latency_rising(sample.subject, state)]
        if isinstance(jitter, (int, float)):
            latency.append(self._high_jitter(sample.subject, float(jitter)))
        loss = [self._packet_loss(sample.subject, state), self._loss_rising(sample.subject, state)]
        findings += state.latency.findings(sample.subject, latency, self.name)
        findings += state.loss.findings(sample.subject, loss, self.name)
        # Frozen while a related issue may be open or is brewing: a group with a lead, a symptom present, or
        # loss seen that the window cannot yet call either way.
        undecided_loss = loss[0].state is None and loss[0].evidence["lost"] > 0
        suspicious = (state.latency.lead is not None or state.loss.lead is not None or undecided_loss
                      or any(s.state for s in [*latency, *loss]))
        if isinstance(rtt, (int, float)):
            state.rtt.offer(float(rtt), suspicious)
        state.loss_rate.offer((sent - received) / sent, suspicious)
        return findings

    def _high_latency(self, subject: str, rtt: float) -> Symptom:
        limit = self.t.gateway_rtt_ms_max
        over = rtt > limit
        return Symptom("gateway_high_latency", over, over, f"gateway {subject} answers in {ms(rtt)}, limit {ms(limit)}",
                       {"rtt_ms": rtt, "limit": limit})

    def _high_jitter(self, subject: str, jitter: float) -> Symptom:
        limit = self.t.gateway_jitter_ms_max
        over = jitter > limit
        return Symptom("gateway_high_jitter", over, over,
                       f"gateway {subject} answer times vary by {ms(jitter)}, limit {ms(limit)}",
                       {"jitter_ms": jitter, "limit": limit})

    def _latency_rising(self, subject: str, state: _Gateway) -> Symptom:
        baseline = state.rtt
        recent = statistics.median(state.recent_rtt)
        level = baseline.level()
        limit = max(level * self.t.trend_rtt_ratio, level + self.t.trend_rtt_min_delta_ms,
                    level + self.t.trend_rtt_mad_k * baseline.mad())
        ready = baseline.ready and len(state.recent_rtt) >= self.t.trend_window
        rising = recent > limit if ready else None
        evidence = {"recent_rtt_ms": round(recent, 3), "baseline_rtt_ms": round(baseline.median(), 3),
                    "baseline_floor_ms": self.t.trend_rtt_floor_ms, "trend_limit_ms": round(limit, 3),
                    "window": len(state.recent_rtt), "baseline_rounds": baseline.rounds}
        summary = (f"gateway {subject} RTT {ms(recent)} over the last {len(state.recent_rtt)} rounds, "
                   f"normal {ms(baseline.median())}")
        return Symptom("gateway_latency_rising", rising, False, summary, evidence)

    def _packet_loss(self, subject: str, state: _Gateway) -> Symptom:
        limit = self.t.gateway_loss_pct_max
        verdict = state.window.verdict(limit / 100, self.z, self._clear_below(state, limit))
        evidence = {"loss_pct": verdict.rate_pct, "limit": limit, "lost": verdict.lost, "sent": verdict.sent,
                    "confidence_pct": [round(100 * verdict.low, 1), round(100 * verdict.high, 1)]}
        summary = f"gateway {subject} lost {verdict.lost} of the last {verdict.sent} probes ({verdict.rate_pct} %), " \
                  f"limit {limit} %"
        named = verdict.sent >= self.t.loss_min_probes and verdict.rate_pct > limit and verdict.above is not False
        return Symptom("gateway_packet_loss", verdict.above, named, summary, evidence)

    @staticmethod
    def _clear_below(state: _Gateway, limit_pct: float) -> float | None:
        """The all-clear's bound (a rate) while the loss group has an issue; None (the limit itself) before."""
        return LOSS_CLEAR_SHARE * limit_pct / 100 if state.loss.lead is not None else None

    def _loss_rising(self, subject: str, state: _Gateway) -> Symptom:
        normal = 100 * state.loss_rate.mean()
        limit = normal + self.t.trend_loss_delta_pct
        verdict = state.window.verdict(limit / 100, self.z, self._clear_below(state, limit))
        rising = verdict.above if state.loss_rate.ready else None
        evidence = {"recent_loss_pct": verdict.rate_pct, "baseline_loss_pct": round(normal, 1),
                    "trend_limit_pct": round(limit, 1), "lost": verdict.lost, "sent": verdict.sent,
                    "baseline_rounds": state.loss_rate.rounds}
        summary = f"gateway {subject} loss {verdict.rate_pct} % over the last {verdict.sent} probes, " \
                  f"normal {normal:.1f} %"
        return Symptom("gateway_loss_rising", rising, False, summary, evidence)
