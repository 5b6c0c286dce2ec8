"""`edge-agent camera check`: one frame, the vision models' verdict, and what to do about it."""

from __future__ import annotations

import json

import pytest

from edge_agent.camera.formats import write_ppm
from edge_agent.cli import main

from .camera.photos import PHOTOS, covered, photo


@pytest.fixture
def vision_config(tmp_path) -> str:
    """The gateway-vision model is off by default; these checks turn it on as the demo does."""
    path = tmp_path / "vision.toml"
    path.write_text("[models.vision]\nenabled = true\n")
    return str(path)


def check(capsys, *args: str) -> tuple[int, str]:
    code = main(["camera", "check", *args])
    return code, capsys.readouterr().out


def test_a_healthy_scene_exits_0_and_says_the_setup_looks_right(capsys, vision_config):
    code, out = check(capsys, "--config", vision_config, "--source", "synthetic:ok")
    assert code == 0
    assert "ml.vision: ok" in out and "set-up looks right" in out


def test_a_red_led_exits_1_with_guidance_in_json(capsys, vision_config):
    code, out = check(capsys, "--config", vision_config, "--source", "synthetic:led_red", "--json")
    report = json.loads(out)
    assert code == 1
    assert [f["type"] for f in report["findings"]] == ["gateway_led_red"]
    assert "red status LED" in report["findings"][0]["guidance"]
    assert [r["model"] for r in report["results"] if r["detector"] == "ml.vision"] == ["gateway-vision"]


def test_a_camera_that_is_not_there_exits_2_and_says_why(capsys):
    code, out = check(capsys, "--source", "v4l2:/dev/video99")
    assert code == 2
    assert "UNAVAILABLE" in out and "/dev/video99" in out


def test_a_frame_no_check_can_judge_exits_2_saying_what_turns_a_model_on(capsys):
    code, out = check(capsys, "--source", "synthetic:led_red")  # the default config: no model, no lens to judge
    assert code == 2
    assert "nothing judged this frame" in out and "[models.vision] enabled = true" in out


def test_a_real_photo_with_health_checks_off_and_no_model_names_the_key_that_turned_them_off(capsys, tmp_path):
    config = tmp_path / "no-health.toml"
    config.write_text("[camera]\nhealth = false\n")
    code, out = check(capsys, "--config", str(config), "--source", str(PHOTOS / "devices" / "ont_hg8010h.jpg"),
                      "--json")
    assert code == 2
    assert "[camera] health = false" in json.loads(out)["nothing_checked"]


def test_the_frame_is_saved_only_when_asked(capsys, tmp_path, vision_config):
    code, _ = check(capsys, "--config", vision_config, "--source", "synthetic:ok",
                    "--save", str(tmp_path / "frame.ppm"))
    assert code == 0 and (tmp_path / "frame.ppm").read_bytes().startswith(b"P6\n192 144\n")


def test_an_unknown_source_exits_2_naming_the_accepted_forms(capsys):
    assert main(["camera", "check", "--source", "webcam"]) == 2
    assert "expected synthetic" in capsys.readouterr().err


def test_a_real_photo_of_a_device_passes_the_model_free_checks_by_default(capsys):
    code, out = check(capsys, "--source", str(PHOTOS / "devices" / "ont_hg8010h.jpg"))
    assert code == 0 and "camera.health: ok" in out and "set-up looks right" in out


def test_a_covered_lens_exits_1_with_what_to_do(capsys, tmp_path):
    write_ppm(tmp_path / "covered.ppm", covered(photo("jetson_room_2")))
    code, out = check(capsys, "--source", str(tmp_path / "covered.ppm"), "--json")
    report = json.loads(out)
    assert code == 1
    [finding] = report["findings"]
    assert finding["type"] == "camera_covered" and "over or right against the lens" in finding["guidance"]
