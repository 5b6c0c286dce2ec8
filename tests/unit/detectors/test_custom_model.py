"""An operator's camera model is checked for its declared kind with a test frame at load, and one that fails at
run time is disabled with a finding: it never blinds the other camera detectors nor drops camera.status."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from edge_agent.camera.synthetic import StaticScene, SyntheticSource
from edge_agent.collectors.camera import CameraCollector
from edge_agent.config import AgentConfig, CustomModelConfig
from edge_agent.detectors import ml_catalog
from edge_agent.detectors.camera_health import CameraHealthDetector
from edge_agent.detectors.custom_model import CustomModelDetector
from edge_agent.detectors.ml_catalog import MlComponents, load_vision_models
from edge_agent.detectors.vision import CameraModelFailures
from edge_agent.ml.custom import load_custom_model
from edge_agent.ml.metadata import ModelLoadError
from edge_agent.model import Sample
from edge_agent.sim.camera_scene import SceneState

from .fake_models import DETECTOR_SHAPES, detector_outputs, fake_runtime, model_file


def custom(tmp_path, kind: str = "classifier", labels=("person",), name: str = "site-model") -> CustomModelConfig:
    return CustomModelConfig(name=name, path=model_file(tmp_path), kind=kind, labels=list(labels),
                             alert_labels=[labels[0]])


def test_a_segmentation_model_declared_as_a_classifier_is_refused_at_load(tmp_path):
    runtime = fake_runtime([(1, 256, 256, 1)])
    with pytest.raises(ModelLoadError, match=r"output is \[1, 256, 256, 1\], not one score per label"):
        load_custom_model(custom(tmp_path), runtime, 1, tmp_path)


def test_a_classifier_whose_test_frame_gives_more_scores_than_labels_is_refused(tmp_path):
    runtime = fake_runtime([(1, 2)], outputs=lambda call: [np.zeros((1, 7))])
    with pytest.raises(ModelLoadError, match=r"on a test frame, the output holds 7 values .* for 2 labels"):
        load_custom_model(custom(tmp_path, labels=("person", "cat")), runtime, 1, tmp_path)


def test_a_classifier_answering_nan_is_refused(tmp_path):
    runtime = fake_runtime([(1, 2)], outputs=lambda call: [np.full((1, 2), np.nan)])
    with pytest.raises(ModelLoadError, match="not finite"):
        load_custom_model(custom(tmp_path, labels=("person", "cat")), runtime, 1, tmp_path)


def test_a_detector_whose_test_frame_fails_is_refused_naming_the_error(tmp_path):
    def fail(call):
        raise RuntimeError("tensor 7 has the wrong type")

    with pytest.raises(ModelLoadError, match="fails on a test frame: RuntimeError: tensor 7 has the wrong type"):
        load_custom_model(custom(tmp_path, "object_detection"), fake_runtime(DETECTOR_SHAPES, fail), 1, tmp_path)


def test_a_detector_counting_more_detections_than_it_has_slots_is_refused(tmp_path):
    runtime = fake_runtime(DETECTOR_SHAPES, lambda call: detector_outputs(count=55))
    with pytest.raises(ModelLoadError, match="count is 55 for 10 detection slots"):
        load_custom_model(custom(tmp_path, "object_detection"), runtime, 1, tmp_path)


def test_a_detector_with_its_four_tensors_loads_and_detects(tmp_path):
    runtime = fake_runtime(DETECTOR_SHAPES, lambda call: detector_outputs())
    model = load_custom_model(custom(tmp_path, "object_detection"), runtime, 1, tmp_path)
    assert [d.label for d in model.detect(np.zeros((48, 64, 3), np.uint8))] == ["person"]


def failing_after_load(call: int):
    if call == 0:  # the load-time test frame passes
        return [np.array([[0.1, 0.9]])]
    raise RuntimeError("Node number 3 (CONV_2D) failed to invoke")


def test_a_model_failing_on_every_frame_is_disabled_and_the_others_keep_running(tmp_path):
    broken = CustomModelDetector(load_custom_model(custom(tmp_path, labels=("a", "b"), name="broken"),
                                                   fake_runtime([(1, 2)], failing_after_load), 1, tmp_path))
    healthy = CustomModelDetector(load_custom_model(custom(tmp_path, labels=("a", "b"), name="healthy"),
                                                    fake_runtime([(1, 2)]), 1, tmp_path))
    source = SyntheticSource(StaticScene(SceneState()), (64, 48))
    collector = CameraCollector(2.0, source, [broken.analyse, healthy.analyse])
    for round_ in range(3):
        samples = collector.collect(float(round_), float(round_))
        assert [s.stream for s in samples] == ["camera.status", "camera.model_failed", "camera.custom"]
    failed = samples[1]
    assert failed.subject == "broken" and "CONV_2D" in failed.metrics["error"]
    [finding] = CameraModelFailures().evaluate(failed)
    assert finding.present and finding.type == "camera_model_failed" and finding.subject == "broken"
    [healthy_finding] = CameraModelFailures().evaluate(samples[2])
    assert not healthy_finding.present and healthy_finding.subject == "healthy"


def agent_config(tmp_path, models: list[dict]) -> AgentConfig:
    return AgentConfig.model_validate({
        "agent": {"state_dir": str(tmp_path / "state")}, "control": {"socket_path": str(tmp_path / "ctl.sock")},
        "models": {"directory": str(tmp_path), "custom": models}})


def test_the_status_of_a_model_that_failed_at_run_time_says_disabled_and_why(tmp_path, monkeypatch):
    model_file(tmp_path, "broken.tflite")
    monkeypatch.setattr(ml_catalog, "select_runtime", lambda preference: fake_runtime([(1, 2)], failing_after_load))
    components = MlComponents()
    load_vision_models(agent_config(tmp_path, [{"name": "broken", "path": "broken.tflite", "kind": "classifier",
                                                "labels": ["a", "b"]}]), components)
    [status] = components.models
    assert status.loaded
    for analyse in components.frame_analysers:
        analyse(np.zeros((48, 64, 3), np.uint8), "synthetic", 0.0, 0.0)
    assert not status.loaded and "disabled: RuntimeError" in status.error
    assert "camera.models" in [d.name for d in components.detectors]


def test_camera_check_reports_a_failing_model_without_a_traceback(tmp_path, monkeypatch, capsys):
    from edge_agent.cli import main

    model_file(tmp_path, "broken.tflite")
    config = tmp_path / "agent.toml"
    config.write_text(f'[models]\ndirectory = "{tmp_path}"\n[[models.custom]]\nname = "broken"\n'
                      'path = "broken.tflite"\nkind = "classifier"\nlabels = ["a", "b"]\n')
    monkeypatch.setattr(ml_catalog, "select_runtime", lambda preference: fake_runtime([(1, 2)], failing_after_load))
    code = main(["camera", "check", "--config", str(config), "--source", "synthetic:ok", "--json"])
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert code == 1 and "Traceback" not in out.err
    assert "camera_model_failed" in [f["type"] for f in report["findings"]]
    assert [m["loaded"] for m in report["models"] if m["name"] == "broken"] == [False]


def test_a_failure_sample_without_a_model_name_says_nothing():
    assert CameraModelFailures().evaluate(Sample("camera.model_failed", "x", {"error": "e"}, 0, 0)) == []


def test_a_segmentation_model_declared_as_a_detector_is_refused_at_load(tmp_path):
    with pytest.raises(ModelLoadError, match=r"outputs \[\[1, 256, 256, 1\]\] are not an SSD-style detector"):
        load_custom_model(custom(tmp_path, "object_detection"), fake_runtime([(1, 256, 256, 1)]), 1, tmp_path)


def nan_from_the_third_frame(call: int):
    outputs = detector_outputs()
    if call >= 3:
        outputs[2][0, 0] = np.nan
    return outputs


def wrong_shapes_from_the_second_frame(call: int):
    return detector_outputs() if call < 2 else [np.zeros((1, 256, 256, 1)), *detector_outputs()[1:]]


@pytest.mark.parametrize(("outputs", "error"), [(nan_from_the_third_frame, "not finite"),
                                                (wrong_shapes_from_the_second_frame, r"boxes tensor is \[1, 256")])
def test_a_detector_answering_nonsense_at_run_time_is_disabled_and_the_health_checks_keep_running(
        tmp_path, outputs, error):
    broken = CustomModelDetector(load_custom_model(custom(tmp_path, "object_detection", name="broken"),
                                                   fake_runtime(DETECTOR_SHAPES, outputs), 1, tmp_path))
    health = CameraHealthDetector()
    source = SyntheticSource(StaticScene(SceneState()), (64, 48))
    collector = CameraCollector(2.0, source, [broken.analyse, health.analyse])
    streams = [[s.stream for s in collector.collect(float(i), float(i))] for i in range(4)]
    assert streams[0][1] == "camera.custom" and streams[-1][1] == "camera.model_failed"
    assert all(s[0] == "camera.status" and len(s) == 3 and s[2] != "camera.model_failed" for s in streams)
    failed = collector.collect(9.0, 9.0)[1]
    assert failed.metrics["model"] == "broken" and re.search(error, failed.metrics["error"])


def test_a_classifier_answering_nan_after_its_test_frame_is_disabled_not_believed(tmp_path):
    def nan_later(call: int):
        return [np.array([[0.2, 0.8]])] if call == 0 else [np.array([[np.nan, 0.9]])]

    broken = CustomModelDetector(load_custom_model(custom(tmp_path, labels=("a", "b"), name="broken"),
                                                   fake_runtime([(1, 2)], nan_later), 1, tmp_path))
    collector = CameraCollector(2.0, SyntheticSource(StaticScene(SceneState()), (64, 48)), [broken.analyse])
    status, failed = collector.collect(0.0, 0.0)
    assert status.metrics["available"] is True
    assert failed.stream == "camera.model_failed" and "not finite" in failed.metrics["error"]
