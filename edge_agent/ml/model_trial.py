"""A model file checked first in a child process: tflite-runtime trusts the offsets inside a model's flatbuffer,
so a corrupt or hostile .tflite file crashes the process that opens it (SIGSEGV, SIGBUS) instead of raising.

LiteRT verifies every offset as it loads and refuses a bad file with an error: an agent running LiteRT needs no
child. For tflite-runtime the child verifies the file with LiteRT where it is installed (of 160 mutated models,
none it passed crashed tflite-runtime after); without LiteRT it opens, allocates and runs the model once with
tflite-runtime, the only guard left: reading out of bounds does not fault the same way in every process, so a
corrupt file can pass it (about one in five of the mutated models that crash tflite-runtime did). One runtime
per child: the child costs about 50 MiB beside the agent, within the unit's 128 MiB.

`python -m edge_agent.ml.model_trial RUNTIME PATH SHA256` is the child. Any other error the interpreter raises is
not its business: the agent's own load raises the same error and names it, so the child exits 0.
"""

from __future__ import annotations

import hashlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edge_agent.ml.runtime_import import Runtime

TRIAL_TIMEOUT_S = 60.0  # importing the runtime on a Pi takes seconds; a model that hangs the interpreter must not
TRIAL_OUTPUT_BYTES = 16 * 1024
EXIT_CHANGED = 3  # the file is no longer the bytes the agent read: it changed while being checked
EXIT_INVALID = 4  # LiteRT's verifier refused the flatbuffer

# (runtime, version, sha256) of the models that survived a trial in this process: a reload tries each once.
_survived: set[tuple[str, str, str]] = set()


def crash_in_trial(path: Path, digest: str, runtime_name: str, runtime_version: str) -> str | None:
    """Why the model at `path` (whose content hashes to `digest`) cannot be opened safely, or None."""
    from edge_agent.bounded_run import run_bounded

    key = (runtime_name, runtime_version, digest)
    if runtime_name == "litert" or key in _survived:
        return None
    argv = [sys.executable, "-m", __name__, runtime_name, str(path), digest]
    try:
        result = run_bounded(argv, TRIAL_TIMEOUT_S, TRIAL_OUTPUT_BYTES)
    except OSError as exc:
        return f"cannot start the model check: {exc.strerror or exc}"
    problem = trial_verdict(result.returncode, result.problem, result.stderr)
    if problem is None:
        _survived.add(key)
    return problem


def trial_verdict(returncode: int | None, stopped: str | None, stderr: bytes) -> str | None:
    """The child's outcome as a reason for a person, or None when the model survived it."""
    if stopped is not None:
        return f"the TFLite interpreter, opening it in a test process, was stopped: {stopped}"
    if returncode == 0:
        return None
    if returncode == EXIT_CHANGED:
        return "the file changed while it was being checked; load it again once it is written"
    if returncode == EXIT_INVALID:
        return "not a valid TFLite model: its flatbuffer fails verification (corrupt or truncated)"
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return (f"the TFLite interpreter crashed ({name}) opening it in a test process: the file is corrupt "
                "or not a model this runtime can run")
    last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {returncode}"]
    return f"the model check failed: {last[0][:200]}"


def _try(runtime_name: str, path: Path, digest: str) -> int:
    import numpy as np

    from edge_agent.ml.runtime_import import import_runtime

    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != digest:
        return EXIT_CHANGED
    try:
        verifier = import_runtime("litert")
    except ImportError:
        verifier = None
    if verifier is not None:
        return 0 if _verifies(content, verifier) else EXIT_INVALID
    runtime = import_runtime(runtime_name)
    try:
        interpreter = runtime.interpreter_class(model_content=content, num_threads=1)
        interpreter.allocate_tensors()
        for details in interpreter.get_input_details():
            interpreter.set_tensor(details["index"], np.zeros(details["shape"], details["dtype"]))
        interpreter.invoke()
    except Exception:  # noqa: BLE001, S110 — a raised error is the agent's load to report, with its own words
        pass
    return 0


def _verifies(content: bytes, litert: Runtime) -> bool:
    """False when LiteRT finds the flatbuffer invalid; True otherwise."""
    try:
        litert.interpreter_class(model_content=content, num_threads=1)
    except ValueError as exc:
        return "Flatbuffer" not in str(exc)  # other refusals (an op LiteRT lacks) are the agent's runtime's to judge
    return True


if __name__ == "__main__":
    sys.exit(_try(sys.argv[1], Path(sys.argv[2]), sys.argv[3]))
