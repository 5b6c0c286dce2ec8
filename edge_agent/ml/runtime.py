"""The TFLite interpreter (tflite-runtime or LiteRT, chosen in this one place) and loading a model checked
against what it claims to be. Nothing here knows what a model is for.

Imported only where models run: numpy and the interpreter cost tens of milliseconds to import.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.ml.metadata import ModelLoadError, ModelMetadata, TensorSpec, load_metadata, metadata_path_for
from edge_agent.ml.quantise import dequantise
from edge_agent.ml.runtime_import import RUNTIME_NAMES, Runtime, import_runtime
from edge_agent.untrusted_files import UnsafeFileError, read_bounded

# The agent runs in 128 MiB (the unit's MemoryMax); camera models are a few MiB.
MAX_MODEL_BYTES = 64 * 1024 * 1024


class RuntimeUnavailable(Exception):
    """No TFLite interpreter can be imported (or not the one the config names)."""


def select_runtime(preference: str = "auto") -> Runtime:
    """`auto`: tflite-runtime where it is installed, else LiteRT. tflite-runtime costs about 10 MiB less
    resident memory (scripts/bench_footprint.py), which a gateway feels; LiteRT invokes faster, which at one
    frame a second it does not (1.8 ms against 0.13 ms a frame). LiteRT serves where tflite-runtime has no
    wheel (Python 3.12+)."""
    order = ["tflite-runtime", "litert"] if preference == "auto" else [preference]
    failures = []
    for name in order:
        try:
            return import_runtime(name)
        except ImportError as exc:
            failures.append(f"{name}: {exc}")
    raise RuntimeUnavailable("no TFLite runtime can be imported (" + "; ".join(failures) + ")")


def available_runtimes() -> list[str]:
    found = []
    for name in RUNTIME_NAMES:
        try:
            import_runtime(name)
        except ImportError:
            continue
        found.append(name)
    return found


@dataclass(frozen=True)
class Binding:
    """One input or output tensor: where it is and how its integers map to real values."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> Binding:
        scale, zero_point = details.get("quantization", (0.0, 0))
        return cls(int(details["index"]), str(details.get("name", "")), tuple(int(d) for d in details["shape"]),
                   np.dtype(details["dtype"]).name, float(scale), int(zero_point))

    def matches(self, spec: TensorSpec) -> str | None:
        """What differs from the metadata's spec, or None."""
        if list(self.shape) != spec.shape or self.dtype != spec.dtype:
            return f"{list(self.shape)} {self.dtype}, metadata says {spec.shape} {spec.dtype}"
        if spec.dtype != "float32" and (self.zero_point != spec.zero_point
                                        or not np.isclose(self.scale, spec.scale, rtol=1e-5, atol=0)):
            return (f"quantisation scale {self.scale:g} zero point {self.zero_point}, metadata says "
                    f"{spec.scale:g} / {spec.zero_point}")
        return None


class Model:
    """An interpreter, allocated and ready, with its tensors described."""

    def __init__(self, name: str, path: Path, interpreter: Any, runtime: Runtime, num_threads: int):
        self.name = name
        self.path = path
        self.interpreter = interpreter
        self.runtime = runtime
        self.num_threads = num_threads
        self.inputs = [Binding.from_details(d) for d in interpreter.get_input_details()]
        self.outputs = [Binding.from_details(d) for d in interpreter.get_output_details()]

    def run(self, tensor: np.ndarray) -> None:
        """Set the (already quantised) input and invoke."""
        self.interpreter.set_tensor(self.inputs[0].index, tensor)
        self.interpreter.invoke()

    def output(self, position: int = 0) -> np.ndarray:
        binding = self.outputs[position]
        return dequantise(self.interpreter.get_tensor(binding.index), binding.scale, binding.zero_point)


def op_input_shapes(model: Model, op_name: str) -> list[tuple[int, ...]] | None:
    """The input tensor shapes of the model's first `op_name` op, or None where the interpreter does not
    list its ops (the listing is not public API in either runtime, so its absence is not an error)."""
    try:
        ops = model.interpreter._get_ops_details()
        shapes = {int(t["index"]): tuple(int(d) for d in t["shape"]) for t in model.interpreter.get_tensor_details()}
    except (AttributeError, KeyError, TypeError, ValueError, RuntimeError):
        return None
    for op in ops:
        if op.get("op_name") == op_name:
            return [shapes.get(int(i), ()) for i in op.get("inputs", [])]
    return None


def open_model(
    path: Path, runtime: Runtime, num_threads: int = 1, name: str | None = None, model_class: type[Model] = Model,
    content: bytes | None = None,
) -> Model:
    """Load any .tflite file (or `content`, the bytes already read from `path`); raises ModelLoadError for a
    missing, unreadable or corrupt one.

    The interpreter gets the bytes, not the path: from a path it maps the file, and a model copied over in place
    (`cp` truncates first) would then crash the agent with SIGBUS at its next frame. A real runtime opens the
    bytes in a child process first (edge_agent.ml.model_trial): a corrupt file crashes that one, not the agent."""
    name = name or path.stem
    if content is None:
        content = read_model_file(path, name)
    if runtime.name in RUNTIME_NAMES:
        from edge_agent.ml.model_trial import crash_in_trial

        problem = crash_in_trial(path, hashlib.sha256(content).hexdigest(), runtime.name, runtime.version)
        if problem is not None:
            raise ModelLoadError(name, f"{path}: {problem}")
    try:
        interpreter = runtime.interpreter_class(model_content=content, num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(name, f"{runtime.name} {runtime.version} cannot load {path}: {reason}") from None
    return model_class(name, path, interpreter, runtime, num_threads)


def read_model_file(path: Path, name: str) -> bytes:
    """The model's bytes, read once (what is checked is what is loaded); ModelLoadError naming what is wrong."""
    try:
        return read_bounded(path, MAX_MODEL_BYTES)
    except FileNotFoundError:
        raise ModelLoadError(name, f"model file {path} not found") from None
    except UnsafeFileError as exc:
        raise ModelLoadError(name, f"model file {path}: {exc}") from None
    except OSError as exc:
        raise ModelLoadError(name, f"model file {path} cannot be read: {exc.strerror or exc}") from None


class ClassifierModel(Model):
    """One of the project's classifiers, checked against its metadata JSON."""

    metadata: ModelMetadata

    @property
    def labels(self) -> list[str]:
        return self.metadata.labels

    @property
    def version(self) -> str:
        return self.metadata.version

    def scores(self, tensor: np.ndarray) -> np.ndarray:
        """Per-label scores (dequantised) for one quantised input."""
        self.run(tensor)
        return self.output(0).reshape(-1)


def load_classifier(path: Path, runtime: Runtime, num_threads: int = 1) -> ClassifierModel:
    """Load a project model and check it is the one its metadata describes; ModelLoadError otherwise."""
    metadata = load_metadata(metadata_path_for(path))
    name = metadata.name
    content = read_model_file(path, name)
    digest = hashlib.sha256(content).hexdigest()
    if digest != metadata.sha256:
        raise ModelLoadError(name, f"{path} is not the file its metadata describes (sha256 {digest[:12]}…, "
                                   f"expected {metadata.sha256[:12]}…): corrupt or replaced")
    _check_runtime_version(metadata, runtime)
    model = open_model(path, runtime, num_threads, name, ClassifierModel, content)
    model.metadata = metadata
    problems = _tensor_problems(model, metadata)
    if problems:
        raise ModelLoadError(name, "; ".join(problems))
    return model


def _check_runtime_version(metadata: ModelMetadata, runtime: Runtime) -> None:
    # LiteRT numbers its releases afresh and runs every op TensorFlow's converter emits; tflite-runtime's
    # version is the TFLite core's, which the model's min_runtime_version entry names.
    needed = metadata.min_tflite_version
    if runtime.name != "tflite-runtime" or not needed:
        return
    if _version_tuple(runtime.version) < _version_tuple(needed):
        raise ModelLoadError(metadata.name, f"needs TFLite {needed} or newer, {runtime.name} is {runtime.version} "
                                            "(install ai-edge-litert, or set [models] runtime = \"litert\")")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def _tensor_problems(model: Model, metadata: ModelMetadata) -> list[str]:
    problems = []
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return [f"has {len(model.inputs)} inputs and {len(model.outputs)} outputs; a classifier has one of each"]
    mismatch = model.inputs[0].matches(metadata.input)
    if mismatch:
        problems.append(f"input is {mismatch}")
    mismatch = model.outputs[0].matches(metadata.output)
    if mismatch:
        problems.append(f"output is {mismatch}")
    if model.outputs[0].shape[-1] != len(metadata.labels):
        problems.append(f"output has {model.outputs[0].shape[-1]} classes but the metadata names "
                        f"{len(metadata.labels)} labels")
    return problems
