"""Real photographs (tests/data/photos, downscaled copies; PROVENANCE.md there) and the degradations a camera
suffers, applied to them: for the camera-health tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_agent.camera.replay import ReplaySource

PHOTOS = Path(__file__).resolve().parents[2] / "data" / "photos"


def photo(name: str) -> np.ndarray:
    """scenes/<name>.jpg or devices/<name>.jpg, as RGB."""
    [path] = [p for p in (PHOTOS / "scenes" / f"{name}.jpg", PHOTOS / "devices" / f"{name}.jpg") if p.exists()]
    return ReplaySource(path, loop=False).read()


def noisy(frame: np.ndarray, sigma: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).round().astype(np.uint8)


def exposed(frame: np.ndarray, gain: float) -> np.ndarray:
    return noisy(np.clip(frame.astype(np.float32) * gain, 0, 255))


def blurred(frame: np.ndarray, sigma: float) -> np.ndarray:
    radius = int(3 * sigma)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-x * x / (2 * sigma * sigma))
    kernel /= kernel.sum()
    out = frame.astype(np.float32)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in range(3)], mode="edge")
        out = sum(w * np.take(padded, np.arange(i, i + frame.shape[axis]), axis=axis) for i, w in enumerate(kernel))
    return noisy(out)


def covered(frame: np.ndarray, colour=(190, 140, 118), coverage: float = 0.9) -> np.ndarray:
    """A hand over the lens from the left: out of focus, so a smooth shade with a soft edge."""
    height, width = frame.shape[:2]
    xx = np.arange(width, dtype=np.float32)[None, :] / width
    mask = np.clip((coverage - xx) / 0.06 + 0.5, 0, 1)[..., None]
    shade = np.array(colour, np.float32) * (1 + 0.3 * (xx[..., None] - 0.5))
    return noisy(frame * (1 - mask) + shade * mask, sigma=1.5)


def tinted(frame: np.ndarray, gains=(1.35, 0.75, 1.2)) -> np.ndarray:
    return noisy(np.clip(frame.astype(np.float32) * np.array(gains), 0, 255))


def view(frame: np.ndarray, dy: float = 0.0, dx: float = 0.0) -> np.ndarray:
    """What a fixed camera sees: the 75 % centre of the photo, moved by fractions of the width."""
    height, width = frame.shape[:2]
    h, w = int(height * 0.75), int(width * 0.75)
    y0 = int(np.clip((height - h) / 2 + dy * width, 0, height - h))
    x0 = int(np.clip((width - w) / 2 + dx * width, 0, width - w))
    return frame[y0:y0 + h, x0:x0 + w]
