"""Loading a model: the shipped ones load on every installed runtime; a missing, corrupt or mismatched one is
refused with a message that says what is wrong."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.runtime import RuntimeUnavailable, load_classifier, select_runtime

from .shipped import RUNTIMES, VISION_MODEL, WINDOW_MODEL, copy_model, edit_metadata


def test_both_runtimes_are_installed_for_the_tests():
    assert RUNTIMES == ["tflite-runtime", "litert"]


@pytest.mark.parametrize("runtime_name", RUNTIMES)
@pytest.mark.parametrize("model_path", [WINDOW_MODEL, VISION_MODEL], ids=["window", "vision"])
def test_shipped_models_load_and_match_their_metadata(model_path, runtime_name):
    model = load_classifier(model_path, select_runtime(runtime_name))
    assert model.inputs[0].dtype in ("int8", "uint8") and model.outputs[0].dtype in ("int8", "uint8")
    assert model.outputs[0].shape[-1] == len(model.labels)
    assert model.runtime.name == runtime_name


def test_auto_prefers_the_lighter_tflite_runtime_where_it_is_installed():
    assert select_runtime("auto").name == "tflite-runtime"


def test_an_unknown_runtime_name_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="tflite-runtime, litert"):
        select_runtime("onnx")


def test_a_runtime_that_cannot_be_imported_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(RuntimeUnavailable, match="no TFLite runtime can be imported .litert: "):
        select_runtime("litert")


def test_auto_falls_back_to_tflite_runtime_without_litert(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    assert select_runtime("auto").name == "tflite-runtime"


def test_a_missing_model_file_is_named(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    model.unlink()
    with pytest.raises(ModelLoadError, match="not found"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_missing_metadata_is_named(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    model.with_suffix(".json").unlink()
    with pytest.raises(ModelLoadError, match=r"metadata file .*connectivity_window.json not found"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_metadata_that_is_not_json_is_named(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    model.with_suffix(".json").write_text("{labels: [")
    with pytest.raises(ModelLoadError, match="not readable JSON"):
        load_classifier(model, select_runtime("tflite-runtime"))


@pytest.mark.parametrize("content, named", [
    (b"[" * 100_000 + b"]" * 100_000, "nested 100000 levels deep"),
    (b'{"labels": ["ok"], "version": NaN}', "NaN is not a number"),
    (b'{"labels": ["ok"], "labels": ["ok", "down"]}', "key 'labels' appears more than once"),
    (b"\xff\xfe{", "not UTF-8"),
])
def test_hostile_metadata_is_a_load_error_naming_the_problem(tmp_path, content, named):
    model = copy_model(WINDOW_MODEL, tmp_path)
    model.with_suffix(".json").write_bytes(content)
    with pytest.raises(ModelLoadError, match=f"not readable JSON: {named}"):
        load_classifier(model, select_runtime("tflite-runtime"))


@pytest.mark.timeout(10)
def test_metadata_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    import os

    model = copy_model(WINDOW_MODEL, tmp_path)
    model.with_suffix(".json").unlink()
    os.mkfifo(model.with_suffix(".json"))
    with pytest.raises(ModelLoadError, match="not readable JSON: not a regular file"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_metadata_with_a_missing_key_names_the_key(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    edit_metadata(model, lambda m: m.pop("labels"))
    with pytest.raises(ModelLoadError, match="labels: Field required"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_a_corrupted_model_file_is_caught_by_its_checksum(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="corrupt or replaced"):
        load_classifier(model, select_runtime("tflite-runtime"))


@pytest.mark.parametrize("runtime_name", RUNTIMES)
def test_a_file_that_is_no_tflite_model_is_refused_by_the_verifier(tmp_path, runtime_name):
    model = copy_model(WINDOW_MODEL, tmp_path)
    model.write_bytes(b"this is not a flatbuffer" * 10)
    edit_metadata(model, lambda m: m.update(sha256=hashlib.sha256(model.read_bytes()).hexdigest()))
    refused = "not a valid (TFLite model: its flatbuffer fails verification|Flatbuffer)"  # the check's, or LiteRT's
    with pytest.raises(ModelLoadError, match=refused):
        load_classifier(model, select_runtime(runtime_name))


def test_an_input_shape_other_than_the_metadata_says_is_refused(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    edit_metadata(model, lambda m: m["input"].update(shape=[1, 60, 8]))
    with pytest.raises(ModelLoadError, match=r"input is \[1, 30, 8\] int8, metadata says \[1, 60, 8\] int8"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_a_quantisation_other_than_the_metadata_says_is_refused(tmp_path):
    model = copy_model(VISION_MODEL, tmp_path)
    edit_metadata(model, lambda m: m["input"].update(scale=0.5))
    with pytest.raises(ModelLoadError, match="quantisation scale"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_a_label_list_that_does_not_fit_the_output_is_refused(tmp_path):
    model = copy_model(VISION_MODEL, tmp_path)
    edit_metadata(model, lambda m: m["labels"].append("toaster"))
    with pytest.raises(ModelLoadError, match="5 classes but the metadata names 6 labels"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_a_model_needing_a_newer_tflite_than_tflite_runtime_is_refused_with_what_to_do(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    edit_metadata(model, lambda m: m.update(min_tflite_version="2.99.0"))
    with pytest.raises(ModelLoadError, match="needs TFLite 2.99.0 or newer.*install ai-edge-litert"):
        load_classifier(model, select_runtime("tflite-runtime"))


def test_litert_is_not_held_to_the_tflite_core_version(tmp_path):
    model = copy_model(WINDOW_MODEL, tmp_path)
    edit_metadata(model, lambda m: m.update(min_tflite_version="2.99.0"))
    assert load_classifier(model, select_runtime("litert")).labels[0] == "healthy"


def test_num_threads_reaches_the_interpreter():
    model = load_classifier(WINDOW_MODEL, select_runtime("tflite-runtime"), num_threads=2)
    assert model.num_threads == 2
    scores = model.scores(np.zeros(model.inputs[0].shape, dtype=np.int8))
    assert scores.shape == (5,) and abs(float(scores.sum()) - 1.0) < 0.05
