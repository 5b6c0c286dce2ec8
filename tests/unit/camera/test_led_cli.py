"""`edge-agent camera calibrate` and `camera check --profile` on real photos: the technician's round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_agent.cli import main

from .led_photos import LED_PHOTOS, labelled_photos, switched_off

RULES = Path(__file__).resolve().parents[3] / "config" / "led-rules"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["camera", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_png(path: Path, frame: np.ndarray) -> None:
    import cv2

    cv2.imwrite(str(path), np.ascontiguousarray(frame[..., ::-1]))


def calibrate_ont(tmp_path: Path, capsys) -> tuple[Path, Path, str]:
    """The ZTE ONT calibrated with its four LEDs named and the GPON rules: (config, profile, the JSON report)."""
    config = tmp_path / "agent.toml"
    config.write_text("")
    photo = labelled_photos()["ont_f6005_tim.jpg"]
    leds = [f"--led={','.join(str(v) for v in box)}:{name.lower()}"
            for box, name in zip(photo.boxes, photo.names, strict=True)]
    profile = tmp_path / "ont.json"
    code, out, _ = run(capsys, "calibrate", "--config", str(config), "--source", str(LED_PHOTOS / photo.file),
                       "--out", str(profile), "--rules", str(RULES / "gpon-ont.json"), "--json", *leds)
    assert code == 0
    return config, profile, out


def test_calibrate_then_check_a_good_and_a_line_down_view(tmp_path, capsys):
    config, profile, out = calibrate_ont(tmp_path, capsys)
    photo = labelled_photos()["ont_f6005_tim.jpg"]
    assert [(led["name"], led["on"], led["colour"]) for led in json.loads(out)["leds"]] == [
        ("power", True, "green"), ("los", False, None), ("pon", True, "green"), ("lan", True, "green")]

    frames = tmp_path / "frames"
    frames.mkdir()
    for n in range(3):
        write_png(frames / f"{n}.png", switched_off(photo.frame(), photo.boxes[2]))
    code, out, _ = run(capsys, "check", "--config", str(config), "--source", str(frames), "--profile", str(profile),
                       "--json")
    report = json.loads(out)
    assert code == 1 and report["frames"] == 3
    assert [(led["index"], led["name"], led["on"], led["blinking"]) for led in report["leds"]][2] == (3, "pon", False,
                                                                                                    False)
    assert [issue["type"] for issue in report["issues"]] == ["line_down"]
    assert "fibre" in report["issues"][0]["guidance"]

    code, out, _ = run(capsys, "check", "--config", str(config), "--source", str(LED_PHOTOS / photo.file),
                       "--profile", str(profile))
    assert code == 0 and "no issue from the watched device's LEDs" in out

    config.write_text(f'[camera]\nled_profile = "{profile}"\n')  # the agent's own reading, in the frame check
    code, out, _ = run(capsys, "check", "--config", str(config), "--source", str(frames / "0.png"))
    assert code == 1
    assert "camera.leds: 1 power on green; 2 los off; 3 pon off; 4 lan on green" in out and "line_down" in out


def test_calibrating_a_device_with_no_lit_led_says_to_give_boxes(tmp_path, capsys):
    config = tmp_path / "agent.toml"
    config.write_text("")
    code, _, err = run(capsys, "calibrate", "--config", str(config), "--source",
                       str(LED_PHOTOS / "ont_g-010g-d_front.jpg"), "--out", str(tmp_path / "p.json"))
    assert code == 2 and "--led x,y,w,h" in err and not (tmp_path / "p.json").exists()


def test_rules_that_name_leds_the_profile_lacks_are_refused_at_calibration(tmp_path, capsys):
    config = tmp_path / "agent.toml"
    config.write_text("")
    photo = labelled_photos()["ont_f6005_tim.jpg"]
    code, _, err = run(capsys, "calibrate", "--config", str(config), "--source", str(LED_PHOTOS / photo.file),
                       "--out", str(tmp_path / "p.json"), "--rules", str(RULES / "dsl-modem.json"),
                       f"--led={','.join(map(str, photo.boxes[0]))}:power")
    assert code == 2 and "no LED called 'dsl'" in err


def test_a_video_is_sampled_over_time_and_a_blinking_led_is_seen(tmp_path, capsys):
    """1 s on, 1 s off at 30 frames a second: consecutive frames would all look the same."""
    import cv2

    config, profile, _ = calibrate_ont(tmp_path, capsys)
    photo = labelled_photos()["ont_f6005_tim.jpg"]
    frame = photo.frame()
    on, off = (np.ascontiguousarray(f[..., ::-1]) for f in (frame, switched_off(frame, photo.boxes[2])))
    video = tmp_path / "ont.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (frame.shape[1], frame.shape[0]))
    for n in range(120):
        writer.write(on if (n // 30) % 2 == 0 else off)
    writer.release()
    code, out, _ = run(capsys, "check", "--config", str(config), "--source", str(video), "--profile", str(profile),
                       "--json")
    report = json.loads(out)
    assert report["frames"] == 16
    assert [(led["name"], led["blinking"]) for led in report["leds"]] == [
        ("power", False), ("los", False), ("pon", True), ("lan", False)]
    assert code == 1 and [issue["type"] for issue in report["issues"]] == ["line_down"]
