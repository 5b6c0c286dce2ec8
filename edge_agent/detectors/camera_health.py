"""Camera health as findings: covered, out of focus, too dark, over-exposed, frozen, moved, colour cast.

`CameraHealthDetector.analyse` measures each frame (edge_agent.camera.health) and keeps what it needs to judge the
next: a fingerprint of the last frame (frozen) and the reference view, the first healthy frame it saw (moved).
The camera.health sample carries the measures and the verdicts, never the frame; `evaluate` turns it into one
finding per issue type, so an issue resolves once the camera is healthy again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_agent.camera import health
from edge_agent.model import Finding, Sample, Severity

HEALTH_STREAM = "camera.health"

# The measures each issue's evidence shows (besides the thresholds it was judged against).
EVIDENCE = {
    health.COVERED: ("flat_fraction", "coarse_flat_fraction", "detail_depth", "luma_mean"),
    health.OUT_OF_FOCUS: ("blur",),
    health.TOO_DARK: ("luma_mean", "bright_fraction"),
    health.OVEREXPOSED: ("clipped_fraction", "shadow_luma", "near_white_ratio"),
    health.FROZEN: ("identical_frames", "changed_fraction"),
    health.MOVED: ("shift_fraction", "shift_dx", "shift_dy", "shift_similarity"),
    health.COLOUR_CAST: ("cast_ratio", "cast_channel"),
}
LIMITS = {
    health.COVERED: ("flat_fraction", "covered_detail_depth"), health.OUT_OF_FOCUS: ("blur",),
    health.TOO_DARK: ("dark_luma",), health.OVEREXPOSED: ("clipped_fraction", "overexposed_near_white"),
    health.FROZEN: ("frozen_frames",), health.MOVED: ("moved_shift",), health.COLOUR_CAST: ("cast_ratio",),
}


class CameraHealthDetector:
    name = "camera.health"
    model_name = "camera-health"  # how the collector names it should it ever fail (it is model-free)

    def __init__(self, thresholds: health.Thresholds | None = None, interval_s: float = 0.0):
        """`interval_s`: judge at most one frame this often (a covered or moved camera need not be seen within
        seconds, and each judgement costs ~10-15 ms of CPU); 0: every frame."""
        self.thresholds = thresholds or health.Thresholds()
        self.interval_s = interval_s
        self._last_judged: float | None = None
        self._previous: np.ndarray | None = None
        self._identical = 0
        self.reference: np.ndarray | None = None

    def analyse(self, frame: np.ndarray, source: str, mono: float, ts: float) -> Sample | None:
        if self._last_judged is not None and 0 <= mono - self._last_judged < self.interval_s:
            return None  # not due: no sample, so the issue tracker neither opens nor resolves on this frame
        self._last_judged = mono
        t = self.thresholds
        working = health.working_copy(frame)
        measures = health.measure_working(working)
        verdict = health.judge(measures, t)
        metrics: dict[str, Any] = {k: _rounded(v) for k, v in measures.__dict__.items()}
        metrics.update(self._frozen(frame))
        frozen = self._identical >= t.frozen_frames - 1
        healthy = not any(verdict.values()) and None not in verdict.values() and not frozen
        if self.reference is None and healthy:
            self.reference = health.view_of(working)
        moved: bool | None = None  # unknown without a reference, or on a frame that shows nothing
        if self.reference is not None and verdict[health.OUT_OF_FOCUS] is not None:
            shift = health.shift_between(self.reference, health.view_of(working))
            moved = health.moved(shift, t)
            metrics.update(shift_fraction=_rounded(shift.fraction), shift_dx=_rounded(shift.dx / shift.width),
                           shift_dy=_rounded(shift.dy / shift.width), shift_similarity=_rounded(shift.similarity))
        metrics.update({**verdict, health.FROZEN: frozen, health.MOVED: moved,
                        "has_reference": self.reference is not None})
        return Sample(HEALTH_STREAM, source, metrics, mono, ts)

    def _frozen(self, frame: np.ndarray) -> dict[str, Any]:
        current = health.fingerprint(frame)
        changed = 1.0 if self._previous is None else health.changed_fraction(self._previous, current)
        self._identical = self._identical + 1 if changed <= self.thresholds.frozen_change else 0
        self._previous = current
        return {"changed_fraction": _rounded(changed), "identical_frames": self._identical + 1}

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != HEALTH_STREAM:
            return []
        findings = []
        for issue_type in health.ISSUE_TYPES:
            verdict = sample.metrics.get(issue_type)
            if not isinstance(verdict, bool):
                continue  # cannot be judged on this frame: neither opens nor resolves
            present = verdict
            evidence = {key: sample.metrics.get(key) for key in EVIDENCE[issue_type]}
            evidence.update({f"limit_{key}": getattr(self.thresholds, key) for key in LIMITS[issue_type]})
            evidence["source"] = sample.subject
            summary = f"camera {sample.subject}: {issue_type.removeprefix('camera_').replace('_', ' ')}"
            findings.append(Finding(issue_type, sample.subject, present, Severity.WARNING, self.name,
                                    summary if present else "", evidence))
        return findings


def _rounded(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, (float, np.floating)) else value
