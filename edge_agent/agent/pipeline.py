"""Samples → detectors → issue tracker → remediation hook → reporter: one pass per batch of samples."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from edge_agent.detectors import Detector
from edge_agent.issues import IssueTracker
from edge_agent.model import Event, EventKind, Finding, Sample, Severity
from edge_agent.remediation import RemediationHook
from edge_agent.reporting.reporter import Reporter

log = logging.getLogger(__name__)

DETECTOR_MAX_BACKOFF_S = 300.0


@dataclass
class DetectorHealth:
    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    retry_at: float = 0.0
    last_error: str | None = None
    held_back: int = 0  # advisory verdicts not opened because a rule issue already explained them


class Pipeline:
    def __init__(
        self,
        detectors: list[Detector],
        tracker: IssueTracker,
        remediation: RemediationHook,
        reporter: Reporter,
    ):
        self.detectors = list(detectors)
        self.tracker = tracker
        self.remediation = remediation
        self.reporter = reporter
        self.detector_health: dict[str, DetectorHealth] = {d.name: DetectorHealth() for d in detectors}
        self._latest: dict[tuple[str, str], Sample] = {}
        self._lock = threading.Lock()

    def replace_detectors(self, detectors: list[Detector]) -> None:
        self.detectors = list(detectors)
        self.detector_health = {d.name: self.detector_health.get(d.name, DetectorHealth()) for d in detectors}

    def process(
        self, samples: list[Sample], mono: float, ts: float, present_findings: list[Finding] | None = None
    ) -> list[Event]:
        """Run the batch through; returns the events it caused. `present_findings` collects what is wrong now."""
        events: list[Event] = []
        for sample in samples:
            with self._lock:
                self._latest[(sample.stream, sample.subject)] = sample
            self.reporter.telemetry(sample)
            for finding in self._findings(sample, mono):
                if present_findings is not None and finding.present:
                    present_findings.append(finding)
                if self._explained_by_rule_issue(finding):
                    self.detector_health[finding.detector].held_back += 1
                    continue
                events.extend(self._track(finding, mono, ts))
        return events

    def _findings(self, sample: Sample, mono: float) -> list[Finding]:
        findings = []
        for detector in self.detectors:
            health = self.detector_health[detector.name]
            if mono < health.retry_at:
                continue
            health.runs += 1
            try:
                findings.extend(detector.evaluate(sample))
            except Exception as exc:  # noqa: BLE001 — a broken detector is counted and backed off, never fatal
                self._detector_failed(detector.name, health, exc, mono)
            else:
                health.consecutive_failures = 0
        return findings

    def _explained_by_rule_issue(self, finding: Finding) -> bool:
        """An advisory verdict (info) that would open a new issue while a rule issue from a detector watching the
        same samples is open: the rule already says what is wrong, and a second issue for one fault is noise. An
        advisory issue already open keeps its own life."""
        if not finding.present or finding.severity is not Severity.INFO:
            return False
        detector = next((d for d in self.detectors if d.name == finding.detector), None)
        explained_by = getattr(detector, "explained_by", ())
        if not explained_by:
            return False
        active = self.tracker.active()
        if any(i.type == finding.type and i.subject == finding.subject for i in active):
            return False
        return any(i.detector in explained_by and i.severity is not Severity.INFO for i in active)

    def _detector_failed(self, name: str, health: DetectorHealth, exc: Exception, mono: float) -> None:
        health.failures += 1
        health.consecutive_failures += 1
        health.last_error = f"{type(exc).__name__}: {exc}"
        backoff = min(2.0 ** health.consecutive_failures, DETECTOR_MAX_BACKOFF_S)
        health.retry_at = mono + backoff
        log.error("detector %s failed (%s); retrying in %.0f s", name, health.last_error, backoff,
                  exc_info=health.consecutive_failures == 1)

    def _track(self, finding: Finding, mono: float, ts: float) -> list[Event]:
        events = []
        for event in self.tracker.observe(finding, mono, ts):
            events.append(event)
            self.reporter.event(event)
            if event.kind is EventKind.ISSUE:
                for action_event in self.remediation.on_issue_event(event):
                    events.append(action_event)
                    self.reporter.event(action_event)
        return events

    def latest_samples(self) -> list[dict]:
        with self._lock:
            return [s.to_dict() for s in sorted(self._latest.values(), key=lambda s: (s.stream, s.subject))]
