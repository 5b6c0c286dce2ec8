"""An operator's own camera model: an SSD-style detector or a classifier, declared in config with its labels."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.config import CustomModelConfig
from edge_agent.detectors.custom_model import CustomModelDetector
from edge_agent.ml.custom import detection_output_order, load_custom_model, parse_detections
from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.runtime import Binding, select_runtime

from .shipped import RUNTIMES, TEST_MODELS_DIR


def detector_config(**overrides) -> CustomModelConfig:
    values = {"name": "red-finder", "path": "tiny_detector.tflite", "kind": "object_detection",
              "labels": ["red_thing"], "alert_labels": ["red_thing"], "min_score": 0.5}
    return CustomModelConfig(**{**values, **overrides})


def frame_with_red_top_left() -> np.ndarray:
    frame = np.full((120, 160, 3), 90, np.uint8)
    frame[:60, :80] = (250, 10, 10)
    return frame


def binding(name: str, shape: tuple[int, ...]) -> Binding:
    return Binding(0, name, shape, "float32", 0.0, 0)


def test_tf1_detector_outputs_are_boxes_classes_scores_count():
    outputs = [binding("TFLite_Detection_PostProcess", (1, 10, 4)), binding("TFLite_Detection_PostProcess:1", (1, 10)),
               binding("TFLite_Detection_PostProcess:2", (1, 10)), binding("TFLite_Detection_PostProcess:3", (1,))]
    assert detection_output_order(outputs, "m") == (0, 1, 2, 3)


def test_tf2_detector_outputs_put_scores_first():
    outputs = [binding("StatefulPartitionedCall:1", (1, 10)), binding("StatefulPartitionedCall:3", (1, 10, 4)),
               binding("StatefulPartitionedCall:0", (1,)), binding("StatefulPartitionedCall:2", (1, 10))]
    assert detection_output_order(outputs, "m") == (1, 3, 0, 2)


def test_output_names_that_say_what_they_are_win():
    outputs = [binding("detection_classes", (1, 10)), binding("detection_boxes", (1, 10, 4)),
               binding("num_detections", (1,)), binding("detection_scores", (1, 10))]
    assert detection_output_order(outputs, "m") == (1, 0, 3, 2)


def test_a_model_without_detector_outputs_is_refused_naming_the_shapes():
    with pytest.raises(ModelLoadError, match=r"\[1, 5\].*not an SSD-style detector"):
        detection_output_order([binding("scores", (1, 5))], "m")


def test_detections_below_min_score_or_with_unknown_classes_are_dropped_best_first():
    boxes = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    found = parse_detections(boxes, np.array([[0, 7, 0, 0]], np.float32), np.array([[0.6, 0.99, 0.3, 0.9]]),
                             np.array([4.0]), ["cat"], min_score=0.5)
    assert [(d.label, d.score) for d in found] == [("cat", pytest.approx(0.9)), ("cat", pytest.approx(0.6))]


@pytest.mark.parametrize("runtime_name", RUNTIMES)
def test_the_detector_finds_the_red_quadrant_and_raises_an_alert(runtime_name):
    model = load_custom_model(detector_config(), select_runtime(runtime_name), 1, TEST_MODELS_DIR)
    detections = model.detect(frame_with_red_top_left())
    assert [d.box for d in detections] == [(0.0, 0.0, 0.5, 0.5)]
    detector = CustomModelDetector(model)
    sample = detector.analyse(frame_with_red_top_left(), "synthetic", 0.0, 0.0)
    assert sample.metrics["top_label"] == "red_thing" and sample.metrics["detections"] == 1
    [finding] = detector.evaluate(sample)
    assert finding.present and finding.type == "camera_alert" and finding.subject == "red-finder:red_thing"


def test_no_red_means_the_alert_is_absent():
    model = load_custom_model(detector_config(), select_runtime("tflite-runtime"), 1, TEST_MODELS_DIR)
    detector = CustomModelDetector(model)
    [finding] = detector.evaluate(detector.analyse(np.full((64, 64, 3), 90, np.uint8), "synthetic", 0, 0))
    assert not finding.present


def test_a_float_classifier_gets_normalised_pixels_and_names_its_label():
    config = CustomModelConfig(name="light", path=TEST_MODELS_DIR / "tiny_classifier.tflite", kind="classifier",
                               labels=["dark", "bright"], alert_labels=["dark"])
    model = load_custom_model(config, select_runtime("tflite-runtime"), 1, TEST_MODELS_DIR)
    assert model.classify(np.full((48, 64, 3), 240, np.uint8))[0] == "bright"
    assert model.classify(np.full((48, 64, 3), 10, np.uint8))[0] == "dark"


def test_a_classifier_whose_labels_do_not_fit_is_refused():
    config = CustomModelConfig(name="light", path=TEST_MODELS_DIR / "tiny_classifier.tflite", kind="classifier",
                               labels=["dark", "dim", "bright"])
    with pytest.raises(ModelLoadError, match=r"output is \[1, 2\], not one score per label: .* with 3 labels"):
        load_custom_model(config, select_runtime("tflite-runtime"), 1, TEST_MODELS_DIR)


def test_a_classifier_declared_as_a_detector_is_refused():
    config = detector_config(path=TEST_MODELS_DIR / "tiny_classifier.tflite")
    with pytest.raises(ModelLoadError, match="not an SSD-style detector"):
        load_custom_model(config, select_runtime("tflite-runtime"), 1, TEST_MODELS_DIR)


def test_alert_labels_must_be_among_the_labels():
    with pytest.raises(ValueError, match=r"alert_labels \['smoke'\] are not in labels"):
        detector_config(alert_labels=["smoke"])


def test_a_quantised_input_takes_each_pixel_through_its_quantisation_table():
    from edge_agent.ml.custom import pixel_table
    from edge_agent.ml.quantise import quantise

    ssd_input = Binding(0, "image", (1, 300, 300, 3), "uint8", 1 / 128, 128)
    table = pixel_table(ssd_input, 127.5, 127.5)
    pixels = np.arange(256, dtype=np.float32)
    assert np.array_equal(table, quantise((pixels - 127.5) / 127.5, 1 / 128, 128, "uint8"))
    assert pixel_table(Binding(0, "image", (1, 96, 96, 3), "uint8", 1.0, 0), 0.0, 1.0) is None  # the pixel itself
    int8 = pixel_table(Binding(0, "image", (1, 96, 96, 3), "int8", 1.0, -128), 0.0, 1.0)
    assert int8.dtype == np.int8 and int8[0] == -128 and int8[255] == 127
