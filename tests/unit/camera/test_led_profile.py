"""LED profiles: written by calibration, read back the same, and a broken or hostile file refused with a message
naming what is wrong, never a traceback (the library, the agent and the CLI)."""

from __future__ import annotations

import copy
import json

import pytest

from edge_agent.camera.led_calibrate import calibrate, parse_led_option
from edge_agent.camera.led_profile import MAX_PROFILE_BYTES, ProfileError, load_profile, profile_to_json, save_profile

from .led_photos import LED_PHOTOS, labelled_photos

RULES = [{"issue": "line_down", "when": "PON is off or LOS is on", "severity": "critical"}]


@pytest.fixture(scope="module")
def profile():
    ont = labelled_photos()["ont_f6005_tim.jpg"]
    return calibrate([ont.frame()], ont.leds(), RULES, source="ont_f6005_tim.jpg")


def test_a_saved_profile_loads_back_the_same(profile, tmp_path):
    path = tmp_path / "p.json"
    save_profile(profile, path)
    loaded = load_profile(path)
    assert [(led.index, led.name, led.box, led.on, led.colour) for led in loaded.leds] == \
        [(led.index, led.name, led.box, led.on, led.colour) for led in profile.leds]
    assert [led.lit and led.lit.colour_excess for led in loaded.leds] == \
        pytest.approx([led.lit and led.lit.colour_excess for led in profile.leds], abs=1e-3)
    assert all((a.patch == b.patch).all() for a, b in zip(loaded.leds, profile.leds, strict=True))
    assert loaded.rules == profile.rules
    assert (loaded.view == profile.view).all() and loaded.detail.region == pytest.approx(profile.detail.region)
    assert [led.name for led in loaded.leds] == ["Power", "LOS", "PON", "LAN"]
    assert [(led.on, led.colour) for led in loaded.leds] == [(True, "green"), (False, None), (True, "green"),
                                                               (True, "green")]


def _mutations():
    def set_(path, value):
        def apply(doc):
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return apply

    def drop(path):
        def apply(doc):
            target = doc
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]
        return apply

    return [
        ("format", set_(["format"], "something-else"), "format 'something-else'"),
        ("version", set_(["version"], 99), "version 99 is not supported"),
        ("missing leds", drop(["leds"]), "missing leds"),
        ("unknown field", set_(["surprise"], 1), "unknown field surprise"),
        ("leds not a list", set_(["leds"], {"a": 1}), "leds: expected a list"),
        ("no leds", set_(["leds"], []), "leds: expected a list of 1 to"),
        ("box outside", set_(["leds", 0, "box"], [790, 10, 50, 10]), "leds[1].box: reaches outside"),
        ("box negative", set_(["leds", 0, "box"], [-5, 10, 5, 5]), "leds[1].box: expected a number from 0"),
        ("box short", set_(["leds", 0, "box"], [1, 2, 3]), "leds[1].box: expected [x, y, width, height]"),
        ("box text", set_(["leds", 0, "box"], ["a", 1, 2, 3]), "leds[1].box: expected a number"),
        ("index", set_(["leds", 1, "index"], 7), "leds[2].index: expected 2"),
        ("name", set_(["leds", 0, "name"], "a b"), "leds[1].name"),
        ("name is a rule word", set_(["leds", 0, "name"], "any"), "leds[1].name"),
        ("duplicate name", set_(["leds", 1, "name"], "power"), "two LEDs share a name"),
        ("colour", set_(["leds", 0, "colour"], "purple"), "leds[1].colour"),
        ("on", set_(["leds", 0, "on"], "yes"), "leds[1].on: expected true or false"),
        ("appearance", set_(["leds", 0, "lit"], {"colour_excess": -1, "contrast": 0}), "leds[1].lit.colour_excess"),
        ("surround", set_(["leds", 0, "surround"], [1, 2, 300]), "leds[1].surround: expected a number from 0"),
        ("patch base64", set_(["leds", 0, "patch", "grey_b64"], "***"), "leds[1].patch.grey_b64: not base64"),
        ("patch size", set_(["leds", 0, "patch", "width"], 30), "leds[1].patch.width"),
        ("view bytes", set_(["view", "grey_b64"], "AAAA"), "view.grey_b64: 3 bytes for a"),
        ("view huge", set_(["view", "width"], 100000), "view.width: expected a whole number"),
        ("detail region", set_(["detail", "region"], [0, 0, 5000, 5]), "detail.region"),
        ("frame", set_(["frame", "width"], True), "frame.width"),
        ("rule issue", set_(["rules", 0, "issue"], "rm -rf"), "rules[1].issue: 'rm -rf' is not one of"),
        ("rule condition", set_(["rules", 0, "when"], "ONT is off"), "rules[1].when: 'ONT is off': no LED called"),
        ("rule severity", set_(["rules", 0, "severity"], "apocalyptic"), "rules[1].severity"),
        ("rules not a list", set_(["rules"], "PON is off"), "rules: expected a list"),
    ]


@pytest.mark.parametrize("name, mutate, message", _mutations(), ids=[m[0] for m in _mutations()])
def test_a_broken_profile_is_refused_naming_the_field(profile, tmp_path, name, mutate, message):
    doc = copy.deepcopy(profile_to_json(profile))
    mutate(doc)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert message in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize("content, message", [
    (b"", "not JSON"),
    (b"{\"format\": ", "not JSON"),
    (b"[" * 5000 + b"]" * 5000, "nested 5000 levels deep"),
    (b"{\"version\": NaN}", "NaN is not a number"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "expected an object, got list"),
    (b" " * (MAX_PROFILE_BYTES + 1), "exceeds the limit"),
])
def test_a_file_that_is_not_a_profile_is_refused(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_bytes(content)
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert message in str(error.value)


def test_a_missing_profile_is_named(tmp_path):
    with pytest.raises(ProfileError, match="cannot read it"):
        load_profile(tmp_path / "absent.json")


def test_camera_check_with_a_broken_profile_names_it_without_a_traceback(tmp_path, capsys):
    from edge_agent.cli import main

    config = tmp_path / "agent.toml"
    config.write_text("")
    path = tmp_path / "p.json"
    path.write_text('{"format": "edge-agent-led-profile", "version": 1}')
    photo = str(LED_PHOTOS / "ont_f601v9_front.jpg")
    code = main(["camera", "check", "--config", str(config), "--source", photo, "--profile", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing detail, frame, leds, rules, view" in err and "Traceback" not in err


def test_a_bad_led_option_is_named():
    assert parse_led_option("10,20,8,6:pon:on") == ((10.0, 20.0, 8.0, 6.0), "pon", True)
    for text, message in [("10,20,8", "expected x,y,width,height"), ("1,2,0,4", "width and height >= 1"),
                          ("1,2,3,4:pon:lit", "'on' or 'off'"), ("nan,2,3,4", "x and y must be")]:
        with pytest.raises(ValueError, match=message):
            parse_led_option(text)


@pytest.mark.parametrize("file, names", [
    ("gpon-ont.json", ["power", "pon", "los", "lan"]), ("dsl-modem.json", ["power", "dsl", "internet"]),
    ("any-device.json", [])])
def test_the_example_rules_load_for_the_leds_they_name(file, names):
    from pathlib import Path

    from edge_agent.camera.led_profile import load_rules_file

    path = Path(__file__).resolve().parents[3] / "config" / "led-rules" / file
    rules = load_rules_file(path, {name: n for n, name in enumerate(names, 1)})
    assert rules and all(rule.issue for rule in rules)
    if names:
        with pytest.raises(ProfileError, match="no LED called"):
            load_rules_file(path, {})


@pytest.mark.timeout(10)
def test_a_fifo_named_as_the_profile_is_refused_without_waiting_for_a_writer(tmp_path):
    import os

    os.mkfifo(tmp_path / "p.json")
    with pytest.raises(ProfileError, match="not a regular file"):
        load_profile(tmp_path / "p.json")
