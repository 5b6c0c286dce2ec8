"""An operator's own camera model as a detector: what it sees in each frame becomes a camera.custom sample
(labels and scores only), and each label the config lists under alert_labels raises a camera_alert issue
while the model sees it."""

from __future__ import annotations

import numpy as np

from edge_agent.ml.custom import CustomModel
from edge_agent.model import Finding, Sample, Severity

CUSTOM_STREAM = "camera.custom"


class CustomModelDetector:
    def __init__(self, model: CustomModel):
        self.model = model
        self.name = f"custom.{model.name}"
        self.model_name = model.name

    def analyse(self, frame: np.ndarray, source: str, mono: float, ts: float) -> Sample:
        config = self.model.config
        metrics: dict[str, float | int | str | None] = {"model": self.model.name, "kind": config.kind,
                                                       "source": source}
        if config.kind == "classifier":
            label, score = self.model.classify(frame)
            seen = {label: score} if score >= config.min_score else {}
            metrics.update(label=label, score=round(score, 3))
        else:
            detections = self.model.detect(frame)
            seen = {}
            for detection in detections:  # best first: keep each label's best score
                seen.setdefault(detection.label, detection.score)
            metrics.update(detections=len(detections), top_label=detections[0].label if detections else None,
                           top_score=round(detections[0].score, 3) if detections else None)
        for label in config.alert_labels:
            metrics[f"score_{label}"] = round(seen[label], 3) if label in seen else None
        return Sample(CUSTOM_STREAM, self.model.name, metrics, mono, ts)

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != CUSTOM_STREAM or sample.subject != self.model.name:
            return []
        findings = []
        for label in self.model.config.alert_labels:
            score = sample.metrics.get(f"score_{label}")
            present = score is not None
            summary = f"{self.model.name} sees {label} (score {score:.2f})" if present else ""
            evidence = {"model": self.model.name, "label": label, "score": score,
                        "source": sample.metrics.get("source")}
            findings.append(Finding("camera_alert", f"{self.model.name}:{label}", present, Severity.WARNING,
                                    self.name, summary, evidence))
        return findings
