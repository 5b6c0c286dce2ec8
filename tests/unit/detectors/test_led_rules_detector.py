"""The watched device's LEDs in the agent: rules open and resolve issues with evidence and guidance, an occluded
frame decides nothing, a lasting occlusion is an issue, and a broken profile never stops the camera."""

from __future__ import annotations

import pytest

from edge_agent.camera import CameraUnavailable
from edge_agent.camera.led_calibrate import calibrate
from edge_agent.camera.led_profile import save_profile
from edge_agent.config import AgentConfig
from edge_agent.detectors.led_rules import OCCLUDED, LedDetector
from edge_agent.detectors.ml_catalog import MlComponents, load_vision_models
from edge_agent.guidance import guidance_for

from ..camera.led_photos import labelled_photos, occluded, switched_off

RULES = [{"issue": "line_down", "when": "los is on or pon is off", "severity": "critical"},
         {"issue": "device_alarm", "when": "any is red"}]


@pytest.fixture(scope="module")
def ont():
    photo = labelled_photos()["ont_f6005_tim.jpg"]
    leds = [(b, n.lower(), None) for b, n in zip(photo.boxes, photo.names, strict=True)]
    profile = calibrate([photo.frame()], leds, RULES, source="zte-f6005")
    return photo, profile


def findings(detector, frame, mono):
    sample = detector.analyse(frame, "cam0", mono, 1000.0 + mono)
    return {f.type: f for f in detector.evaluate(sample)}


def test_a_rule_opens_its_issue_once_the_burst_agrees_and_resolves_it_after(ont):
    photo, profile = ont
    detector = LedDetector(profile, burst=3)
    frame, pon_off = photo.frame(), switched_off(photo.frame(), photo.boxes[2])
    seen = [findings(detector, f, float(i)) for i, f in enumerate([frame, pon_off, pon_off, pon_off, frame, frame])]
    assert [s["line_down"].present for s in seen] == [False, False, True, True, True, False]
    assert not any(s["device_alarm"].present for s in seen) and not any(s[OCCLUDED].present for s in seen)
    issue = seen[2]["line_down"]
    assert issue.severity.value == "critical" and issue.subject == "cam0"
    assert issue.evidence["rule"] == "los is on or pon is off"
    assert issue.evidence["leds"] == "1 power on green; 2 los off; 3 pon off; 4 lan on green"
    text = guidance_for(issue.type, issue.subject, issue.evidence)
    assert "?" not in text and "3 pon off" in text


def test_an_occluded_frame_decides_nothing_and_only_a_lasting_occlusion_is_an_issue(ont):
    photo, profile = ont
    detector = LedDetector(profile, burst=3, occlusion_s=60.0)
    covered = occluded(photo.frame(), photo.boxes[2])
    first = findings(detector, photo.frame(), 0.0)
    assert first["line_down"].present is False
    brief = findings(detector, covered, 10.0)
    assert set(brief) == {OCCLUDED} and brief[OCCLUDED].present is False  # rules neither open nor resolve
    lasting = findings(detector, covered, 75.0)
    assert lasting[OCCLUDED].present is True
    assert lasting[OCCLUDED].evidence["occluded_s"] == 65.0
    assert "?" not in guidance_for(OCCLUDED, "cam0", lasting[OCCLUDED].evidence)
    back = findings(detector, photo.frame(), 80.0)
    assert back[OCCLUDED].present is False and back["line_down"].present is False


def test_the_sample_reports_each_led_as_flat_metrics(ont):
    photo, profile = ont
    sample = LedDetector(profile).analyse(photo.frame(), "cam0", 0.0, 0.0)
    assert sample.stream == "camera.leds"
    assert {k: sample.metrics[k] for k in ("led_names", "led3_on", "led3_colour", "led3_blinking")} == {
        "led_names": "power,los,pon,lan", "led3_on": True, "led3_colour": "green", "led3_blinking": False}
    assert all(not isinstance(v, (list, dict)) for v in sample.metrics.values())


def test_the_agent_reads_the_profile_from_camera_config(ont, tmp_path):
    _, profile = ont
    path = tmp_path / "leds.json"
    save_profile(profile, path)
    components = MlComponents()
    load_vision_models(AgentConfig.model_validate({"camera": {"led_profile": str(path)}}), components)
    assert any(isinstance(d, LedDetector) for d in components.detectors)
    assert [m.loaded for m in components.models if m.kind == "led_profile"] == [True]


def test_a_broken_profile_is_reported_and_the_other_camera_checks_run_on(tmp_path):
    path = tmp_path / "leds.json"
    path.write_text('{"format": "edge-agent-led-profile"')
    components = MlComponents()
    load_vision_models(AgentConfig.model_validate({"camera": {"led_profile": str(path)}}), components)
    [status] = [m for m in components.models if m.kind == "led_profile"]
    assert status.loaded is False and "not JSON" in status.error and str(path) in status.error
    assert not any(isinstance(d, LedDetector) for d in components.detectors)
    assert components.frame_analysers  # the camera health checks still look at every frame


def test_an_object_detector_pauses_reading_through_the_covers_hook(ont):
    """A person over the LEDs pauses reading; the device itself, seen as a "tv" in the reference view, does not;
    the detector runs once per frame."""
    from edge_agent.detectors.led_rules import covers_from_detector
    from edge_agent.ml.custom import Detection

    photo, profile = ont
    calls = []
    device = Detection("tv", 0.8, (0.1, 0.2, 0.9, 0.8))
    seen: list[Detection] = [device]

    def detect(frame):
        calls.append(frame)
        return list(seen)

    detector = LedDetector(profile, burst=3, covers=covers_from_detector(detect, scenery=[device]))
    assert not detector.analyse(photo.frame(), "cam0", 0.0, 0.0).metrics["occluded"]
    seen.append(Detection("person", 0.9, (0.0, 0.5, 1.0, 1.0)))  # over the right half: PON and LAN
    sample = detector.analyse(photo.frame(), "cam0", 1.0, 1.0)
    assert sample.metrics["occluded"] and "LED 3 (pon) is covered by an object" in sample.metrics["why"]
    assert len(calls) == 2


def test_on_a_live_camera_each_frame_is_followed_by_a_short_burst_that_shows_blinking(ont):
    """At 0.5 frames a second a 1 Hz blink is caught at the same phase every time: the burst after each frame
    sees it change."""
    photo, profile = ont
    frame, pon_off = photo.frame(), switched_off(photo.frame(), photo.boxes[2])

    class Camera:
        name = "picamera2"
        frames = [pon_off, frame, pon_off]

        def read(self):
            if not self.frames:
                raise CameraUnavailable("unplugged")
            return self.frames.pop(0)

        def close(self):
            pass

    camera, pauses = Camera(), []
    detector = LedDetector(profile, burst=6, live=camera, sleep=pauses.append)
    sample = detector.analyse(frame, "picamera2", 0.0, 0.0)
    assert pauses == [0.15, 0.15, 0.15] and not camera.frames
    assert sample.metrics["led3_blinking"] is True and sample.metrics["led1_blinking"] is False
    later = findings(detector, frame, 2.0)  # the camera gives nothing more: the frame in hand is still read
    assert later["line_down"].present is False  # a blinking PON is lit, not off


def test_an_operator_object_detector_pauses_led_reading_for_people_and_hands_only():
    """The device itself often reads as an object (COCO "tv"): only a person or a hand may count as a cover
    when no reference view's detections were kept, or the device would hide its own LEDs."""
    from types import SimpleNamespace

    from edge_agent.detectors.custom_model import CustomModelDetector
    from edge_agent.detectors.ml_catalog import MlComponents, occlusion_detector
    from edge_agent.ml.custom import Detection

    seen = [Detection("tv", 0.9, (0.0, 0.0, 1.0, 1.0)), Detection("person", 0.8, (0.2, 0.2, 0.6, 0.6))]
    model = SimpleNamespace(name="coco", config=SimpleNamespace(kind="detector"), detect=lambda frame: seen)
    components = MlComponents()
    assert occlusion_detector(components) is None  # no detector: the model-free checks alone
    components.detectors.append(CustomModelDetector(model))
    detect = occlusion_detector(components)
    assert [d.label for d in detect(None)] == ["person"]
    classifier = SimpleNamespace(name="cls", config=SimpleNamespace(kind="classifier"), detect=None)
    assert occlusion_detector(MlComponents(detectors=[CustomModelDetector(classifier)])) is None
