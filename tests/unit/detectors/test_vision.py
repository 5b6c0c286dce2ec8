"""The camera pipeline end to end: frames → vision model → camera.vision samples → findings → issues. A
replayed video of a known fault opens its issue; a missing camera is a finding, not a crash."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.camera.formats import write_y4m
from edge_agent.camera.replay import ReplaySource
from edge_agent.collectors.camera import CameraCollector, SnapshotPolicy
from edge_agent.detectors.vision import CameraAvailability, VisionDetector, verdict_severity
from edge_agent.issues import IssueTracker
from edge_agent.ml.classifiers import load_frame_classifier
from edge_agent.ml.runtime import select_runtime
from edge_agent.model import Sample
from edge_agent.sim.camera_scene import (
    WALL_STYLES,
    SceneState,
    jitter_layout,
    random_conditions,
    random_layout,
    render,
)

from ..ml.shipped import VISION_MODEL


@pytest.fixture(scope="module")
def vision():
    return VisionDetector(load_frame_classifier(VISION_MODEL, select_runtime("tflite-runtime")), min_score=0.6)


def recording(state: SceneState, frames: int, seed: int) -> list[np.ndarray]:
    """A fixed camera filming one room: the same layout, each frame with its own light and noise."""
    rng = np.random.default_rng(seed)
    layout = random_layout(rng, WALL_STYLES)
    return [render(jitter_layout(layout, rng), state, random_conditions(rng), (320, 240), rng)
            for _ in range(frames)]


def run(collector: CameraCollector, detectors, tracker: IssueTracker, rounds: int):
    opened, samples = [], []
    for i in range(rounds):
        for sample in collector.collect(float(i), 1000.0 + i):
            samples.append(sample)
            for detector in detectors:
                for finding in detector.evaluate(sample):
                    opened += [e for e in tracker.observe(finding, float(i), 1000.0 + i) if e.change == "opened"]
    return opened, samples


def test_a_replayed_video_of_an_unplugged_cable_opens_that_issue(vision, tmp_path):
    write_y4m(tmp_path / "site.y4m", recording(SceneState(cable_plugged=False), 8, seed=21))
    collector = CameraCollector(2.0, ReplaySource(tmp_path / "site.y4m", loop=False), [vision.analyse])
    opened, samples = run(collector, [vision, CameraAvailability()], IssueTracker(3, 3), 8)
    assert [(e.body["type"], e.body["subject"]) for e in opened] == [("gateway_cable_unplugged", "gateway")]
    evidence = opened[0].body["evidence"]
    assert evidence["model"] == "gateway-vision" and evidence["source"] == f"replay:{tmp_path / 'site.y4m'}"


def test_a_replayed_video_of_a_healthy_setup_opens_nothing(vision, tmp_path):
    write_y4m(tmp_path / "ok.y4m", recording(SceneState(), 8, seed=22))
    collector = CameraCollector(2.0, ReplaySource(tmp_path / "ok.y4m", loop=False), [vision.analyse])
    opened, _ = run(collector, [vision, CameraAvailability()], IssueTracker(3, 3), 8)
    assert opened == []


def test_the_end_of_a_replay_is_reported_as_camera_unavailable(vision, tmp_path):
    write_y4m(tmp_path / "short.y4m", recording(SceneState(), 1, seed=23))
    collector = CameraCollector(2.0, ReplaySource(tmp_path / "short.y4m", loop=False), [vision.analyse])
    opened, _ = run(collector, [vision, CameraAvailability()], IssueTracker(1, 1), 2)
    assert [e.body["type"] for e in opened] == ["camera_unavailable"]
    assert "end of the replay" in opened[0].body["evidence"]["error"]


def test_samples_carry_only_the_verdict_never_the_frame(vision, tmp_path):
    write_y4m(tmp_path / "ok.y4m", recording(SceneState(led="red"), 1, seed=24))
    collector = CameraCollector(2.0, ReplaySource(tmp_path / "ok.y4m"), [vision.analyse])
    samples = collector.collect(0.0, 0.0)
    assert [s.stream for s in samples] == ["camera.status", "camera.vision"]
    assert set(samples[1].metrics) == {"label", "score", "model", "model_version"}
    assert all(not isinstance(v, (bytes, np.ndarray)) for s in samples for v in s.metrics.values())


def test_snapshots_are_uploaded_only_when_enabled_downscaled_and_rate_limited(vision, tmp_path):
    write_y4m(tmp_path / "ok.y4m", recording(SceneState(), 1, seed=25))
    collector = CameraCollector(2.0, ReplaySource(tmp_path / "ok.y4m"), [vision.analyse],
                                SnapshotPolicy(width=64, interval_s=600))
    first, second = collector.collect(0.0, 0.0), collector.collect(10.0, 10.0)
    [snapshot] = [s for s in first if s.stream == "camera.snapshot"]
    assert snapshot.metrics["width"] == 64 and snapshot.metrics["height"] == 48
    assert not [s for s in second if s.stream == "camera.snapshot"]


def test_verdicts_of_other_models_are_ignored(vision):
    sample = Sample("camera.vision", "synthetic",
                    {"label": "led_red", "score": 0.99, "model": "someone-else", "model_version": "1.0.0"}, 0, 0)
    assert vision.evaluate(sample) == []


def test_verdicts_are_informational_until_the_model_passes_an_independent_test(vision):
    sample = Sample("camera.vision", "synthetic",
                    {"label": "led_red", "score": 0.99, "model": "gateway-vision", "model_version": "1.0.0"}, 0, 0)
    assert {f.severity.value for f in vision.evaluate(sample)} == {"info"}
    assert verdict_severity({"independent_test": {"passed": True, "accuracy": 0.95}}).value == "warning"
    assert verdict_severity({"independent_test": {"passed": False, "accuracy": 0.238}}).value == "info"
