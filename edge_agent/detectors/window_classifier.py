"""The connectivity window classifier as a detector: it keeps the probe rounds of the model's time window, and
every N rounds asks the model what the whole window looks like (interference, a weak device, a degrading
uplink, DNS trouble).

A round is the radio and station readings plus one connectivity probe (gateway, then DNS), stamped with its
gateway sample's time. It closes when the next gateway sample arrives, so each row holds a complete round. The
window is a span of time, not a count of rounds: at a 1 s or a 10 s probe interval it covers the same seconds.

Its issues are advisory: severity info (never remediated) while the model's metadata records no passed test on
an independent generator (models/README.md); the threshold rules stay the alarm.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from edge_agent.ml.window_features import round_row
from edge_agent.model import Finding, Sample, Severity

if TYPE_CHECKING:  # the classifiers (and the interpreter) load only where a model is enabled
    from edge_agent.ml.classifiers import Prediction, WindowClassifier

# Issue type per label; "healthy" raises none.
ISSUE_TYPES = {
    "interference": "ml_interference",
    "weak_signal": "ml_weak_signal",
    "uplink_degradation": "ml_uplink_degradation",
    "dns_trouble": "ml_dns_trouble",
}
SUBJECT = "premises"  # the window spans the radio, every station and the uplink
STATION_STALE_S = 30.0  # a station not heard from for this long has left


class WindowClassifierDetector:
    name = "ml.window"
    keeps_rounds = True  # its verdict depends on the rounds before: a one-off diagnose must not feed it
    # The rule detectors reading the same radio, station and probe samples: while one of their issues is open, an
    # advisory verdict about the window is held back (the pipeline counts it) instead of opening a second issue.
    explained_by = ("rules.connectivity", "rules.wifi", "quality.gateway", "watch.gateway_mac")

    def __init__(self, classifier: WindowClassifier, every_n_rounds: int, min_score: float):
        from edge_agent.detectors.vision import verdict_severity  # vision imports findings_for from here

        self.classifier = classifier
        # Advisory (info, never remediated) unless the metadata records a passed independent test.
        self.severity = verdict_severity(classifier.model.metadata.metrics)
        self.every_n_rounds = every_n_rounds
        self.min_score = min_score
        self.rows: deque[tuple[float, list[float | None]]] = deque()  # (time, row) within the window
        self.rounds = 0
        self._first_round: float | None = None
        self._radio: Mapping[str, Any] | None = None
        self._stations: dict[str, tuple[float, Mapping[str, Any]]] = {}
        self._gateway: Mapping[str, Any] | None = None
        self._gateway_mono = 0.0
        self._dns: Mapping[str, Any] | None = None
        self.last_prediction: Prediction | None = None

    def evaluate(self, sample: Sample) -> list[Finding]:
        stream = sample.stream
        if stream == "wifi.radio":
            self._radio = sample.metrics
        elif stream == "wifi.station":
            self._stations[sample.subject] = (sample.mono, sample.metrics)
        elif stream == "connectivity.dns":
            self._dns = _worse_dns(self._dns, sample.metrics)
        elif stream == "connectivity.gateway":
            closed = self._close_round(sample.mono)
            self._gateway, self._dns, self._gateway_mono = sample.metrics, None, sample.mono
            if closed:
                return self._classify_if_due()
        return []

    def _close_round(self, mono: float) -> bool:
        if self._gateway is None:
            return False
        self._stations = {mac: seen for mac, seen in self._stations.items() if mono - seen[0] <= STATION_STALE_S}
        stations = [metrics for _, metrics in self._stations.values()]
        started = self._gateway_mono
        self.rows.append((started, round_row(self._radio, stations, self._gateway, self._dns)))
        if self._first_round is None:
            self._first_round = started
        while self.rows and self.rows[0][0] <= started - self.classifier.grid.window_s:
            self.rows.popleft()
        self.rounds += 1
        return True

    def _classify_if_due(self) -> list[Finding]:
        grid = self.classifier.grid
        newest = self.rows[-1][0]
        # No verdict before the rounds span the window (the newest round closes the last slot).
        if newest - self._first_round < grid.window_s - grid.slot_s - 1e-6 or self.rounds % self.every_n_rounds:
            return []
        prediction = self.classifier.classify_rounds([t for t, _ in self.rows], [row for _, row in self.rows],
                                                     newest)
        self.last_prediction = prediction
        verdict = {"label": prediction.label, "score": prediction.score, "model": prediction.model,
                   "model_version": prediction.version}
        findings = findings_for(verdict, self.min_score, self.name, ISSUE_TYPES, SUBJECT)
        return [replace(f, severity=self.severity) for f in findings]


def findings_for(
    verdict: Mapping[str, Any], min_score: float, detector: str, issue_types: Mapping[str, str], subject: str,
    **context: Any,
) -> list[Finding]:
    """One finding per issue type a model can raise, from its verdict (label, score, model, model_version):
    present for the winning label when the model is sure enough, absent for the others. An unsure verdict says
    nothing: unknown is neither bad nor good."""
    label, score = verdict["label"], verdict["score"]
    if not isinstance(score, (int, float)) or score < min_score:
        return []
    evidence = {"label": label, "score": round(score, 3), "model": verdict["model"],
                "model_version": verdict["model_version"], "min_score": min_score, **context}
    summary = f"{verdict['model']} {verdict['model_version']} sees {label} (score {score:.2f})"
    return [
        Finding(issue_type, subject, label == issue_label, Severity.WARNING, detector,
                summary if label == issue_label else "", evidence)
        for issue_label, issue_type in issue_types.items()
    ]


def _worse_dns(current: Mapping[str, Any] | None, new: Mapping[str, Any]) -> Mapping[str, Any]:
    """With several resolvers, the window shows the worst one."""
    if current is None or new.get("ok") is False:
        return new
    if current.get("ok") is False:
        return current
    return new if (new.get("latency_ms") or 0) > (current.get("latency_ms") or 0) else current
