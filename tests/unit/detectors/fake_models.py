"""A stand-in TFLite interpreter for the model-safety tests: any input and output shapes, and outputs (or a
failure) chosen per test, so a segmentation model, a detector that breaks at run time and the like need no
TensorFlow to build."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge_agent.ml.runtime import Runtime

Outputs = Callable[[int], Sequence[np.ndarray]]  # call number (0 = the load-time test frame) -> output tensors


def fake_runtime(output_shapes: Sequence[tuple[int, ...]], outputs: Outputs | None = None,
                 input_shape: tuple[int, ...] = (1, 32, 32, 3)) -> Runtime:
    """A runtime whose interpreter declares these output shapes and returns `outputs(call)` (zeros by default);
    an exception `outputs` raises comes out of invoke(), as a real interpreter's does."""

    class FakeInterpreter:
        def __init__(self, model_content: bytes, num_threads: int = 1):
            self.calls = -1
            self.tensors: list[np.ndarray] = []

        def allocate_tensors(self) -> None:
            pass

        def get_input_details(self):
            return [{"index": 0, "name": "image", "shape": np.array(input_shape), "dtype": np.float32,
                     "quantization": (0.0, 0)}]

        def get_output_details(self):
            return [{"index": i + 1, "name": f"out{i}", "shape": np.array(shape), "dtype": np.float32,
                     "quantization": (0.0, 0)} for i, shape in enumerate(output_shapes)]

        def set_tensor(self, index: int, value: np.ndarray) -> None:
            pass

        def invoke(self) -> None:
            self.calls += 1
            made = outputs(self.calls) if outputs else [np.zeros(s, np.float32) for s in output_shapes]
            self.tensors = [np.asarray(t, np.float32) for t in made]

        def get_tensor(self, index: int) -> np.ndarray:
            return self.tensors[index - 1]

    return Runtime("fake", "0.0", FakeInterpreter)


def model_file(directory: Path, name: str = "model.tflite") -> Path:
    path = directory / name
    path.write_bytes(b"not read by the fake interpreter")
    return path


def detector_outputs(count: float = 1.0, slots: int = 10) -> list[np.ndarray]:
    boxes = np.tile(np.array([0.1, 0.1, 0.5, 0.5], np.float32), (1, slots, 1))
    scores = np.zeros((1, slots), np.float32)
    scores[0, 0] = 0.9
    return [boxes, np.zeros((1, slots), np.float32), scores, np.array([count], np.float32)]


DETECTOR_SHAPES = [(1, 10, 4), (1, 10), (1, 10), (1,)]
