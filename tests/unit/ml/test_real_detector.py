"""The operator-model path on a real third-party detector: the COCO SSD MobileNet v1 int8 model with
TFLite_Detection_PostProcess (tests/data/models/ssd_mobilenet_v1_coco_quant, PROVENANCE.md there), on real
photographs (tests/data/photos), through the same loader and detector the agent uses."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.camera.occlusion import occluders_over
from edge_agent.config import AgentConfig, CustomModelConfig
from edge_agent.detectors.custom_model import CustomModelDetector
from edge_agent.detectors.ml_catalog import MlComponents, load_vision_models
from edge_agent.ml.custom import load_custom_model
from edge_agent.ml.metadata import ModelLoadError
from edge_agent.ml.runtime import select_runtime

from ..camera.photos import blurred, photo
from .shipped import RUNTIMES, TEST_MODELS_DIR

SSD_DIR = TEST_MODELS_DIR / "ssd_mobilenet_v1_coco_quant"
COCO_LABELS = (SSD_DIR / "coco_labels.txt").read_text().splitlines()


def ssd_config(labels: list[str] = COCO_LABELS, **overrides) -> CustomModelConfig:
    values = {"name": "coco-ssd", "path": str(SSD_DIR / "detect.tflite"), "kind": "object_detection",
              "labels": labels, "alert_labels": ["person"], "min_score": 0.5}
    return CustomModelConfig(**{**values, **overrides})


@pytest.fixture(scope="module", params=RUNTIMES)
def ssd(request):
    return load_custom_model(ssd_config(), select_runtime(request.param), 1, SSD_DIR)


def labels_seen(model, frame: np.ndarray) -> set[str]:
    return {d.label for d in model.detect(frame)}


@pytest.mark.parametrize("name", ["jetson_humans_5", "jetson_humans_1", "coral_squat", "jetson_peds_3"])
def test_people_are_detected_in_photos_of_people(ssd, name):
    assert "person" in labels_seen(ssd, photo(name))


@pytest.mark.parametrize(("name", "animal"), [("coral_pets", "dog"), ("jetson_dog_2", "dog"),
                                              ("coral_cat_720p", "cat"), ("jetson_cat_1", "cat")])
def test_pets_are_detected_as_what_they_are(ssd, name, animal):
    found = ssd.detect(photo(name))
    assert found and found[0].label == animal


@pytest.mark.parametrize("name", ["jetson_room_1", "jetson_banana_0", "jetson_object_7"])
def test_scenes_without_people_give_no_person(ssd, name):
    assert "person" not in labels_seen(ssd, photo(name))


def test_a_blank_wall_and_a_badly_blurred_room_give_nothing_confident(ssd):
    rng = np.random.default_rng(3)
    wall = np.clip(np.full((240, 320, 3), (205, 198, 184), np.float32) + rng.normal(0, 2, (240, 320, 3)), 0, 255)
    assert ssd.detect(wall.astype(np.uint8)) == []
    assert ssd.detect(blurred(photo("jetson_room_4"), sigma=12)) == []
    assert ssd.detect(photo("opencv_text_defocus")) == []


def test_the_person_box_is_where_the_person_is(ssd):
    [person] = [d for d in ssd.detect(photo("coral_squat")) if d.label == "person"]
    ymin, xmin, ymax, xmax = person.box
    assert ymin < 0.3 and ymax > 0.7 and xmin < 0.5 < xmax  # the squatting woman fills the frame's middle
    assert occluders_over((0.4, 0.4, 0.6, 0.6), [person]) == [person]


def test_the_detector_raises_a_person_alert_only_where_people_are(ssd):
    detector = CustomModelDetector(ssd)
    [present] = detector.evaluate(detector.analyse(photo("jetson_humans_6"), "replay", 0.0, 0.0))
    [absent] = detector.evaluate(detector.analyse(photo("jetson_room_1"), "replay", 1.0, 1.0))
    assert present.present and present.type == "camera_alert" and present.evidence["score"] >= 0.5
    assert not absent.present


def test_a_label_map_with_a_background_line_is_refused_as_off_by_one():
    labels = ["???", *COCO_LABELS]
    with pytest.raises(ModelLoadError, match=r"first label is '\?\?\?', a background entry.*off by one"):
        load_custom_model(ssd_config(labels), select_runtime(RUNTIMES[0]), 1, SSD_DIR)


def test_a_label_map_shorter_than_the_models_classes_is_refused():
    with pytest.raises(ModelLoadError, match="reports 90 classes but 80 labels"):
        load_custom_model(ssd_config(COCO_LABELS[:80]), select_runtime(RUNTIMES[0]), 1, SSD_DIR)


def test_the_agent_loads_the_real_detector_from_its_config(tmp_path):
    config = AgentConfig.model_validate({
        "agent": {"state_dir": str(tmp_path / "state")}, "control": {"socket_path": str(tmp_path / "ctl.sock")},
        "models": {"directory": str(SSD_DIR), "custom": [ssd_config().model_dump(mode="json")]}})
    components = MlComponents()
    load_vision_models(config, components)
    [status] = [m for m in components.models if m.name == "coco-ssd"]
    assert status.loaded and status.kind == "object_detection"
    samples = [analyse(photo("jetson_humans_5"), "replay", 0.0, 0.0) for analyse in components.frame_analysers]
    [custom] = [s for s in samples if s.stream == "camera.custom"]
    assert custom.metrics["top_label"] == "person" and custom.metrics["score_person"] >= 0.5
