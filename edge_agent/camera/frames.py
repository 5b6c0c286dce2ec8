"""Frame arithmetic shared by every camera source and the vision model: shape checks, downscaling. Pure."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


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
    """Downscale (or upscale) to (height, width, 3): block means for the integer part of the ratio, which
    keeps small bright spots such as LEDs, then linear interpolation for the rest."""
    frame = as_rgb(frame)
    h, w = frame.shape[:2]
    if (h, w) == (height, width):
        return frame
    fy, fx = max(1, h // height), max(1, w // width)
    if fy > 1 or fx > 1:
        hh, ww = (h // fy) * fy, (w // fx) * fx
        oy, ox = (h - hh) // 2, (w - ww) // 2
        block = frame[oy:oy + hh, ox:ox + ww].reshape(hh // fy, fy, ww // fx, fx, 3)
        reduced = block.mean(axis=(1, 3), dtype=np.float32)
    else:
        reduced = frame.astype(np.float32)
    rows = _lerp_axis(reduced, height, axis=0)
    out = _lerp_axis(rows, width, axis=1)
    return (out + 0.5).astype(np.uint8)


def _lerp_axis(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    if values.shape[axis] == size:
        return values
    low, high, weight = _lerp_plan(values.shape[axis], size)
    a = np.take(values, low, axis=axis)
    b = np.take(values, high, axis=axis)
    shape = [1, 1, 1]
    shape[axis] = size
    return a + (b - a) * weight.reshape(shape)


@lru_cache(maxsize=16)
def _lerp_plan(source: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    centres = (np.arange(size) + 0.5) * source / size - 0.5
    centres = np.clip(centres, 0, source - 1)
    low = np.floor(centres).astype(np.intp)
    high = np.minimum(low + 1, source - 1)
    return low, high, (centres - low).astype(np.float32)
