"""The shipped models still do what their metadata records: each held-out set is generated again here from
the seed the metadata names and scored on every installed runtime."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest

from edge_agent.ml.classifiers import FrameClassifier, WindowClassifier
from edge_agent.ml.datasets import vision_dataset
from edge_agent.ml.evaluation import evaluate_classifier
from edge_agent.ml.runtime import load_classifier, select_runtime
from edge_agent.ml.window_training import training_windows

from .shipped import RUNTIMES, VISION_MODEL, WINDOW_MODEL

# Runtimes round int8 arithmetic a little differently; the metadata was measured on tflite-runtime.
TOLERANCE = 0.015


def metadata(model) -> dict:
    return json.loads(model.with_suffix(".json").read_text())


@cache
def vision_check_set():
    check = metadata(VISION_MODEL)["metrics"]["check"]
    size = tuple(metadata(VISION_MODEL)["input"]["shape"][2:0:-1])
    return vision_dataset(check["count"], check["seed"], tuple(check["wall_styles"]), size)


def test_recorded_metrics_meet_the_targets_for_int8():
    # The window model's own generator now has overlapping faults and bursty loss: 0.85 there, not 0.95.
    assert metadata(WINDOW_MODEL)["metrics"]["held_out"]["int8"]["macro_f1"] >= 0.85
    assert metadata(VISION_MODEL)["metrics"]["held_out"]["int8"]["macro_f1"] >= 0.90


@pytest.mark.parametrize("runtime_name", RUNTIMES)
def test_window_classifier_meets_its_recorded_held_out_macro_f1(runtime_name):
    meta = metadata(WINDOW_MODEL)
    held = meta["training"]["data"]["held_out"]
    classifier = WindowClassifier(load_classifier(WINDOW_MODEL, select_runtime(runtime_name)))
    x, _, y = training_windows(held["count"], held["seed"], classifier.grid, out_of_domain=False)
    report = evaluate_classifier(classifier.classify_array, x, y, meta["labels"])
    assert report["macro_f1"] >= 0.85
    assert report["macro_f1"] == pytest.approx(meta["metrics"]["held_out"]["int8"]["macro_f1"], abs=TOLERANCE)


@pytest.mark.parametrize("runtime_name", RUNTIMES)
def test_vision_model_meets_its_recorded_macro_f1_on_its_check_sample(runtime_name):
    meta = metadata(VISION_MODEL)
    frames, truth = vision_check_set()
    classifier = FrameClassifier(load_classifier(VISION_MODEL, select_runtime(runtime_name)))
    report = evaluate_classifier(classifier.classify, frames, truth, meta["labels"])
    assert report["macro_f1"] >= 0.90
    assert report["macro_f1"] == pytest.approx(meta["metrics"]["check"]["int8"]["macro_f1"], abs=TOLERANCE)


def test_both_runtimes_agree_on_the_top_class_of_nearly_every_frame():
    frames, _ = vision_check_set()
    labels = [
        [FrameClassifier(load_classifier(VISION_MODEL, select_runtime(name))).classify(f).label for f in frames]
        for name in ("tflite-runtime", "litert")
    ]
    assert np.mean([a == b for a, b in zip(*labels, strict=True)]) >= 0.98
