"""A camera's view of the gateway, rendered with numpy: the vision model's training data and the simulated
premises' camera.

A scene is a shelf in a room with the gateway on it: a box with a row of status LEDs on its front and a
network cable plugged into a port on its side. What can be wrong, one thing at a time (VISION_LABELS): a red
LED, all LEDs dark (no power), the cable out of its port, or something standing in front of the box. The
layout (room, furniture, box position and colours, cable route) is drawn once per home; every frame then gets
its own light level and colour, sensor noise and focus blur. LEDs emit light: they stay bright in a dark room.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

VISION_LABELS = ("ok", "led_red", "led_off", "cable_unplugged", "obstructed")
LED_COLOURS = {"green": (0.25, 1.0, 0.3), "red": (1.0, 0.12, 0.08)}
WALL_STYLES = ("plain", "panels", "stripes")
TRAIN_WALL_STYLES = ("plain", "panels")  # stripes are held out: only the test set has them


@dataclass(frozen=True)
class SceneState:
    led: str = "green"  # green | red | off
    cable_plugged: bool = True
    obstructed: bool = False

    @property
    def label(self) -> str:
        if self.obstructed:
            return "obstructed"
        if self.led == "off":
            return "led_off"
        if self.led == "red":
            return "led_red"
        return "ok" if self.cable_plugged else "cable_unplugged"


def state_for_label(label: str, rng: np.random.Generator) -> SceneState:
    """A scene state showing `label` (behind an obstruction the LEDs may be in any state)."""
    if label == "obstructed":
        return SceneState(led=str(rng.choice(["green", "red", "off"])), cable_plugged=bool(rng.uniform() < 0.7),
                          obstructed=True)
    return {
        "ok": SceneState(),
        "led_red": SceneState(led="red"),
        "led_off": SceneState(led="off"),
        "cable_unplugged": SceneState(cable_plugged=False),
    }[label]


@dataclass(frozen=True)
class SceneLayout:
    """Where things are, in fractions of the frame (so any resolution shows the same scene)."""

    wall_rgb: tuple[float, float, float]
    wall_style: str
    furniture: tuple[tuple[float, float, float, float, tuple[float, float, float]], ...]
    shelf_top: float
    shelf_rgb: tuple[float, float, float]
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    box_rgb: tuple[float, float, float]
    led_count: int
    red_led: int  # which LED turns red (the internet one)
    cable_rgb: tuple[float, float, float]
    cable_end: tuple[float, float]  # where the cable leaves the frame
    loose_cable: tuple[float, float, float, float] | None  # an unplugged cable lying on the shelf, or gone
    occluder: tuple[float, float, float, float, tuple[float, float, float], bool]  # x0, y0, x1, y1, rgb, round


@dataclass(frozen=True)
class FrameConditions:
    gain: float
    tint: tuple[float, float, float]
    light_slope: float  # brighter on one side
    led_intensity: float
    blur_px: float  # at 96 px across; scaled with the frame
    noise: float


def random_layout(rng: np.random.Generator, wall_styles: tuple[str, ...] = TRAIN_WALL_STYLES) -> SceneLayout:
    box_w = rng.uniform(0.32, 0.55)
    box_h = box_w * rng.uniform(0.28, 0.42)
    x0 = rng.uniform(0.05, 0.85 - box_w)
    shelf_top = rng.uniform(0.55, 0.8)
    y1 = shelf_top + rng.uniform(0.0, 0.05)
    box = (x0, y1 - box_h, x0 + box_w, y1)
    body = rng.choice([(0.92, 0.92, 0.9), (0.12, 0.12, 0.13), (0.55, 0.56, 0.58), (0.85, 0.85, 0.8)])
    body = tuple(np.clip(np.array(body) + rng.normal(0, 0.04, 3), 0, 1))
    furniture = tuple(
        (*_random_rect(rng), tuple(rng.uniform(0.1, 0.9, 3))) for _ in range(rng.integers(0, 3))
    )
    cable_end = (min(0.999, box[2] + rng.uniform(0.05, 0.3)), 1.0) if rng.uniform() < 0.6 else (1.0, rng.uniform(
        shelf_top, 0.98))
    loose = None
    if rng.uniform() < 0.6:  # the pulled cable still lies on the shelf, its plug clear of the port
        lx = min(0.97, box[2] + rng.uniform(0.1, 0.25))
        loose = (lx, min(0.98, y1 + rng.uniform(0.04, 0.15)), *cable_end)
    occ_w = box_w * rng.uniform(0.7, 1.2)
    occ_x0 = x0 + box_w / 2 - occ_w / 2 + rng.uniform(-0.1, 0.1) * box_w
    occ_y1 = y1 + rng.uniform(0, 0.05)
    occluder = (occ_x0, occ_y1 - rng.uniform(0.75, 1.6) * box_h - 0.05, occ_x0 + occ_w, occ_y1,
                tuple(rng.uniform(0.1, 0.9, 3)), bool(rng.uniform() < 0.4))
    led_count = int(rng.integers(3, 5))
    return SceneLayout(
        wall_rgb=tuple(rng.uniform(0.35, 0.95, 3)), wall_style=str(rng.choice(wall_styles)),
        furniture=furniture, shelf_top=shelf_top, shelf_rgb=tuple(rng.uniform(0.2, 0.8, 3)), box=box,
        box_rgb=body, led_count=led_count, red_led=int(rng.integers(0, led_count)),
        cable_rgb=tuple(rng.choice([(0.15, 0.3, 0.8), (0.9, 0.8, 0.2), (0.85, 0.85, 0.85), (0.2, 0.2, 0.2)])),
        cable_end=cable_end, loose_cable=loose, occluder=occluder,
    )


def _random_rect(rng: np.random.Generator) -> tuple[float, float, float, float]:
    x0, y0 = rng.uniform(-0.1, 0.8), rng.uniform(-0.1, 0.5)
    return (x0, y0, x0 + rng.uniform(0.1, 0.5), y0 + rng.uniform(0.1, 0.5))


def random_conditions(rng: np.random.Generator) -> FrameConditions:
    return FrameConditions(
        gain=float(rng.uniform(0.3, 1.25)),
        tint=tuple(rng.uniform(0.8, 1.15, 3)),
        light_slope=float(rng.uniform(-0.4, 0.4)),
        led_intensity=float(rng.uniform(0.65, 1.0)),
        blur_px=float(rng.uniform(0, 1.3)),
        noise=float(rng.uniform(0.005, 0.05)),
    )


def jitter_layout(layout: SceneLayout, rng: np.random.Generator, amount: float = 0.01) -> SceneLayout:
    """The same scene with the camera nudged by a few pixels (a fixed camera still moves a little)."""
    dx, dy = rng.normal(0, amount, 2)

    def shift(box: tuple) -> tuple:
        return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy, *box[4:])

    return replace(layout, box=shift(layout.box), occluder=shift(layout.occluder), shelf_top=layout.shelf_top + dy)


def render(
    layout: SceneLayout, state: SceneState, conditions: FrameConditions, size: tuple[int, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """One RGB frame, uint8 (height, width, 3); `size` is (width, height)."""
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    xx = (xx + 0.5) / width
    yy = (yy + 0.5) / height
    px = 1.0 / width  # one pixel, in frame fractions: edges are anti-aliased over it
    img = _wall(layout, xx, yy)
    for x0, y0, x1, y1, rgb in layout.furniture:
        img = _paint(img, _rect(xx, yy, x0, y0, x1, min(y1, layout.shelf_top), px), rgb)
    img = _paint(img, _rect(xx, yy, -1, layout.shelf_top, 2, 2, px), layout.shelf_rgb)
    img = _draw_gateway(img, layout, state, xx, yy, px, width)
    occluder_mask = np.zeros_like(xx)
    if state.obstructed:
        occluder_mask = _occluder(layout, xx, yy, px)
        img = _paint(img, occluder_mask, layout.occluder[4])
    light = conditions.gain * (1 + conditions.light_slope * (xx - 0.5))
    img = img * light[..., None] * np.array(conditions.tint, dtype=np.float32)
    img = img + _led_glow(layout, state, conditions, xx, yy, width) * (1 - occluder_mask)[..., None]
    img = _blur(img, conditions.blur_px * width / 96)
    img = img + rng.normal(0, conditions.noise, img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def _wall(layout: SceneLayout, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    shade = 1.0 - 0.25 * yy
    if layout.wall_style == "panels":
        shade = shade * (1 - 0.12 * (np.floor(xx * 4) % 2))
    elif layout.wall_style == "stripes":
        shade = shade * (1 - 0.18 * (np.sin(xx * 60) > 0))
    return shade[..., None] * np.array(layout.wall_rgb, dtype=np.float32)


def _draw_gateway(img, layout, state, xx, yy, px, width) -> np.ndarray:
    x0, y0, x1, y1 = layout.box
    h = y1 - y0
    img = _paint(img, _rect(xx, yy, x0, y0, x1, y1, px), layout.box_rgb)
    img = _paint(img, _rect(xx, yy, x0, y0, x1, y0 + 0.12 * h, px), np.clip(np.array(layout.box_rgb) + 0.12, 0, 1))
    port = _port(layout)
    img = _paint(img, _rect(xx, yy, *port, px), (0.03, 0.03, 0.03))
    thickness = max(0.018, 1.6 / width)
    plug_y = (port[1] + port[3]) / 2
    if state.cable_plugged:
        plug = (port[2] - 0.01, port[1] - 0.006, port[2] + 0.035, port[3] + 0.006)
        img = _paint(img, _rect(xx, yy, *plug, px), (0.75, 0.75, 0.72))
        bend = (plug[2] + 0.03, plug_y + 0.02)
        mask = np.maximum(_segment(xx, yy, (plug[2], plug_y), bend, thickness),
                          _segment(xx, yy, bend, layout.cable_end, thickness))
        img = _paint(img, mask, layout.cable_rgb)
    elif layout.loose_cable is not None:
        lx, ly, ex, ey = layout.loose_cable
        img = _paint(img, _segment(xx, yy, (lx, ly), (ex, ey), thickness), layout.cable_rgb)
        img = _paint(img, _rect(xx, yy, lx - 0.02, ly - 0.012, lx + 0.02, ly + 0.012, px), (0.75, 0.75, 0.72))
    for cx, cy, r in _led_spots(layout, width):
        img = _paint(img, _disc(xx, yy, cx, cy, r, px), (0.18, 0.18, 0.18))
    return img


def _port(layout: SceneLayout) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = layout.box
    h = y1 - y0
    return (x1 - 0.06, y0 + 0.45 * h, x1, y0 + 0.45 * h + max(0.035, 0.25 * h))


def _led_spots(layout: SceneLayout, width: int) -> list[tuple[float, float, float]]:
    x0, y0, x1, y1 = layout.box
    w, h = x1 - x0, y1 - y0
    r = max(0.022, 1.4 / width, 0.04 * w)
    cy = y0 + 0.55 * h
    return [(x0 + w * (0.12 + 0.11 * i), cy, r) for i in range(layout.led_count)]


def _led_glow(layout, state, conditions, xx, yy, width) -> np.ndarray:
    glow = np.zeros((*xx.shape, 3), dtype=np.float32)
    if state.led == "off":
        return glow
    for i, (cx, cy, r) in enumerate(_led_spots(layout, width)):
        colour = "red" if state.led == "red" and i == layout.red_led else "green"
        d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (r * r)
        light = np.exp(-d2 * 0.7) * 0.9 + np.exp(-d2 * 0.12) * 0.25
        glow += light[..., None] * np.array(LED_COLOURS[colour], dtype=np.float32)
    return glow * conditions.led_intensity


def _occluder(layout: SceneLayout, xx, yy, px) -> np.ndarray:
    x0, y0, x1, y1, _, round_shape = layout.occluder
    if not round_shape:
        return _rect(xx, yy, x0, y0, x1, y1, px)
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return np.clip((1 - np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)) * rx / px, 0, 1)


def _paint(img: np.ndarray, mask: np.ndarray, rgb) -> np.ndarray:
    return img + mask[..., None] * (np.asarray(rgb, dtype=np.float32) - img)


def _rect(xx, yy, x0, y0, x1, y1, px) -> np.ndarray:
    inside_x = np.clip((xx - x0) / px + 0.5, 0, 1) * np.clip((x1 - xx) / px + 0.5, 0, 1)
    inside_y = np.clip((yy - y0) / px + 0.5, 0, 1) * np.clip((y1 - yy) / px + 0.5, 0, 1)
    return inside_x * inside_y


def _disc(xx, yy, cx, cy, r, px) -> np.ndarray:
    return np.clip((r - np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)) / px + 0.5, 0, 1)


def _segment(xx, yy, a, b, thickness) -> np.ndarray:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
    dist = np.sqrt((xx - ax - t * dx) ** 2 + (yy - ay - t * dy) ** 2)
    return np.clip((thickness / 2 - dist) / (thickness / 2) * 2, 0, 1)


def _blur(img: np.ndarray, sigma_px: float) -> np.ndarray:
    if sigma_px < 0.3:
        return img
    radius = int(np.ceil(2.5 * sigma_px))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_px) ** 2)
    taps /= taps.sum()
    padded = np.pad(img, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    rows = sum(w * padded[i:i + img.shape[0]] for i, w in enumerate(taps))
    return sum(w * rows[:, i:i + img.shape[1]] for i, w in enumerate(taps))


def render_labelled(
    count: int, seed: int, size: tuple[int, int], wall_styles: tuple[str, ...] = TRAIN_WALL_STYLES,
) -> tuple[np.ndarray, np.ndarray]:
    """`count` frames balanced over VISION_LABELS, each from its own random home and conditions."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(VISION_LABELS)
    rng.shuffle(labels)
    frames = np.empty((count, size[1], size[0], 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        layout = random_layout(rng, wall_styles)
        frames[i] = render(layout, state_for_label(VISION_LABELS[label], rng), random_conditions(rng), size, rng)
    return frames, labels
