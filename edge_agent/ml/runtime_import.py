"""Which TFLite interpreter package is imported, and how: the one place that knows their module names.

Apart from runtime.py (no numpy, no pydantic here) so that the model check's child process
(edge_agent/ml/model_trial.py) imports only the interpreter it runs, within the agent's memory.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

RUNTIME_NAMES = ("tflite-runtime", "litert")


@dataclass(frozen=True)
class Runtime:
    name: str
    version: str
    interpreter_class: Any


def import_runtime(name: str) -> Runtime:
    """The named runtime; ImportError when it is not installed, ValueError for a name that is none."""
    # The packages' own __version__, not importlib.metadata: that pulls in the email parser (~1.5 MiB resident).
    if name == "litert":
        module = importlib.import_module("ai_edge_litert.interpreter")
        return Runtime(name, importlib.import_module("ai_edge_litert").__version__, module.Interpreter)
    if name == "tflite-runtime":
        module = importlib.import_module("tflite_runtime.interpreter")
        return Runtime(name, importlib.import_module("tflite_runtime").__version__, module.Interpreter)
    raise ValueError(f"unknown TFLite runtime {name!r}; expected one of {', '.join(RUNTIME_NAMES)} or auto")
