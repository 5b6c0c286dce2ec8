"""The LED profile of a watched device: the reference view it was calibrated on, where its LEDs are, how each
looked lit and/or unlit, and the rules that turn their states into issues. A versioned JSON file written by
`edge-agent camera calibrate`; every field is checked on load and a broken or hostile file is refused with a
message naming what is wrong (ProfileError), never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.camera.led_look import Appearance
from edge_agent.camera.led_register import DETAIL_SIDE, Detail
from edge_agent.camera.led_rules import RULE_ISSUE_TYPES, Condition, RuleError, parse_condition
from edge_agent.untrusted_files import open_regular
from edge_agent.untrusted_json import UntrustedJsonError, loads_untrusted

FORMAT = "edge-agent-led-profile"
VERSION = 1
MAX_PROFILE_BYTES = 2 * 1024 * 1024
MAX_LEDS = 32
MAX_RULES = 32
MAX_NAME = 40
MAX_VIEW_SIDE = 512  # the reference view kept for registration
PATCH_SIDE = 24  # each LED's neighbourhood, kept to tell an occluder from a changed LED
SEVERITIES = ("info", "warning", "critical")


class ProfileError(ValueError):
    """The profile cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class LedSpec:
    index: int  # 1-based, what rules and reports call `led N`
    name: str
    box: tuple[float, float, float, float]  # x, y, w, h in the reference frame's pixels
    on: bool  # lit in the reference view
    colour: str | None  # when lit there
    lit: Appearance | None  # how it looked lit at calibration, if it was seen lit
    unlit: Appearance | None  # ... and unlit
    patch: np.ndarray = field(repr=False, compare=False)  # PATCH_SIDE x PATCH_SIDE grey neighbourhood, uint8
    surround: tuple[float, float, float] | None = None  # the surroundings' median colour at calibration


@dataclass(frozen=True)
class Rule:
    issue: str
    when: str
    severity: str
    condition: Condition = field(repr=False, compare=False)


@dataclass(frozen=True)
class LedProfile:
    frame_size: tuple[int, int]  # width, height of the reference frame
    view: np.ndarray = field(repr=False, compare=False)  # grey uint8, the reference downscaled for registration
    detail: Detail = field(repr=False, compare=False)  # the LEDs' surroundings, finer, for the fine registration
    leds: tuple[LedSpec, ...]
    rules: tuple[Rule, ...]
    source: str = ""

    def names(self) -> dict[str, int]:
        return {led.name.lower(): led.index for led in self.leds if led.name}


def parse_rules(raw: Any, names: dict[str, int], where: str = "rules") -> tuple[Rule, ...]:
    """Rules from their JSON form (a list of {issue, when, severity}); raises ProfileError naming the bad one."""
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        raise ProfileError(f"{where}: expected a list of at most {MAX_RULES} rules")
    rules = []
    for number, item in enumerate(raw, 1):
        at = f"{where}[{number}]"
        _expect_keys(item, at, required={"issue", "when"}, optional={"severity"})
        issue, when, severity = item["issue"], item["when"], item.get("severity", "warning")
        if issue not in RULE_ISSUE_TYPES:
            raise ProfileError(f"{at}.issue: {issue!r} is not one of {', '.join(RULE_ISSUE_TYPES)}")
        if severity not in SEVERITIES:
            raise ProfileError(f"{at}.severity: {severity!r} is not one of {', '.join(SEVERITIES)}")
        try:
            condition = parse_condition(when, names)
        except RuleError as exc:
            raise ProfileError(f"{at}.when: {exc}") from None
        rules.append(Rule(issue, when, severity, condition))
    return tuple(rules)


def load_rules_file(path: Path, names: dict[str, int]) -> tuple[Rule, ...]:
    """A rules file (config/led-rules/*.json): {"rules": [...]}, checked against the LED names given."""
    data = _read_json(path)
    _expect_keys(data, str(path), required={"rules"}, optional={"description"})
    return parse_rules(data["rules"], names, f"{path}: rules")


def load_profile(path: Path) -> LedProfile:
    """The profile at `path`, checked field by field. Raises ProfileError."""
    data = _read_json(path)
    where = str(path)
    _expect_keys(data, where, required={"format", "version", "frame", "view", "detail", "leds", "rules"},
                 optional={"source", "created"})
    if data["format"] != FORMAT:
        raise ProfileError(f"{where}: format {data['format']!r} is not {FORMAT!r}")
    if data["version"] != VERSION:
        raise ProfileError(f"{where}: version {data['version']!r} is not supported (this agent reads {VERSION})")
    frame = data["frame"]
    _expect_keys(frame, f"{where}: frame", required={"width", "height"})
    size = (_int(frame["width"], f"{where}: frame.width", 8, 16384), _int(frame["height"], f"{where}: frame.height",
                                                                         8, 16384))
    view = _image(data["view"], f"{where}: view", MAX_VIEW_SIDE, minimum=16)
    detail = _detail(data["detail"], f"{where}: detail", size)
    raw_leds = data["leds"]
    if not isinstance(raw_leds, list) or not 1 <= len(raw_leds) <= MAX_LEDS:
        raise ProfileError(f"{where}: leds: expected a list of 1 to {MAX_LEDS} LEDs")
    leds = tuple(_led(item, f"{where}: leds[{n}]", n, size) for n, item in enumerate(raw_leds, 1))
    names = [led.name.lower() for led in leds if led.name]
    if len(set(names)) != len(names):
        raise ProfileError(f"{where}: leds: two LEDs share a name")
    profile = LedProfile(size, view, detail, leds, (), str(data.get("source", ""))[:200])
    return replace(profile, rules=parse_rules(data["rules"], profile.names(), f"{where}: rules"))


def profile_to_json(profile: LedProfile, created: float | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION, "source": profile.source,
        **({"created": created} if created is not None else {}),
        "frame": {"width": profile.frame_size[0], "height": profile.frame_size[1]},
        "view": _image_json(profile.view),
        "detail": {"region": [round(v, 2) for v in profile.detail.region], "image": _image_json(profile.detail.image)},
        "leds": [{"index": led.index, "name": led.name, "box": [round(v, 1) for v in led.box], "on": led.on,
                  "colour": led.colour, "lit": _appearance_json(led.lit), "unlit": _appearance_json(led.unlit),
                  "patch": _image_json(led.patch),
                  "surround": None if led.surround is None else [round(v, 1) for v in led.surround]}
                 for led in profile.leds],
        "rules": [{"issue": r.issue, "when": r.when, "severity": r.severity} for r in profile.rules],
    }


def save_profile(profile: LedProfile, path: Path, created: float | None = None) -> None:
    text = json.dumps(profile_to_json(profile, created), indent=1)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n")
    tmp.replace(path)


def _read_json(path: Path) -> Any:
    try:
        with open_regular(path) as f:  # a FIFO or a device in its place is refused, never waited on
            payload = f.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return loads_untrusted(payload, MAX_PROFILE_BYTES)
    except UntrustedJsonError as exc:
        raise ProfileError(f"{path}: {exc}") from None


def _expect_keys(value: Any, where: str, required: set[str], optional: frozenset[str] | set[str] = frozenset()
                 ) -> None:
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: expected an object, got {type(value).__name__}")
    missing = sorted(required - value.keys())
    if missing:
        raise ProfileError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(k)[:40] for k in value.keys() - required - optional)
    if unknown:
        raise ProfileError(f"{where}: unknown field {', '.join(unknown)}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProfileError(f"{where}: expected a whole number from {low} to {high}, got {str(value)[:40]}")
    return value


def _number(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ProfileError(f"{where}: expected a number from {low} to {high}, got {str(value)[:40]}")
    return float(value)


def _detail(value: Any, where: str, size: tuple[int, int]) -> Detail:
    _expect_keys(value, where, required={"region", "image"})
    region = value["region"]
    if not isinstance(region, list) or len(region) != 4:
        raise ProfileError(f"{where}.region: expected [x, y, width, height]")
    x, y = (_number(v, f"{where}.region", 0, s) for v, s in zip(region[:2], size, strict=True))
    w, h = (_number(v, f"{where}.region", 1, s) for v, s in zip(region[2:], size, strict=True))
    if x + w > size[0] + 0.01 or y + h > size[1] + 0.01:
        raise ProfileError(f"{where}.region: reaches outside the {size[0]}x{size[1]} reference frame")
    return Detail((x, y, w, h), _image(value["image"], f"{where}.image", DETAIL_SIDE, minimum=16))


def _surround(value: Any, where: str) -> tuple[float, float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise ProfileError(f"{where}: expected [red, green, blue]")
    red, green, blue = (_number(v, where, 0, 255) for v in value)
    return red, green, blue


def _appearance(value: Any, where: str) -> Appearance | None:
    if value is None:
        return None
    _expect_keys(value, where, required={"colour_excess", "contrast"})
    return Appearance(_number(value["colour_excess"], f"{where}.colour_excess", 0, 100),
                      _number(value["contrast"], f"{where}.contrast", -1, 1))


def _appearance_json(appearance: Appearance | None) -> dict[str, float] | None:
    return None if appearance is None else {"colour_excess": round(appearance.colour_excess, 4),
                                            "contrast": round(appearance.contrast, 4)}


def _led(item: Any, where: str, number: int, size: tuple[int, int]) -> LedSpec:
    from edge_agent.camera.led_rules import COLOURS

    _expect_keys(item, where, required={"index", "box", "on", "patch"},
                 optional={"name", "colour", "lit", "unlit", "surround"})
    if item["index"] != number:
        raise ProfileError(f"{where}.index: expected {number} (LEDs are numbered 1, 2, ... in order)")
    name = item.get("name") or ""
    if not isinstance(name, str) or len(name) > MAX_NAME or not all(c.isalnum() or c in "_-." for c in name) \
            or name.lower() in ("any", "all", "led", "is", "and", "or", "not"):
        raise ProfileError(f"{where}.name: up to {MAX_NAME} letters, digits, '_', '-', '.' and not a rule word")
    box = item["box"]
    if not isinstance(box, list) or len(box) != 4:
        raise ProfileError(f"{where}.box: expected [x, y, width, height]")
    x, y = (_number(v, f"{where}.box", 0, s) for v, s in zip(box[:2], size, strict=True))
    w, h = (_number(v, f"{where}.box", 1, s) for v, s in zip(box[2:], size, strict=True))
    if x + w > size[0] or y + h > size[1]:
        raise ProfileError(f"{where}.box: reaches outside the {size[0]}x{size[1]} reference frame")
    if not isinstance(item["on"], bool):
        raise ProfileError(f"{where}.on: expected true or false")
    colour = item.get("colour")
    if colour is not None and colour not in COLOURS:
        raise ProfileError(f"{where}.colour: {str(colour)[:20]!r} is not one of {', '.join(COLOURS)}")
    return LedSpec(number, name, (x, y, w, h), item["on"], colour,
                   _appearance(item.get("lit"), f"{where}.lit"), _appearance(item.get("unlit"), f"{where}.unlit"),
                   _image(item["patch"], f"{where}.patch", PATCH_SIDE, minimum=PATCH_SIDE),
                   _surround(item.get("surround"), f"{where}.surround"))


def _image_json(image: np.ndarray) -> dict[str, Any]:
    return {"width": int(image.shape[1]), "height": int(image.shape[0]),
            "grey_b64": base64.b64encode(np.ascontiguousarray(image, np.uint8).tobytes()).decode("ascii")}


def _image(value: Any, where: str, maximum: int, minimum: int) -> np.ndarray:
    _expect_keys(value, where, required={"width", "height", "grey_b64"})
    width = _int(value["width"], f"{where}.width", minimum, maximum)
    height = _int(value["height"], f"{where}.height", minimum, maximum)
    if not isinstance(value["grey_b64"], str):
        raise ProfileError(f"{where}.grey_b64: expected base64 text")
    try:
        raw = base64.b64decode(value["grey_b64"], validate=True)
    except (binascii.Error, ValueError):
        raise ProfileError(f"{where}.grey_b64: not base64") from None
    if len(raw) != width * height:
        raise ProfileError(f"{where}.grey_b64: {len(raw)} bytes for a {width}x{height} image")
    return np.frombuffer(raw, np.uint8).reshape(height, width).copy()
