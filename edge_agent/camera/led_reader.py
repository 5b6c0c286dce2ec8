"""Reading a watched device's LEDs frame by frame against its calibrated profile.

Each frame is registered to the reference view, each LED's box mapped onto it and judged lit or not against
the LED's calibrated appearance (edge_agent.camera.led_look). A frame is *occluded*, and read not at all, when
the registration finds no good match (something in front of the device, or the camera looks elsewhere), when
the neighbourhood of an LED has changed wholesale since calibration (a hand, a cable, a box), or when an
object detector says something covers an LED (the `covers` hook). The last `burst` readable frames tell steady
from blinking. Stateful, but no I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge_agent.camera.frames import as_rgb, resize
from edge_agent.camera.led_look import Look, is_lit, look_at
from edge_agent.camera.led_profile import PATCH_SIDE, LedProfile, LedSpec
from edge_agent.camera.led_register import Alignment, correlation, refine, register, sample
from edge_agent.camera.led_rules import LedView

Box = tuple[float, float, float, float]
# Does something (a person, a hand, an object) cover this box of the frame? Supplied by an object detector.
Covers = Callable[[np.ndarray, Box], bool]
ToFrame = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

MIN_SIMILARITY = 0.5  # aligned views correlating less: the device is hidden or out of view
MIN_PEAK = 0.06  # a phase-correlation peak lower than this is no match at all
NEIGHBOURHOOD = 2.0  # an LED's neighbourhood reaches this many box sizes (larger side) around the box
MIN_LOCAL_SIMILARITY = 0.3  # the neighbourhood of an LED correlating less with calibration: covered ...
MAX_LOCAL_CHANGE = 0.25  # ... or, for a plain neighbourhood, differing by more than this (relative)
PLAIN_NEIGHBOURHOOD = 8.0  # grey-level spread under which a neighbourhood is plain (a white casing)
MIN_SURROUND_PIXELS = PATCH_SIDE * PATCH_SIDE // 4
MAX_TINT = 0.04  # chromaticity (r, g, b over their sum) moving more than this: something else is there
MIN_TINT_LEVEL = 150.0  # r + g + b of the surroundings: darker ones have no reliable hue
DEFAULT_BURST = 6
MAX_FRAME_SIDE = 2048


@dataclass(frozen=True)
class LedReading:
    """One LED in one frame."""

    index: int
    name: str
    lit: bool | None  # None: not readable in this frame (occluded, outside the frame)
    colour: str | None
    confidence: float
    look: Look | None
    box: Box | None  # where it was looked for, in the frame's pixels


@dataclass(frozen=True)
class FrameReading:
    alignment: Alignment
    leds: tuple[LedReading, ...]
    occluded: bool
    why: str  # why the frame could not be read ("" when it could)


@dataclass(frozen=True)
class LedState:
    """One LED over the last burst of readable frames: what reports and rules see."""

    index: int
    name: str
    on: bool
    colour: str | None
    blinking: bool
    confidence: float
    frames: int  # readable frames behind this state

    def view(self) -> LedView:
        return LedView(self.index, self.name, self.on, self.colour, self.blinking)

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "name": self.name, "on": self.on, "colour": self.colour,
                "blinking": self.blinking, "confidence": round(self.confidence, 3), "frames": self.frames}


class LedReader:
    def __init__(self, profile: LedProfile, burst: int = DEFAULT_BURST, covers: Covers | None = None):
        self.profile = profile
        self.burst = max(1, burst)
        self.covers = covers
        self._history: dict[int, deque[LedReading]] = {led.index: deque(maxlen=self.burst) for led in profile.leds}

    def read(self, frame: np.ndarray) -> FrameReading:
        """Read one frame; a readable one joins the burst history."""
        reading = read_frame(self.profile, as_rgb(frame), self.covers)
        if not reading.occluded:
            for led in reading.leds:
                if led.lit is not None:
                    self._history[led.index].append(led)
        return reading

    def states(self) -> list[LedState]:
        """Every LED's state over the burst; an LED with no readable frame yet is left out."""
        return [state for led in self.profile.leds if (state := burst_state(led, self._history[led.index]))]

    def reset(self) -> None:
        for history in self._history.values():
            history.clear()


def read_frame(profile: LedProfile, frame: np.ndarray, covers: Covers | None = None) -> FrameReading:
    frame = within_side(as_rgb(frame))
    alignment = register(profile.view, frame)
    view_size = (profile.view.shape[1], profile.view.shape[0])
    frame_size = (frame.shape[1], frame.shape[0])
    if alignment.peak < MIN_PEAK or alignment.similarity < MIN_SIMILARITY:
        return FrameReading(alignment, tuple(_unread(led) for led in profile.leds), True,
                            f"the view does not match the calibrated one (similarity {alignment.similarity:.2f}, "
                            f"limit {MIN_SIMILARITY})")
    grey = frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    alignment = refine(alignment, profile.detail, grey, profile.frame_size, view_size)
    readings, why = [], ""

    def to_frame(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return alignment.point(x, y, profile.frame_size, view_size, frame_size)  # type: ignore[arg-type,return-value]

    for led in profile.leds:
        box = alignment.to_frame(led.box, profile.frame_size, view_size, frame_size)
        if covers is not None and covers(frame, box):
            why = why or f"LED {led.index} ({led.name or 'unnamed'}) is covered by an object"
            readings.append(_unread(led, box))
            continue
        changed = neighbourhood_changed(led, grey, to_frame)
        if changed:
            why = why or f"the surroundings of LED {led.index} ({led.name or 'unnamed'}) changed: {changed}"
            readings.append(_unread(led, box))
            continue
        look = look_at(frame, box)
        if look is None or not look.readable:
            readings.append(_unread(led, box))
            continue
        tinted = surround_tinted(led, look)
        if tinted:
            why = why or f"the surroundings of LED {led.index} ({led.name or 'unnamed'}) changed colour: {tinted}"
            readings.append(_unread(led, box))
            continue
        lit, confidence = is_lit(look, led.lit, led.unlit)
        colour = (look.colour() if look.hue is not None or not led.colour else led.colour) if lit else None
        readings.append(LedReading(led.index, led.name, lit, colour, confidence, look, box))
    return FrameReading(alignment, tuple(readings), bool(why), why)


def within_side(frame: np.ndarray, side: int = MAX_FRAME_SIDE) -> np.ndarray:
    """The frame, downscaled if its longest side is above `side` (a phone photo: 12 megapixels would cost
    hundreds of megabytes of float copies, and an LED keeps plenty of pixels at this size)."""
    height, width = frame.shape[:2]
    if max(height, width) <= side:
        return frame
    factor = side / max(height, width)
    return resize(frame, max(8, round(width * factor)), max(8, round(height * factor)))


def neighbourhood_patch(grey: np.ndarray, box: Box, to_frame: ToFrame | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The neighbourhood of the LED in `box` (reference-frame pixels) resampled to PATCH_SIDE x PATCH_SIDE, and
    which of it lies inside the frame; `to_frame` maps reference points into this frame (turned, scaled)."""
    x, y, w, h = box
    side = max(w, h) * (1 + 2 * NEIGHBOURHOOD)
    cx, cy = x + w / 2, y + h / 2
    steps = (np.arange(PATCH_SIDE, dtype=np.float32) + 0.5) / PATCH_SIDE - 0.5
    ys, xs = np.meshgrid(cy + steps * side, cx + steps * side, indexing="ij")
    if to_frame is not None:
        xs, ys = to_frame(xs, ys)
    return sample(grey, np.asarray(xs, np.float32), np.asarray(ys, np.float32))


def neighbourhood_changed(led: LedSpec, grey: np.ndarray, to_frame: ToFrame) -> str:
    """Why the LED's surroundings no longer look like at calibration ('' if they do). The LED itself and its
    glow are left out: only the plastic and whatever is around it count."""
    now, inside = neighbourhood_patch(grey, led.box, to_frame)
    then = led.patch.astype(np.float32)
    keep = _surround_mask() & inside
    if keep.sum() < MIN_SURROUND_PIXELS:  # near the frame's edge: too little left to judge
        return ""
    a, b = then[keep], now[keep]
    if a.std() >= PLAIN_NEIGHBOURHOOD:
        similarity = correlation(a, b)
        return "" if similarity >= MIN_LOCAL_SIMILARITY else \
            f"correlation {similarity:.2f} with calibration, limit {MIN_LOCAL_SIMILARITY}"
    # A plain surround (a white casing): compare levels, gain-normalised so exposure does not count.
    change = float(np.mean(np.abs(a / max(a.mean(), 1.0) - b / max(b.mean(), 1.0))))
    if b.std() > 3 * max(a.std(), PLAIN_NEIGHBOURHOOD / 2):
        return f"texture appeared where the casing was plain (spread {b.std():.0f}, was {a.std():.0f})"
    return "" if change <= MAX_LOCAL_CHANGE else f"changed by {change:.0%} (limit {MAX_LOCAL_CHANGE:.0%})"


def surround_tinted(led: LedSpec, look: Look) -> str:
    """Why the plastic right around the LED no longer has its calibrated colour ('' if it has): a finger or a
    hand over a plain casing keeps its brightness but not its hue. Judged on chromaticity, which a change of
    exposure leaves alone, and only on surroundings bright enough for their hue to mean something."""
    if led.surround is None or sum(led.surround) < MIN_TINT_LEVEL or sum(look.ring_rgb) < MIN_TINT_LEVEL:
        return ""
    then = np.array(led.surround) / sum(led.surround)
    now = np.array(look.ring_rgb) / sum(look.ring_rgb)
    shift = float(np.abs(now - then).max())
    return "" if shift <= MAX_TINT else f"chromaticity moved {shift:.3f} (limit {MAX_TINT})"


def _surround_mask() -> np.ndarray:
    """The patch minus its centre, where the LED and its glow are."""
    centre = PATCH_SIDE / 2
    half = PATCH_SIDE * (0.5 + 0.5) / (1 + 2 * NEIGHBOURHOOD)  # the box and as much again for the glow
    ys, xs = np.mgrid[0:PATCH_SIDE, 0:PATCH_SIDE] + 0.5
    return (np.abs(ys - centre) > half) | (np.abs(xs - centre) > half)


def burst_state(led: LedSpec, history: deque[LedReading]) -> LedState | None:
    """On if lit in most of the burst (one odd frame does not flip it), blinking if it changed at least twice;
    its colour the most frequent lit one."""
    readings = [r for r in history if r.lit is not None]
    if not readings:
        return None
    lit = [bool(r.lit) for r in readings]
    changes = sum(1 for a, b in zip(lit, lit[1:], strict=False) if a != b)
    blinking = changes >= 2
    on = blinking or sum(lit) * 2 > len(lit) or (sum(lit) * 2 == len(lit) and lit[0])  # a tie keeps the older
    colours = [r.colour for r in readings if r.lit and r.colour]
    colour = max(set(colours), key=colours.count) if on and colours else None
    agreeing = [r.confidence for r in readings if blinking or bool(r.lit) == on]
    confidence = float(np.mean(agreeing)) * len(agreeing) / len(readings) if agreeing else 0.0
    return LedState(led.index, led.name, on, colour, blinking, confidence, len(readings))


def _unread(led: LedSpec, box: Box | None = None) -> LedReading:
    return LedReading(led.index, led.name, None, None, 0.0, None, box)
