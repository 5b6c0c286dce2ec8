"""The camera-health detector: per-frame measures as a camera.health sample, findings per issue type (unknown
ones left out), frozen pictures over consecutive frames, a moved camera against the first healthy view."""

from __future__ import annotations

import numpy as np

from edge_agent.camera import health
from edge_agent.collectors.camera import CameraCollector
from edge_agent.config import AgentConfig
from edge_agent.detectors.camera_health import CameraHealthDetector
from edge_agent.detectors.ml_catalog import build_ml_components
from edge_agent.issues import IssueTracker

from ..camera.photos import covered, exposed, noisy, photo, view


def present(detector: CameraHealthDetector, frame: np.ndarray) -> dict[str, dict]:
    sample = detector.analyse(frame, "v4l2:/dev/video0", 0.0, 0.0)
    return {f.type: dict(f.evidence) for f in detector.evaluate(sample) if f.present}


def test_a_covered_lens_is_a_finding_with_its_evidence_and_limit():
    detector = CameraHealthDetector()
    found = present(detector, covered(photo("jetson_room_2")))
    assert list(found) == [health.COVERED]
    evidence = found[health.COVERED]
    assert evidence["flat_fraction"] >= evidence["limit_flat_fraction"] and evidence["source"] == "v4l2:/dev/video0"


def test_a_healthy_frame_gives_an_absent_finding_for_every_issue_type():
    detector = CameraHealthDetector()
    sample = detector.analyse(photo("jetson_desk"), "cam", 0.0, 0.0)
    detector.analyse(photo("jetson_desk"), "cam", 0.0, 0.0)  # now it has a reference
    findings = detector.evaluate(detector.analyse(noisy(photo("jetson_desk")), "cam", 1.0, 1.0))
    assert sorted(f.type for f in findings) == sorted(health.ISSUE_TYPES) and not any(f.present for f in findings)
    assert all(not isinstance(v, np.ndarray) for v in sample.metrics.values())


def test_what_a_dark_frame_cannot_show_is_left_unknown_not_healthy():
    detector = CameraHealthDetector()
    detector.analyse(photo("coral_pets"), "cam", 0.0, 0.0)
    findings = detector.evaluate(detector.analyse(exposed(photo("coral_pets"), 0.06), "cam", 1.0, 1.0))
    types = {f.type: f.present for f in findings}
    assert types[health.TOO_DARK] is True
    assert health.MOVED not in types and health.OUT_OF_FOCUS not in types and health.COLOUR_CAST not in types


def test_the_same_picture_three_times_is_frozen_and_a_live_still_scene_never():
    frozen, live = CameraHealthDetector(), CameraHealthDetector()
    frame = photo("jetson_desk")
    assert [health.FROZEN in present(frozen, frame.copy()) for _ in range(4)] == [False, False, True, True]
    assert not any(health.FROZEN in present(live, noisy(frame, seed=i)) for i in range(4))


def test_a_camera_turned_away_from_its_first_healthy_view_has_moved():
    detector = CameraHealthDetector()
    frame = photo("ont_hg8010h")
    assert present(detector, noisy(view(frame), seed=1)) == {}
    assert present(detector, noisy(view(frame), seed=2)) == {}
    found = present(detector, noisy(view(frame, dx=0.08), seed=3))
    assert list(found) == [health.MOVED] and found[health.MOVED]["shift_fraction"] > 0.05


def test_the_reference_is_never_learned_from_an_unhealthy_frame():
    detector = CameraHealthDetector()
    present(detector, covered(photo("jetson_room_2")))
    assert detector.reference is None
    present(detector, photo("jetson_room_2"))
    assert detector.reference is not None


def test_a_covered_camera_opens_an_issue_through_the_collector_and_resolves_when_uncovered(tmp_path):
    frames = [noisy(photo("jetson_room_2"), seed=i) for i in range(2)]
    frames += [covered(photo("jetson_room_2")) for _ in range(3)] + [noisy(photo("jetson_room_2"), seed=9)] * 3

    class Replay:
        name = "replay:test"

        def __init__(self):
            self.frames = iter(frames)

        def read(self):
            return next(self.frames)

        def close(self):
            pass

    detector = CameraHealthDetector()
    collector = CameraCollector(2.0, Replay(), [detector.analyse])
    tracker, changes = IssueTracker(2, 2), []
    for i in range(len(frames)):
        for sample in collector.collect(float(i), float(i)):
            for finding in detector.evaluate(sample):
                changes += [(e.change, e.body["type"]) for e in tracker.observe(finding, float(i), float(i))
                            if e.change in ("opened", "resolved")]
    assert changes == [("opened", health.COVERED), ("resolved", health.COVERED)]


def test_the_simulated_premises_camera_gets_no_health_checks_a_real_one_does(tmp_path):
    def components(camera: dict):
        config = AgentConfig.model_validate({"agent": {"state_dir": str(tmp_path / "s")}, "camera": camera,
                                             "models": {"window": {"enabled": False}}})
        return [d.name for d in build_ml_components(config, scene=None).detectors]

    assert "camera.health" not in components({"source": "synthetic"})
    assert "camera.health" in components({"source": "replay", "path": str(tmp_path)})
    assert "camera.health" not in components({"source": "replay", "path": str(tmp_path), "health": False})
