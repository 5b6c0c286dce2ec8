"""What the camera shows about the gateway's set-up, as findings: the gateway-vision model's verdict on each
frame (a red LED, no power, the cable out, the box hidden), and whether the camera works at all.

The camera collector hands frames to `VisionDetector.analyse`, which keeps only the verdict (a camera.vision
sample: label, score, model, version); the frame itself goes nowhere. `evaluate` turns verdicts into findings.
The model is off by default, and its findings are severity info (never remediated) unless its metadata records
a passed independent test (metrics.independent_test.passed).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_agent.detectors.window_classifier import findings_for
from edge_agent.model import Finding, Sample, Severity

if TYPE_CHECKING:  # the classifiers (and the interpreter) load only where the vision model is enabled
    from edge_agent.ml.classifiers import FrameClassifier

ISSUE_TYPES = {
    "led_red": "gateway_led_red",
    "led_off": "gateway_leds_off",
    "cable_unplugged": "gateway_cable_unplugged",
    "obstructed": "gateway_obstructed",
}
VISION_STREAM = "camera.vision"
STATUS_STREAM = "camera.status"
CUSTOM_STREAM = "camera.custom"
MODEL_FAILED_STREAM = "camera.model_failed"
SUBJECT = "gateway"


class VisionDetector:
    name = "ml.vision"

    def __init__(self, classifier: FrameClassifier, min_score: float):
        self.classifier = classifier
        self.min_score = min_score
        self.model_name = classifier.model.metadata.name
        self.severity = verdict_severity(classifier.model.metadata.metrics)

    def analyse(self, frame: np.ndarray, source: str, mono: float, ts: float) -> Sample:
        prediction = self.classifier.classify(frame)
        metrics = {"label": prediction.label, "score": round(prediction.score, 3), "model": prediction.model,
                   "model_version": prediction.version}
        return Sample(VISION_STREAM, source, metrics, mono, ts)

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != VISION_STREAM or sample.metrics.get("model") != self.model_name:
            return []
        findings = findings_for(sample.metrics, self.min_score, self.name, ISSUE_TYPES, SUBJECT,
                                source=sample.subject)
        return [replace(f, severity=self.severity) for f in findings]


def verdict_severity(metrics: dict[str, Any]) -> Severity:
    """Warning only for a model whose metadata records a passed test on frames from another generator than its
    training set; info otherwise, which the remediation engine leaves to people."""
    independent = metrics.get("independent_test")
    passed = isinstance(independent, dict) and independent.get("passed") is True
    return Severity.WARNING if passed else Severity.INFO


class CameraAvailability:
    """camera_unavailable while the camera gives no frames: the set-up checks are blind then."""

    name = "camera"

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != STATUS_STREAM:
            return []
        available = sample.metrics.get("available") is True
        error = sample.metrics.get("error")
        summary = "" if available else f"camera {sample.subject} gives no frames: {error}"
        return [Finding("camera_unavailable", sample.subject, not available, Severity.WARNING, self.name, summary,
                        {"error": error})]


class CameraModelFailures:
    """camera_model_failed for a camera model that raised on a frame and was disabled (the collector's guard);
    a verdict from that model again (after a reload) is the healthy observation that resolves it."""

    name = "camera.models"

    def evaluate(self, sample: Sample) -> list[Finding]:
        model = sample.metrics.get("model")
        if not isinstance(model, str):
            return []
        if sample.stream == MODEL_FAILED_STREAM:
            error = sample.metrics.get("error")
            return [Finding("camera_model_failed", model, True, Severity.WARNING, self.name,
                            f"camera model {model} {error}", {"model": model, "error": error,
                                                               "source": sample.metrics.get("source")})]
        if sample.stream in (VISION_STREAM, CUSTOM_STREAM):
            return [Finding("camera_model_failed", model, False, Severity.WARNING, self.name)]
        return []
