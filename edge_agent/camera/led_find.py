"""Finding a device's lit LEDs in a known-good frame, for calibration: small, strongly coloured spots that are
brighter than what surrounds them, among the brightest things in view, and not part of a larger coloured area.
Pure numpy (OpenCV's connected components when installed, the same result either way).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edge_agent.camera.frames import as_rgb, resize

FIND_SIDE = 800  # longest side searched: a 3 mm LED at 1 m stays a few pixels
MAX_LEDS = 16
MIN_AREA = 8  # pixels at FIND_SIDE
MAX_AREA_FRACTION = 0.004  # a spot larger than this share of the frame is a lamp or a screen, not an LED
MAX_FOREGROUND = 0.25  # candidate pixels above this share: the scene is not a device with a few lit LEDs
MIN_COLOUR_CHROMA = 0.4
MIN_EXCESS = 25.0  # luma above the local background
EMITTER = 0.8  # a spot's brightest channel against the frame's brightest (99.9th percentile)
MAX_CROWDING = 0.12  # share of candidate pixels around a spot (3 spot sizes out) beyond which it is no LED
MIN_RELATIVE_STRENGTH = 0.15  # a device's lit LEDs are alike; far weaker spots are glints
MERGE = 2  # pixels at FIND_SIDE: parts of one backlit icon are one LED


@dataclass(frozen=True)
class Spot:
    box: tuple[int, int, int, int]  # x, y, w, h in the frame's pixels
    strength: float


class NoLedsFound(ValueError):
    """The frame shows no spot that looks like a lit LED; the message says what to do instead."""


def find_leds(frame: np.ndarray, limit: int = MAX_LEDS) -> list[Spot]:
    """The lit LEDs of a frame, strongest first (at most `limit`), in reading order left to right, top down."""
    rgb = as_rgb(frame)
    height, width = rgb.shape[:2]
    scale = min(1.0, FIND_SIDE / max(height, width))
    small = rgb if scale == 1.0 else resize(rgb, max(8, round(width * scale)), max(8, round(height * scale)))
    image = small.astype(np.float32)
    luma = image @ np.array([0.299, 0.587, 0.114], np.float32)
    top, low = image.max(axis=2), image.min(axis=2)
    chroma = np.where(top > 8, (top - low) / np.maximum(top, 1), 0)
    background = _box_mean(luma, max(7, (max(luma.shape) // 25) | 1))
    excess = luma - background
    # Coloured spots only: a white LED looks like a glint on metal or a light pipe catching the room's light, so
    # the technician gives those as boxes (--led x,y,w,h:name:on).
    candidates = (chroma >= MIN_COLOUR_CHROMA) & (top >= 90) & (excess >= MIN_EXCESS)
    if candidates.mean() > MAX_FOREGROUND:
        raise NoLedsFound("too much of the picture is bright or coloured to pick out LEDs; give the LEDs as "
                          "boxes (--led x,y,w,h[:name])")
    spots = []
    max_area = MAX_AREA_FRACTION * luma.size
    brightest = float(np.percentile(top, 99.9))
    counts = np.pad(candidates.astype(np.int32).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    for ys, xs in _components(candidates, MERGE):
        area = len(ys)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        w, h = x1 - x0, y1 - y0
        # A lit LED's centre is often clipped white inside its coloured glow: count it in for how solid it is.
        solid = float((candidates[y0:y1, x0:x1] | (luma[y0:y1, x0:x1] >= 230)).mean())
        if area < MIN_AREA or area > max_area or max(w, h) > 5 * min(w, h) or solid < 0.2:
            continue
        if np.percentile(top[ys, xs], 98) < EMITTER * brightest:
            continue  # a lit LED is among the brightest things in view; paint and plastic are not
        if _crowding(counts, (x0, y0, x1, y1), luma.shape) > MAX_CROWDING:
            continue  # part of a larger coloured area (a label between its letters, a cable, a screen)
        strength = float(np.mean(excess[ys, xs] * (0.3 + chroma[ys, xs])))
        pad = max(1, round(0.25 * max(w, h)))  # the box holds the glow, the ring the plastic around it
        box = (x0 - pad, y0 - pad, w + 2 * pad, h + 2 * pad)
        spots.append(Spot(tuple(max(0, round(v / scale)) for v in box), strength))  # type: ignore[arg-type]
    if not spots:
        raise NoLedsFound("no lit LED found: calibrate while the device's LEDs show their normal state, or give "
                          "the LEDs as boxes (--led x,y,w,h[:name])")
    best = max(s.strength for s in spots)
    strongest = sorted((s for s in spots if s.strength >= MIN_RELATIVE_STRENGTH * best), key=lambda s: -s.strength)
    strongest = strongest[:limit]
    return sorted(strongest, key=lambda s: (round(s.box[1] / max(8, s.box[3] * 2)), s.box[0]))


def _crowding(counts: np.ndarray, spot: tuple[int, int, int, int], shape: tuple[int, ...]) -> float:
    """The share of candidate pixels around a spot, its own box left out (`counts`: the integral image)."""
    x0, y0, x1, y1 = spot
    reach = 3 * max(x1 - x0, y1 - y0)
    ax0, ay0 = max(0, x0 - reach), max(0, y0 - reach)
    ax1, ay1 = min(shape[1], x1 + reach), min(shape[0], y1 + reach)

    def total(a: int, b: int, c: int, d: int) -> int:
        return int(counts[d, c] - counts[b, c] - counts[d, a] + counts[b, a])

    around = total(ax0, ay0, ax1, ay1) - total(x0, y0, x1, y1)
    return around / max(1, (ax1 - ax0) * (ay1 - ay0) - (x1 - x0) * (y1 - y0))


def _box_mean(values: np.ndarray, size: int) -> np.ndarray:
    """The mean over a size x size window around each pixel (edges replicated), from an integral image."""
    pad = size // 2
    padded = np.pad(values, pad, mode="edge")
    integral = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = values.shape
    total = (integral[size:size + h, size:size + w] - integral[:h, size:size + w]
             - integral[size:size + h, :w] + integral[:h, :w])
    return total / (size * size)


def _components(mask: np.ndarray, merge: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 8-connected components of a boolean mask, as (rows, columns) index arrays of the mask's pixels;
    pixels up to `merge` apart join one component."""
    grown = mask
    for _ in range(merge):  # a 3x3 dilation per step
        padded = np.pad(grown, 1)
        grown = np.zeros_like(mask)
        for dy in range(3):
            for dx in range(3):
                grown |= padded[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return [(ys[keep], xs[keep]) for ys, xs in _labelled(grown) if (keep := mask[ys, xs]).any()]


def _labelled(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    try:
        import cv2
    except ImportError:
        return _components_numpy(mask)
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    ys, xs = np.nonzero(labels)
    order = np.argsort(labels[ys, xs], kind="stable")
    ys, xs, ids = ys[order], xs[order], labels[ys, xs][order]
    cuts = np.flatnonzero(np.diff(ids)) + 1
    return list(zip(np.split(ys, cuts), np.split(xs, cuts), strict=True)) if len(ys) else []


def _components_numpy(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    seen = np.zeros_like(mask, bool)
    height, width = mask.shape
    found = []
    for y, x in zip(*np.nonzero(mask), strict=True):
        if seen[y, x]:
            continue
        seen[y, x] = True
        queue, rows, cols = deque([(y, x)]), [], []
        while queue:
            cy, cx = queue.popleft()
            rows.append(cy)
            cols.append(cx)
            for ny in range(max(0, cy - 1), min(height, cy + 2)):
                for nx in range(max(0, cx - 1), min(width, cx + 2)):
                    if mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        found.append((np.array(rows), np.array(cols)))
    return found
