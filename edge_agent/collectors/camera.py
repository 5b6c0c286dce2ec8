"""The camera collector: one frame per interval from the configured source, handed to the vision analysers
(the shipped model, the operator's own); it reports what they saw and whether the camera works, never the
frame. Snapshot upload, downscaled, only when the config opts in."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence

import numpy as np

from edge_agent.camera import CameraUnavailable, FrameSource
from edge_agent.camera.formats import encode_png
from edge_agent.camera.frames import resize
from edge_agent.model import Sample

log = logging.getLogger(__name__)

# Something that looks at a frame and reports what it saw as a sample: VisionDetector, CustomModelDetector.
FrameAnalyser = Callable[[np.ndarray, str, float, float], Sample]
MODEL_FAILED_STREAM = "camera.model_failed"


class GuardedAnalyser:
    """A frame analyser that is switched off the first time it raises: a model that fails on one frame fails on
    the next (the same graph, the same shapes), and it must never take the frame from the other analysers or
    the camera's status. While off it reports a camera.model_failed sample per frame, naming the error."""

    def __init__(self, name: str, analyse: FrameAnalyser, on_failure: Callable[[str], None] | None = None):
        self.name = name
        self.analyse = analyse
        self.on_failure = on_failure
        self.error: str | None = None

    def __call__(self, frame: np.ndarray, source: str, mono: float, ts: float) -> Sample | None:
        if self.error is None:
            try:
                return self.analyse(frame, source, mono, ts)
            except Exception as exc:  # noqa: BLE001 — an operator's model may raise anything; it is disabled, not fatal
                self.error = f"failed on a frame and was disabled: {type(exc).__name__}: {exc}"[:400]
                log.error("camera model %s %s", self.name, self.error)
                if self.on_failure is not None:
                    self.on_failure(self.error)
        return Sample(MODEL_FAILED_STREAM, self.name, {"model": self.name, "error": self.error, "source": source},
                      mono, ts)


class SnapshotPolicy:
    """Opt-in only: a downscaled PNG of a frame, at most once per interval, as a camera.snapshot sample."""

    def __init__(self, width: int, interval_s: float):
        self.width = width
        self.interval_s = interval_s
        self._last: float | None = None

    def snapshot(self, frame: np.ndarray, source: str, mono: float, ts: float) -> Sample | None:
        if self._last is not None and mono - self._last < self.interval_s:
            return None
        self._last = mono
        height = max(8, round(frame.shape[0] * self.width / frame.shape[1]))
        small = resize(frame, self.width, height)
        metrics = {"format": "png", "width": self.width, "height": height,
                   "data_b64": base64.b64encode(encode_png(small)).decode("ascii")}
        return Sample("camera.snapshot", source, metrics, mono, ts)


class CameraCollector:
    name = "camera"

    def __init__(self, interval_s: float, source: FrameSource, analysers: Sequence[FrameAnalyser],
                 snapshots: SnapshotPolicy | None = None):
        self.interval_s = interval_s
        self.source = source
        self.analysers = [a if isinstance(a, GuardedAnalyser) else GuardedAnalyser(_model_name(a), a)
                          for a in analysers]
        self.snapshots = snapshots
        self._was_available: bool | None = None

    def collect(self, mono: float, ts: float) -> list[Sample]:
        source = self.source.name
        try:
            frame = self.source.read()
        except CameraUnavailable as exc:
            if self._was_available is not False:
                log.warning("camera %s unavailable: %s", source, exc)
            self._was_available = False
            return [Sample("camera.status", source, {"available": False, "error": str(exc)}, mono, ts)]
        self._was_available = True
        samples = [Sample("camera.status", source,
                          {"available": True, "width": frame.shape[1], "height": frame.shape[0]}, mono, ts)]
        # An analyser may pass a frame by (None): one that judges at its own, slower pace.
        samples += [s for s in (analyse(frame, source, mono, ts) for analyse in self.analysers) if s is not None]
        if self.snapshots is not None:
            snapshot = self.snapshots.snapshot(frame, source, mono, ts)
            if snapshot is not None:
                samples.append(snapshot)
        return samples

    def close(self) -> None:
        self.source.close()


def analyser_name(analyse: FrameAnalyser) -> str:
    """The name of the detector a bound analyse method belongs to (or the function's)."""
    owner = getattr(analyse, "__self__", None)
    return str(getattr(owner, "name", None) or getattr(analyse, "__name__", "analyser"))


def _model_name(analyse: FrameAnalyser) -> str:
    return str(getattr(getattr(analyse, "__self__", None), "model_name", None) or analyser_name(analyse))
