"""Calibrating a watched device's LED profile from a known-good view: where the LEDs are (found as small lit
spots, or given as boxes by the technician), how each looks lit and/or unlit, its colour, its name.

One frame is enough; several frames of the same view (a short video) are better: an LED seen both lit and
unlit in them (a blinking one) gets both appearances calibrated, any other gets the one it showed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from edge_agent.camera.frames import as_rgb
from edge_agent.camera.led_find import find_leds
from edge_agent.camera.led_look import Appearance, Look, is_lit, lit_absolute, look_at
from edge_agent.camera.led_profile import MAX_LEDS, LedProfile, LedSpec, ProfileError, parse_rules
from edge_agent.camera.led_reader import MIN_SIMILARITY, neighbourhood_patch, within_side
from edge_agent.camera.led_register import Alignment, detail_of, grey_view, register

Box = tuple[float, float, float, float]


def parse_led_option(text: str) -> tuple[Box, str, bool | None]:
    """`x,y,w,h[:name[:on|off]]` from the command line: the box, the name, and whether the technician says it is
    lit in the calibration view (needed for a white LED, which one frame cannot tell from an unlit light pipe).
    Raises ValueError naming the problem."""
    spec, _, rest = text.partition(":")
    name, _, state = rest.partition(":")
    if state not in ("", "on", "off"):
        raise ValueError(f"--led {text!r}: the state after the name must be 'on' or 'off'")
    parts = spec.split(",")
    try:
        x, y, w, h = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--led {text!r}: expected x,y,width,height[:name[:on|off]] in the frame's pixels") from None
    if not all(map(math.isfinite, (x, y, w, h))) or min(x, y) < 0 or min(w, h) < 1:
        raise ValueError(f"--led {text!r}: x and y must be >= 0, width and height >= 1")
    return (x, y, w, h), name, {"": None, "on": True, "off": False}[state]


def calibrate(frames: Sequence[np.ndarray], leds: Sequence[tuple[Box, str, bool | None]] = (), rules: Any = (),
              source: str = "") -> LedProfile:
    """The profile for the device in `frames` (the first is the reference view). Raises ValueError
    (ProfileError, NoLedsFound) naming what is wrong."""
    if not frames:
        raise ValueError("calibration needs at least one frame")
    full = as_rgb(frames[0])
    if leds:
        if len(leds) > MAX_LEDS:
            raise ValueError(f"at most {MAX_LEDS} LEDs")
        for (x, y, w, h), _, _ in leds:
            if x + w > full.shape[1] or y + h > full.shape[0]:
                raise ValueError(f"LED box {x:g},{y:g},{w:g},{h:g} reaches outside the {full.shape[1]}x"
                                 f"{full.shape[0]} frame")
    reference = within_side(full)  # a phone photo is worked on smaller: the boxes shrink with it
    height, width = reference.shape[:2]
    fx, fy = width / full.shape[1], height / full.shape[0]
    boxes = [((x * fx, y * fy, min(w * fx, width - x * fx), min(h * fy, height - y * fy)), name, lit)
             for (x, y, w, h), name, lit in leds]
    if not boxes:
        boxes = [(tuple(float(v) for v in spot.box), "", None) for spot in find_leds(reference)]
    view = grey_view(reference)
    identity = Alignment(1.0, 0.0, 0.0, 1.0, 1.0)
    alignments = [identity] + [register(view, f) for f in frames[1:]]
    usable = [(as_rgb(f), a) for f, a in zip(frames, alignments, strict=True) if a.similarity >= MIN_SIMILARITY]
    grey = reference.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    specs = []
    for index, (box, name, said_lit) in enumerate(boxes, 1):
        looks = [look for frame, alignment in usable
                 if (look := look_at(frame, alignment.to_frame(box, (width, height), (view.shape[1], view.shape[0]),
                                                               (frame.shape[1], frame.shape[0])))) is not None]
        if not looks:
            raise ValueError(f"LED {index} at {box}: too close to the frame's edge to be read")
        patch = np.clip(neighbourhood_patch(grey, box)[0] + 0.5, 0, 255).astype(np.uint8)
        specs.append(_spec(index, name, box, looks, said_lit, patch))
    profile = LedProfile((width, height), view, detail_of(reference, [b for b, _, _ in boxes]), tuple(specs), (),
                         source)
    try:
        return replace(profile, rules=parse_rules(list(rules), profile.names()))
    except ProfileError as exc:
        raise ValueError(str(exc)) from None


def _spec(index: int, name: str, box: Box, looks: list[Look], said_lit: bool | None, patch: np.ndarray) -> LedSpec:
    """The reference frame's state is the technician's word, else read absolutely; the other frames are read
    against it, so an LED that blinked during calibration gets both appearances."""
    first = looks[0]
    lit_first = lit_absolute(first) if said_lit is None else said_lit
    anchor = Appearance.of(first)
    states = [lit_first] + [is_lit(look, *((anchor, None) if lit_first else (None, anchor)))[0] for look in looks[1:]]
    lit = [Appearance.of(look) for look, on in zip(looks, states, strict=True) if on]
    unlit = [Appearance.of(look) for look, on in zip(looks, states, strict=True) if not on]
    colours = [look.colour() for look, on in zip(looks, states, strict=True) if on]
    colour = max(set(colours), key=colours.count) if colours else None
    return LedSpec(index, name, box, lit_first, colour, _mean(lit), _mean(unlit), patch, first.ring_rgb)


def _mean(appearances: list[Appearance]) -> Appearance | None:
    if not appearances:
        return None
    return Appearance(float(np.mean([a.colour_excess for a in appearances])),
                      float(np.mean([a.contrast for a in appearances])))
