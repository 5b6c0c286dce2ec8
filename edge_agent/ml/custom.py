"""An operator's own TFLite model on camera frames, declared in config with its labels: an image classifier
(one output of per-label scores) or an SSD-style object detector (the usual four outputs: boxes, classes,
scores, count). Checked at load against what the config declares; no metadata JSON is needed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_agent.camera.frames import as_rgb, resize
from edge_agent.config import CustomModelConfig
from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.quantise import quantise
from edge_agent.ml.runtime import Binding, Model, Runtime, op_input_shapes, open_model

POSTPROCESS_OP = "TFLite_Detection_PostProcess"
# First lines of label maps written for the whole score tensor, background column included (TF's labelmap.txt).
BACKGROUND_LABELS = frozenset({"???", "background", "__background__"})


class ModelOutputError(RuntimeError):
    """A model's outputs for a frame are not what its declared kind gives (shape, NaN, count)."""


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]  # ymin, xmin, ymax, xmax, fractions of the frame


class CustomModel:
    def __init__(self, config: CustomModelConfig, model: Model):
        self.config = config
        self.model = model
        self.name = config.name
        self.input = _image_input(model, config.name)
        self.height, self.width = self.input.shape[1], self.input.shape[2]
        self._pixel_table = pixel_table(self.input, config.input_mean, config.input_std)
        if config.kind == "classifier":
            self._check_classifier()
        else:
            self.order = detection_output_order(model.outputs, config.name)
            self._check_label_map()
        self._smoke_test()

    def _check_classifier(self) -> None:
        if len(self.model.outputs) != 1:
            raise ModelLoadError(self.name, f"a classifier has one output, this model has {len(self.model.outputs)}")
        shape = list(self.model.outputs[0].shape)
        labels = len(self.config.labels)
        # One score per label, in a [labels] or [1, labels] tensor: a segmentation map such as [1, 256, 256, 1]
        # ends in the label count too, and is not a classifier's output.
        if int(np.prod(shape)) != labels or shape[-1] != labels:
            raise ModelLoadError(self.name, f"output is {shape}, not one score per label: a classifier with "
                                            f"{labels} labels outputs [1, {labels}] (is it another kind of model?)")

    def _check_label_map(self) -> None:
        """The labels name every class the detector can report, from the first real class on. Where the
        model's TFLite_Detection_PostProcess op is visible, its class-score input has one column per class
        plus the background column, which the op never reports: class 0 is the first real class."""
        labels = self.config.labels
        if labels[0].strip().lower() in BACKGROUND_LABELS:
            raise ModelLoadError(self.name, f"the first label is {labels[0]!r}, a background entry: this "
                                            "detector numbers classes from the first real one, so every label "
                                            "would be off by one (drop the first line of the label map)")
        score_shapes = op_input_shapes(self.model, POSTPROCESS_OP)
        if score_shapes is None or len(score_shapes) < 2 or len(score_shapes[1]) != 3:
            return
        classes = score_shapes[1][-1] - 1
        if len(labels) < classes:
            raise ModelLoadError(self.name, f"the model reports {classes} classes but {len(labels)} labels are "
                                            "given: the label map does not cover its classes")

    def _smoke_test(self) -> None:
        """Run a grey frame through the model and check what comes out is what its declared kind gives: a
        model that passes the shape checks can still fail or answer nonsense on its first real frame."""
        frame = np.full((self.height, self.width, 3), 128, np.uint8)
        try:
            self.model.run(self.prepare(frame))
            outputs = [self.model.output(i) for i in range(len(self.model.outputs))]
        except (ValueError, RuntimeError, TypeError, IndexError) as exc:
            raise ModelLoadError(self.name, f"fails on a test frame: {type(exc).__name__}: {exc}") from None
        problem = self._output_problem(outputs)
        if problem:
            raise ModelLoadError(self.name, f"on a test frame, {problem}")

    def _output_problem(self, outputs: list[np.ndarray]) -> str | None:
        if self.config.kind == "classifier":
            return _classifier_output_problem(outputs[0], len(self.config.labels))
        return _detector_output_problem([outputs[i] for i in self.order])

    def _run(self, frame: np.ndarray) -> list[np.ndarray]:
        """The outputs for one frame, checked as at load: a model can pass its test frame and answer NaN or
        the wrong shape on a real one, and a wrong answer must fail loudly (the collector then disables the
        model with a finding) instead of becoming a verdict."""
        self.model.run(self.prepare(frame))
        outputs = [self.model.output(i) for i in range(len(self.model.outputs))]
        problem = self._output_problem(outputs)
        if problem:
            raise ModelOutputError(problem)
        return outputs

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        if frame.dtype != np.uint8 or frame.shape != (self.height, self.width, 3):
            frame = resize(as_rgb(frame), self.width, self.height)
        if self.input.dtype == "float32":
            return ((frame.astype(np.float32) - self.config.input_mean) / self.config.input_std)[None]
        if self._pixel_table is None:  # the model takes the pixel values themselves
            return frame[None]
        return np.take(self._pixel_table, frame)[None]

    def classify(self, frame: np.ndarray) -> tuple[str, float]:
        scores = self._run(frame)[0].reshape(-1)
        best = int(np.argmax(scores))
        return self.config.labels[best], float(scores[best])

    def detect(self, frame: np.ndarray) -> list[Detection]:
        outputs = self._run(frame)
        boxes, classes, scores, count = (outputs[i] for i in self.order)
        return parse_detections(boxes, classes, scores, count, self.config.labels, self.config.min_score)


def pixel_table(spec: Binding, mean: float, std: float) -> np.ndarray | None:
    """What a quantised input takes for each pixel value 0-255, as a 256-entry table (one lookup per pixel
    instead of float arithmetic on the frame); None for a float input or where it is the pixel value itself.
    A quantised model takes real values in its own range: pixels normalised as configured, unless the
    normalisation is the identity (mean 0, std 1)."""
    if spec.dtype == "float32":
        return None
    if spec.dtype == "uint8" and spec.scale == 0:  # a uint8 model without quantisation parameters
        return None
    pixels = np.arange(256, dtype=np.float32)
    identity = abs(mean) < 1e-9 and abs(std - 1) < 1e-9
    table = quantise(pixels if identity else (pixels - mean) / std, spec.scale, spec.zero_point, spec.dtype)
    if table.dtype == np.uint8 and np.array_equal(table, pixels.astype(np.uint8)):
        return None
    return table


def _classifier_output_problem(scores: np.ndarray, labels: int) -> str | None:
    if scores.size != labels:
        return f"the output holds {scores.size} values ({list(scores.shape)}) for {labels} labels"
    if not np.all(np.isfinite(scores)):
        return "the scores are not finite numbers"
    return None


def _detector_output_problem(tensors: list[np.ndarray]) -> str | None:
    boxes, classes, scores, count = tensors
    if boxes.ndim != 3 or boxes.shape[-1] != 4:
        return f"the boxes tensor is {list(boxes.shape)}, not [1, N, 4]"
    slots = boxes.shape[1]
    if classes.size != slots or scores.size != slots:
        return f"{slots} boxes but {classes.size} classes and {scores.size} scores"
    if count.size != 1:
        return f"the count tensor holds {count.size} values, not one"
    values = np.concatenate([boxes.reshape(-1), classes.reshape(-1), scores.reshape(-1), count.reshape(-1)])
    if not np.all(np.isfinite(values)):
        return "the outputs are not finite numbers"
    if not 0 <= float(count.reshape(-1)[0]) <= slots:
        return f"the count is {float(count.reshape(-1)[0]):g} for {slots} detection slots"
    return None


def _image_input(model: Model, name: str) -> Binding:
    if len(model.inputs) != 1:
        raise ModelLoadError(name, f"has {len(model.inputs)} inputs; a camera model takes one image")
    spec = model.inputs[0]
    if len(spec.shape) != 4 or spec.shape[0] != 1 or spec.shape[3] != 3 or min(spec.shape[1:3]) < 8:
        raise ModelLoadError(name, f"input is {list(spec.shape)}; a camera model takes [1, height, width, 3]")
    return spec


def detection_output_order(outputs: list[Binding], name: str) -> tuple[int, int, int, int]:
    """Positions of (boxes, classes, scores, count) among the outputs. Boxes are the [1, N, 4] output and the
    count the [1] one; classes and scores are both [1, N]. Their names tell them apart where the exporter kept
    them; otherwise the known layouts do: TF1 exports start with boxes, then classes, then scores; TF2 exports
    (and others) put scores before classes."""
    shapes = [o.shape for o in outputs]
    boxes = [i for i, s in enumerate(shapes) if len(s) == 3 and s[-1] == 4]
    counts = [i for i, s in enumerate(shapes) if len(s) <= 1]
    pairs = [i for i, s in enumerate(shapes) if len(s) == 2]
    if len(outputs) != 4 or len(boxes) != 1 or len(counts) != 1 or len(pairs) != 2:
        raise ModelLoadError(name, f"outputs {[list(s) for s in shapes]} are not an SSD-style detector's "
                                   "(boxes [1,N,4], classes [1,N], scores [1,N], count [1])")
    first, second = pairs
    names = [outputs[i].name.lower() for i in pairs]
    if "class" in names[1] or "score" in names[0]:
        scores, classes = first, second
    elif "class" in names[0] or "score" in names[1] or boxes[0] == 0:
        classes, scores = first, second
    else:
        scores, classes = first, second
    return (boxes[0], classes, scores, counts[0])


def parse_detections(
    boxes: np.ndarray, classes: np.ndarray, scores: np.ndarray, count: np.ndarray, labels: list[str],
    min_score: float,
) -> list[Detection]:
    """The detections scoring at least `min_score`, best first. Class ids outside the labels are skipped (a
    labels list shorter than the model's classes is a config mistake, not a reason to crash)."""
    n = int(np.asarray(count).reshape(-1)[0]) if np.asarray(count).size else 0
    boxes, classes, scores = boxes.reshape(-1, 4), classes.reshape(-1), scores.reshape(-1)
    found = []
    for i in range(min(n, len(scores))):
        class_id = int(round(float(classes[i])))
        if scores[i] < min_score or not 0 <= class_id < len(labels):
            continue
        found.append(Detection(labels[class_id], float(scores[i]), tuple(float(v) for v in boxes[i])))
    return sorted(found, key=lambda d: -d.score)


def load_custom_model(config: CustomModelConfig, runtime: Runtime, num_threads: int, directory: Path) -> CustomModel:
    path = config.path if config.path.is_absolute() else directory / config.path
    return CustomModel(config, open_model(path, runtime, num_threads, config.name))
