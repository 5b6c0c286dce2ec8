"""What one LED looks like in one frame, and whether that is lit, in which colour: pure numpy.

An LED is judged against its own surroundings (a ring around its box), never against absolute levels: a
lit LED is brighter than the plastic around it and/or more saturated than it, whatever the exposure, and an
unlit one is a dark dot, a grey light pipe or nothing at all. The contrast is (core - ring) / (core + ring),
unchanged by a gain on the whole picture; colour comes from the light the LED adds on top of its surroundings.
Thresholds were picked on part of the real device photos and measured on the rest (scripts/bench_led_reading.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
RING = 1.0  # the ring reaches this many box sizes (the larger side) beyond the box
RING_GAP = 0.25  # ... leaving this much next to the box, where a lit LED's glow still spills
CORE_PERCENTILE = 85.0  # the LED is the box's brightest part: boxes drawn by a technician are generous
RING_FLOOR = 48.0  # added to the ring's level before dividing by it: a black ring does not make noise a glow
WHITE_CHROMA = 0.22  # added light less saturated than this is white
CLIPPED_RING = 245.0  # a ring this bright (over-exposed white plastic) hides any glow: the LED cannot be read
# Without any calibrated appearance (calibrating): lit when the LED adds clearly coloured light to its ring.
# An unlit light pipe adds grey light; a lit white LED cannot be told from it in one frame (the technician says).
LIT_CHROMA = 0.32  # saturation of the added light
LIT_EXCESS = 0.06  # amount of coloured light, relative to the ring's level
MIN_SPAN = 15.0  # ... and in grey levels: less is sensor noise and JPEG, whatever the ratio says
# Against a calibrated lit appearance: still lit while coloured and keeping this share of its coloured light
# (a two-colour port LED switching from amber to green keeps about a third) ...
KEEP_EXCESS = 0.2
# ... or, for a white LED, while its contrast drops by less than this.
WHITE_DROP = 0.2
# Against a calibrated unlit appearance: lit when coloured and this much above it ...
GROW_MIN = 0.05
WHITE_RISE = 0.25  # ... or, for a white LED, when its contrast rises this much


@dataclass(frozen=True)
class Look:
    contrast: float  # (core - ring) / (core + ring) in luma, -1..1
    chroma: float  # saturation of the core, 0..1
    ring_chroma: float
    hue: float | None  # degrees, of the light the LED adds to its ring; None when it adds none
    added_chroma: float
    colour_excess: float  # how much coloured light the LED adds to its ring (span of the added channels), relative
    colour_span: float  # ... in grey levels
    core_luma: float
    ring_luma: float
    ring_rgb: tuple[float, float, float]  # the surroundings' median colour

    @property
    def readable(self) -> bool:
        return self.ring_luma < CLIPPED_RING

    def colour(self) -> str:
        if self.hue is None or self.added_chroma < WHITE_CHROMA:
            return "white"
        return colour_of_hue(self.hue)

    def to_dict(self) -> dict[str, object]:
        return {k: (v if v is None or isinstance(v, tuple) else round(float(v), 4)) for k, v in self.__dict__.items()}


def colour_of_hue(hue: float) -> str:
    """Camera sensors see green LEDs yellow-green and amber ones orange: the bands are wide."""
    hue %= 360.0
    if hue < 10 or hue >= 330:
        return "red"
    if hue < 62:  # orange, amber and the rare yellow LED: one class, cameras do not separate them reliably
        return "amber"
    if hue < 170:
        return "green"
    if hue < 265:
        return "blue"
    return "red"  # magenta-ish: a red LED through a pink tint


def box_regions(shape: tuple[int, ...], box: tuple[float, float, float, float]
                ) -> tuple[tuple[slice, slice], tuple[slice, slice], tuple[slice, slice]] | None:
    """(box, inner, outer) slices of a frame: the ring is outer minus inner. None if the box leaves the frame."""
    height, width = shape[:2]
    x, y, w, h = box
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > width or y + h > height:
        return None
    side = max(w, h)

    def clip(x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        return (slice(max(0, int(math.floor(y0))), min(height, int(math.ceil(y1)))),
                slice(max(0, int(math.floor(x0))), min(width, int(math.ceil(x1)))))

    inner_pad, outer_pad = side * RING_GAP, side * (RING + RING_GAP)
    return (clip(x, y, x + w, y + h), clip(x - inner_pad, y - inner_pad, x + w + inner_pad, y + h + inner_pad),
            clip(x - outer_pad, y - outer_pad, x + w + outer_pad, y + h + outer_pad))


def look_at(frame: np.ndarray, box: tuple[float, float, float, float]) -> Look | None:
    """How the LED in `box` (x, y, w, h in frame pixels) looks; None if the box is not inside the frame."""
    regions = box_regions(frame.shape, box)
    if regions is None:
        return None
    inside, inner, outer = regions
    patch = frame[inside].astype(np.float32).reshape(-1, 3)
    around = frame[outer].astype(np.float32)
    mask = np.ones(around.shape[:2], bool)
    mask[inner[0].start - outer[0].start:inner[0].stop - outer[0].start,
         inner[1].start - outer[1].start:inner[1].stop - outer[1].start] = False
    ring = around[mask] if mask.any() else around.reshape(-1, 3)
    ring_rgb = np.median(ring, axis=0)
    luma = patch @ LUMA
    core = patch[luma >= np.percentile(luma, CORE_PERCENTILE)]
    core_rgb = core.mean(axis=0)
    core_luma, ring_luma = float(core_rgb @ LUMA), float(ring_rgb @ LUMA)
    # The colour is in the glow around a lit LED's centre, which a camera often clips to white: the most
    # saturated third of the pixels brighter than half-way between ring and core, less the ring's own light.
    glowing = patch[luma >= ring_luma + 0.5 * (core_luma - ring_luma)]
    if len(glowing) == 0:  # an unlit dot darker than its ring
        glowing = core
    saturation = _chromas(glowing)
    vivid = glowing[saturation >= np.percentile(saturation, 67)]
    added = np.clip(vivid.mean(axis=0) - ring_rgb, 0, None)
    hue, added_chroma = _hue(added) if added.max() > 4.0 else (None, 0.0)
    # How much colour: from all the glowing pixels, so that JPEG's colour noise in a few of them does not count.
    overall = np.clip(glowing.mean(axis=0) - ring_rgb, 0, None)
    span = float(overall.max() - overall.min())
    return Look(contrast=(core_luma - ring_luma) / (core_luma + ring_luma + 8.0), chroma=_chroma(core_rgb),
                ring_chroma=_chroma(ring_rgb), hue=hue, added_chroma=added_chroma,
                colour_excess=span / float(ring_rgb.max() + RING_FLOOR), colour_span=span, core_luma=core_luma,
                ring_luma=ring_luma, ring_rgb=(float(ring_rgb[0]), float(ring_rgb[1]), float(ring_rgb[2])))


def _chromas(pixels: np.ndarray) -> np.ndarray:
    top = pixels.max(axis=1)
    return np.where(top >= 8.0, (top - pixels.min(axis=1)) / np.maximum(top, 1.0), 0.0)


def _chroma(rgb: np.ndarray) -> float:
    top = float(rgb.max())
    return 0.0 if top < 8.0 else float(rgb.max() - rgb.min()) / top


def _hue(rgb: np.ndarray) -> tuple[float, float]:
    r, g, b = (float(v) for v in rgb)
    top, low = max(r, g, b), min(r, g, b)
    span = top - low
    if span <= 0:
        return 0.0, 0.0
    if top == r:
        hue = 60.0 * (((g - b) / span) % 6)
    elif top == g:
        hue = 60.0 * ((b - r) / span + 2)
    else:
        hue = 60.0 * ((r - g) / span + 4)
    return hue, span / top


@dataclass(frozen=True)
class Appearance:
    """How an LED looked in one state at calibration: what later frames are judged against."""

    colour_excess: float
    contrast: float

    @staticmethod
    def of(look: Look) -> Appearance:
        return Appearance(look.colour_excess, look.contrast)


def lit_absolute(look: Look) -> bool:
    return look.added_chroma >= LIT_CHROMA and look.colour_excess >= LIT_EXCESS and look.colour_span >= MIN_SPAN


def is_lit(look: Look, lit: Appearance | None = None, unlit: Appearance | None = None) -> tuple[bool, float]:
    """Lit or not, and a confidence 0..1 (how far from the threshold; 1 at twice or half of it): against the
    LED's calibrated appearances when known, else absolutely (lit_absolute)."""
    coloured = look.colour_span >= MIN_SPAN and look.added_chroma >= LIT_CHROMA
    if lit is not None and unlit is not None:
        excess_gap = abs(lit.colour_excess - unlit.colour_excess) / (lit.colour_excess + unlit.colour_excess + 0.05)
        if excess_gap >= abs(lit.contrast - unlit.contrast):
            threshold = math.sqrt(max(lit.colour_excess, 0.01) * max(unlit.colour_excess, 0.01))
            on, confidence = _ratio(look.colour_excess, threshold, lit.colour_excess > unlit.colour_excess)
            return on and (coloured or lit.colour_excess < unlit.colour_excess), confidence
        return _difference(look.contrast, (lit.contrast + unlit.contrast) / 2, lit.contrast > unlit.contrast,
                           abs(lit.contrast - unlit.contrast) / 2)
    if lit is not None:
        if lit.colour_excess >= LIT_EXCESS:  # a coloured LED
            on, confidence = _ratio(look.colour_excess, KEEP_EXCESS * lit.colour_excess, True)
            return on and coloured, confidence if coloured or not on else 0.0
        return _difference(look.contrast, lit.contrast - WHITE_DROP, True, WHITE_DROP)
    if unlit is not None:
        grown = _ratio(look.colour_excess, max(LIT_EXCESS, unlit.colour_excess + GROW_MIN), True)
        if grown[0] and coloured:
            return grown
        risen = _difference(look.contrast, unlit.contrast + WHITE_RISE, True, WHITE_RISE)
        return risen if risen[0] else (False, min(grown[1], risen[1]))
    excess = _ratio(look.colour_excess, LIT_EXCESS, True)[1]
    chroma = _difference(look.added_chroma, LIT_CHROMA, True, LIT_CHROMA)[1]
    on = lit_absolute(look)
    return on, min(excess, chroma) if on else max(excess, chroma)


def _ratio(value: float, threshold: float, higher_is_lit: bool) -> tuple[bool, float]:
    above = value > threshold
    confidence = min(1.0, abs(math.log(max(value, 1e-3) / max(threshold, 1e-3))) / math.log(2.0))
    return above == higher_is_lit, confidence


def _difference(value: float, threshold: float, higher_is_lit: bool, scale: float) -> tuple[bool, float]:
    return (value > threshold) == higher_is_lit, min(1.0, abs(value - threshold) / max(scale, 1e-3))
