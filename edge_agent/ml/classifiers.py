"""The project's two classifiers as the agent uses them: a window of metric rows, or a camera frame, in; the
winning label and every label's score out. Input preparation lives here, next to the model it feeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge_agent.camera.frames import as_rgb, resize
from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.quantise import pixels_for, quantise
from edge_agent.ml.runtime import ClassifierModel, Runtime, load_classifier
from edge_agent.ml.window_features import FEATURE_NAMES, Row, fill_gaps, implausible, scale_window, window_raw
from edge_agent.ml.window_resample import WindowGrid, connectivity_coverage, resample

# A slot counts as measured up to this long after a connectivity reading; a window needs MIN_COVERAGE of them.
MAX_GAP_S = 30.0
MIN_COVERAGE = 0.75


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float
    scores: dict[str, float]
    model: str
    version: str
    unsure: str | None = None  # why the score was set to 0 (the input is outside what the model can judge)


def _prediction(model: ClassifierModel, scores: np.ndarray) -> Prediction:
    best = int(np.argmax(scores))
    labels = model.metadata.labels
    return Prediction(labels[best], float(scores[best]), dict(zip(labels, scores.tolist(), strict=True)),
                      model.metadata.name, model.metadata.version)


class WindowClassifier:
    """Windows of probe rounds (see window_features) → healthy / interference / weak signal / …

    The window is a span of time (window_s seconds in `steps` slots, from the model's metadata); rounds at any
    probe interval are resampled onto it (window_resample). A window with too little connectivity data, or with
    readings no collector reports, gets score 0: the model's answer there would be a guess."""

    def __init__(self, model: ClassifierModel):
        spec = model.metadata.input
        features = model.metadata.input_description.get("features", [])
        names = tuple(f.get("name") for f in features if isinstance(f, dict))
        if len(spec.shape) != 3 or names != FEATURE_NAMES:
            raise ModelLoadError(model.name, f"expects input {spec.shape} with features {list(names)}; this agent "
                                             f"builds windows of ({', '.join(FEATURE_NAMES)})")
        self.model = model
        self.steps = spec.shape[1]
        self.grid = WindowGrid(_window_seconds(model, self.steps), self.steps)

    def classify_rows(self, rows: Sequence[Row]) -> Prediction:
        """One row per slot of the grid, oldest first."""
        if len(rows) != self.steps:
            raise ValueError(f"{self.model.name} takes windows of {self.steps} slots, got {len(rows)}")
        return self.classify_raw(window_raw(rows))

    def classify_rounds(self, times: Sequence[float], rows: Sequence[Row], end: float) -> Prediction:
        """Rounds stamped with their time (seconds), resampled onto the window ending at `end`."""
        return self.classify_raw(resample(times, rows, end, self.grid))

    def classify_raw(self, raw: np.ndarray) -> Prediction:
        """A window on the grid in physical units, NaN where nothing was measured."""
        prediction = self.classify_array(scale_window(fill_gaps(raw)))
        unsure = implausible(raw)
        coverage = connectivity_coverage(raw, self.grid, MAX_GAP_S)
        if unsure is None and coverage < MIN_COVERAGE:
            unsure = f"connectivity measured in {coverage:.0%} of the window (needs {MIN_COVERAGE:.0%})"
        return replace(prediction, score=0.0, unsure=unsure) if unsure else prediction

    def classify_array(self, window: np.ndarray) -> Prediction:
        """A scaled window (steps, features) as window_array makes it."""
        spec = self.model.metadata.input
        tensor = quantise(window[None], spec.scale, spec.zero_point, spec.dtype)
        return _prediction(self.model, self.model.scores(tensor))


class FrameClassifier:
    """An RGB frame of the gateway → ok / led_red / led_off / cable_unplugged / obstructed."""

    def __init__(self, model: ClassifierModel):
        spec = model.metadata.input
        if len(spec.shape) != 4 or spec.shape[0] != 1 or spec.shape[3] != 3:
            raise ModelLoadError(model.name, f"expects input {spec.shape}; an image model takes [1, height, width, 3]")
        self.model = model
        self.height, self.width = spec.shape[1], spec.shape[2]
        self._encoding = (spec.dtype, spec.scale, spec.zero_point)

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The frame as the model's input tensor: resized when needed, pixels encoded without copies where the
        model's quantisation allows (see quantise.pixels_for)."""
        if frame.dtype != np.uint8 or frame.shape != (self.height, self.width, 3):
            frame = resize(as_rgb(frame), self.width, self.height)
        return pixels_for(frame, *self._encoding)[None]

    def classify(self, frame: np.ndarray) -> Prediction:
        return _prediction(self.model, self.model.scores(self.prepare(frame)))


def _window_seconds(model: ClassifierModel, steps: int) -> float:
    """The span the model was trained on: window_s, or (models before 2.0) steps × round_interval_s."""
    described = model.metadata.input_description
    span = described.get("window_s")
    if span is None and isinstance(described.get("round_interval_s"), (int, float)):
        span = steps * described["round_interval_s"]
    if not isinstance(span, (int, float)) or isinstance(span, bool) or not 0 < span <= 86_400:
        raise ModelLoadError(model.name, f"its metadata gives no usable window span (window_s = {span!r})")
    return float(span)


def load_window_classifier(path: Path, runtime: Runtime, num_threads: int = 1) -> WindowClassifier:
    return WindowClassifier(load_classifier(path, runtime, num_threads))


def load_frame_classifier(path: Path, runtime: Runtime, num_threads: int = 1) -> FrameClassifier:
    return FrameClassifier(load_classifier(path, runtime, num_threads))
