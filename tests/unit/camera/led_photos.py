"""Real device photos with our hand labels of their LEDs (tests/data/photos/devices/led: labels.json and
PROVENANCE.md), and what a camera does to a view: shift, zoom, exposure, noise, JPEG, an LED switched off, an
occluder. For the LED-reading tests and scripts/bench_led_reading.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_agent.camera.replay import ReplaySource

LED_PHOTOS = Path(__file__).resolve().parents[2] / "data" / "photos" / "devices" / "led"
SWITCH = "hpe_aruba_switch"


@dataclass(frozen=True)
class LabelledPhoto:
    file: str
    device: str
    boxes: list[tuple[float, float, float, float]]
    names: list[str]
    states: list[str | None]  # a colour when lit, "off", None when we cannot tell from the photo

    def frame(self) -> np.ndarray:
        return ReplaySource(LED_PHOTOS / self.file, loop=False).read()

    def leds(self) -> list[tuple[tuple[float, float, float, float], str, None]]:
        """The boxes and names as `calibrate` takes them, without saying which is lit."""
        return [(box, name, None) for box, name in zip(self.boxes, self.names, strict=True)]


def labelled_photos() -> dict[str, LabelledPhoto]:
    raw = json.loads((LED_PHOTOS / "labels.json").read_text())["photos"]
    return {file: LabelledPhoto(file, entry["device"], [tuple(b) for b in entry["boxes"]], entry["names"],
                                entry["states"]) for file, entry in raw.items()}


def noisy(frame: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).round().astype(np.uint8)


def exposed(frame: np.ndarray, gain: float) -> np.ndarray:
    return noisy(np.clip(frame.astype(np.float32) * gain, 0, 255), 1.0)


def moved(frame: np.ndarray, dx: float, dy: float, scale: float = 1.0, angle: float = 0.0) -> np.ndarray:
    """The view shifted by (dx, dy) fractions of its width/height, zoomed by `scale` and turned by `angle`
    degrees about its centre, edges repeated: the camera nudged or the device pushed back."""
    import cv2

    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    matrix[:, 2] += (dx * width, dy * height)
    return cv2.warpAffine(frame, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    import cv2

    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(frame[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])


def switched_off(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The LED in `box` unlit: its glow, which reaches well beyond the box, painted over with the median colour
    of the surroundings (soft edge, sensor noise)."""
    height, width = frame.shape[:2]
    x, y, w, h = box
    cx, cy, reach = x + w / 2, y + h / 2, 1.2 * max(w, h)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot(xs - cx, ys - cy) / reach
    ring = frame[(distance > 1.3) & (distance < 2.5)]
    mask = np.clip((1.15 - distance) / 0.3, 0, 1)[..., None]
    return noisy(frame * (1 - mask) + np.median(ring, axis=0) * mask, 1.5)


def occluded(frame: np.ndarray, box: tuple[float, float, float, float], colour=(196, 150, 128),
             size: float = 6.0) -> np.ndarray:
    """A fingertip-like blob (skin tone, shaded, soft edge) over the LED in `box`, `size` boxes across."""
    height, width = frame.shape[:2]
    x, y, w, h = box
    radius = size * max(w, h) / 2
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = x + w / 2 + 0.3 * radius, y + h / 2 + 0.2 * radius
    distance = np.hypot((xs - cx) / 1.3, ys - cy) / radius
    mask = np.clip((1 - distance) / 0.15, 0, 1)[..., None]
    shade = np.array(colour, np.float32) * (0.8 + 0.3 * (1 - np.clip(distance, 0, 1)))[..., None]
    return noisy(frame * (1 - mask) + shade * mask, 2.0)
