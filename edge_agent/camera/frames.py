"""Frame arithmetic shared by every camera source and the vision model: shape checks, downscaling. Pure."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from edge_agent.camera.resize import area_resize


class FrameError(ValueError):
    """A frame that is not an RGB image (wrong shape or type)."""


def as_rgb(frame: np.ndarray) -> np.ndarray:
    """The frame as uint8 (height, width, 3): grey becomes RGB, an alpha channel is dropped."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise FrameError(f"a frame must be a uint8 array, got {getattr(frame, 'dtype', type(frame).__name__)}")
    if frame.ndim == 2:
        return np.repeat(frame[..., None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or min(frame.shape[:2]) < 8:
        raise FrameError(f"a frame must be (height, width, 3) with both sides >= 8, got shape {frame.shape}")
    return frame if frame.shape[2] == 3 else frame[..., :3]


def resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Downscale (or upscale) to (height, width, 3) with an area filter, which keeps small bright spots such as
    LEDs (edge_agent.camera.resize: OpenCV where installed, else numpy)."""
    frame = as_rgb(frame)
    if frame.shape[:2] == (height, width):
        return frame
    return area_resize(frame, width, height)


def detection_size(configured: tuple[int, int], model_inputs: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The size to ask the camera's detection stream for: the configured (width, height), scaled up with its
    aspect kept until it covers every camera model's input, so that no model is fed an upscaled frame (the
    hardware scaler makes the larger stream for free; upscaling in software costs time and adds nothing).
    Never scaled down: the health checks and LED reading use the same frames."""
    width, height = configured
    scale = max([1.0] + [max(w / width, h / height) for w, h in model_inputs])
    return math.ceil(width * scale - 1e-9), math.ceil(height * scale - 1e-9)
