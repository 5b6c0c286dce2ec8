"""A corrupt model file never crashes the agent: it is opened in a test process first and refused with a reason,
and a model replaced on disk while the agent runs it is not read again. The loads run in a subprocess here, so
that a regression fails one test instead of killing the test runner with SIGSEGV."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.model_trial import EXIT_CHANGED, EXIT_INVALID, trial_verdict
from edge_agent.ml.runtime import read_model_file

from .shipped import TEST_MODELS_DIR

CLASSIFIER = TEST_MODELS_DIR / "tiny_classifier.tflite"
DETECTOR = TEST_MODELS_DIR / "ssd_mobilenet_v1_coco_quant" / "detect.tflite"
# One byte of the tiny classifier's flatbuffer changed: tflite-runtime 2.14 follows the bad offset and dies with
# SIGSEGV while constructing the interpreter (found by mutating the file; a single changed byte is enough).
CRASHING_OFFSET, CRASHING_BYTE = 1210, 0x75


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("runtime_name", ["tflite-runtime", "litert"])
def test_a_model_that_crashes_the_interpreter_is_refused_and_the_agent_process_lives(tmp_path, runtime_name):
    content = bytearray(CLASSIFIER.read_bytes())
    content[CRASHING_OFFSET] = CRASHING_BYTE
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(bytes(content))
    result = run_python(f"""
from pathlib import Path
from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.runtime import open_model, select_runtime
try:
    open_model(Path({str(corrupt)!r}), select_runtime({runtime_name!r}))
except ModelLoadError as exc:
    print(exc)
""")
    assert result.returncode == 0, f"the loading process died ({result.returncode}): {result.stderr[-500:]}"
    reason = result.stdout.split("corrupt.tflite", 1)[-1]
    assert "corrupt" in reason or "not a valid Flatbuffer" in reason, result.stdout  # the child's, or LiteRT's own


@pytest.mark.timeout(120)
def test_a_model_copied_over_in_place_while_loaded_does_not_crash_the_next_frame(tmp_path):
    model = tmp_path / "detect.tflite"
    model.write_bytes(DETECTOR.read_bytes())
    result = run_python(f"""
import os
import numpy as np
from pathlib import Path
from edge_agent.ml.runtime import open_model, select_runtime
model = open_model(Path({str(model)!r}), select_runtime("tflite-runtime"))
frame = np.zeros(model.inputs[0].shape, model.inputs[0].dtype)
model.run(frame)
os.truncate({str(model)!r}, 0)  # what `cp new.tflite {model.name}` does first
model.run(frame)
print("ran", model.output(0).shape)
""")
    assert result.returncode == 0, f"the loading process died ({result.returncode}): {result.stderr[-500:]}"
    assert "ran" in result.stdout


def test_a_crash_in_the_test_process_is_named_by_its_signal():
    reason = trial_verdict(-signal.SIGSEGV, None, b"")
    assert "crashed (SIGSEGV)" in reason and "corrupt" in reason


def test_a_flatbuffer_that_fails_verification_is_named():
    assert "fails verification" in trial_verdict(EXIT_INVALID, None, b"")


def test_a_file_changed_during_the_check_is_named():
    assert "changed while it was being checked" in trial_verdict(EXIT_CHANGED, None, b"")


def test_a_test_process_that_hangs_is_named_with_what_stopped_it():
    assert "no exit within 60 s" in trial_verdict(None, "no exit within 60 s", b"")


def test_a_model_that_survives_its_trial_gives_no_reason():
    assert trial_verdict(0, None, b"") is None


@pytest.mark.timeout(10)
def test_a_fifo_named_as_the_model_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.tflite"
    os.mkfifo(fifo)
    with pytest.raises(ModelLoadError, match="not a regular file"):
        read_model_file(fifo, "custom")


def test_a_model_larger_than_the_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr("edge_agent.ml.runtime.MAX_MODEL_BYTES", 1000)
    big = tmp_path / "big.tflite"
    big.write_bytes(b"\0" * 1001)
    with pytest.raises(ModelLoadError, match="1001 bytes; at most 1000"):
        read_model_file(big, "custom")


def test_a_missing_model_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        read_model_file(tmp_path / "gone.tflite", "custom")


def test_the_model_file_read_is_exactly_its_bytes():
    assert read_model_file(CLASSIFIER, "tiny") == CLASSIFIER.read_bytes()
