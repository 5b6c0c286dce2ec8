"""Downscaling camera frames to a model's input with an area filter (each output pixel the mean of the input
pixels it covers, so a small bright LED dims but never vanishes between samples), cheaply.

The frame is halved with 2x2 block means while both sides stay at least twice the target (OpenCV's INTER_AREA
at exactly 2x2, its fastest path; numpy adds strided views in uint16); what remains is an area filter where
one side still shrinks by 2 or more, else linear interpolation, which below a factor of 2 still weighs every
input pixel. OpenCV is used where it is installed; numpy alone gives the same frame within rounding.
Measured costs: docs/BENCHMARKS.md (scripts/bench_inference.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def _load_cv2() -> Any:
    """OpenCV on first use, not at import: it costs ~15 MiB of RSS, which a gateway without a camera never needs."""
    try:
        import cv2
    except ImportError:
        return None
    # One thread, like the interpreter's: on a gateway's few busy cores OpenCV's thread pool made these small
    # resizes slower, not faster (0.40 ms against 0.24 ms for 640x480 to 96x96 here).
    cv2.setNumThreads(1)
    return cv2


def area_resize(frame: np.ndarray, width: int, height: int, use_opencv: bool = True) -> np.ndarray:
    """A uint8 (h, w, 3) frame as (height, width, 3) uint8. Downscaling is an area filter; upscaling (a
    model input larger than the frame) is linear interpolation."""
    if width < 1 or height < 1:
        raise ValueError(f"target size {width}x{height} must be positive")
    cv2 = _load_cv2() if use_opencv else None
    if cv2 is not None and (frame.strides[2] != 1 or frame.strides[1] != 3):
        frame = np.ascontiguousarray(frame)  # OpenCV reads rows of packed pixels (not an RGBA frame's view)
    if cv2 is not None:
        return _resize_cv2(cv2, frame, width, height)
    while frame.shape[0] >= 2 * height and frame.shape[1] >= 2 * width:
        frame = _halve_numpy(frame)
    if frame.shape[:2] == (height, width):
        return frame
    values = frame.astype(np.float32)
    if frame.shape[0] >= 2 * height or frame.shape[1] >= 2 * width:
        values = _area_axis(_area_axis(values, height, axis=0), width, axis=1)
    else:
        values = _lerp_axis(_lerp_axis(values, height, axis=0), width, axis=1)
    return (values + 0.5).astype(np.uint8)


def _resize_cv2(cv2: Any, frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """OpenCV is fast at exactly 2x2 (0.15 ms to halve 640x480 here) and slow at everything else an area filter
    needs (1.3 ms to halve one axis only, 1.6 ms for 640x480 to 300x300 directly): halve 2x2 while both sides
    allow, then its area filter where a factor of 2 or more remains on one side, linear interpolation below."""
    while frame.shape[0] >= 2 * height and frame.shape[1] >= 2 * width:
        h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
        frame = cv2.resize(frame[:h, :w], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    if frame.shape[:2] == (height, width):
        return frame
    coarse = frame.shape[0] >= 2 * height or frame.shape[1] >= 2 * width
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA if coarse else cv2.INTER_LINEAR)


def _halve_numpy(frame: np.ndarray) -> np.ndarray:
    """Means of 2x2 blocks, rounded half up: four strided views summed in uint16, no float copy of the frame."""
    h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
    total = frame[0:h:2, 0:w:2].astype(np.uint16)
    total += frame[1:h:2, 0:w:2]
    total += frame[0:h:2, 1:w:2]
    total += frame[1:h:2, 1:w:2]
    total += 2
    total >>= 2
    return total.astype(np.uint8)


def _area_axis(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Each output pixel the mean of the input it covers (fractions at its edges), along one axis: a few
    weighted gathers, one per input pixel an output pixel can touch."""
    if values.shape[axis] == size:
        return values
    taps, weights = _area_plan(values.shape[axis], size)
    shape = [1, 1, 1]
    shape[axis] = size
    out = np.take(values, taps[:, 0], axis=axis) * weights[:, 0].reshape(shape)
    for k in range(1, taps.shape[1]):
        out += np.take(values, taps[:, k], axis=axis) * weights[:, k].reshape(shape)
    return out


@lru_cache(maxsize=16)
def _area_plan(source: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For output pixel i covering input [i * s, (i + 1) * s): the input pixels it overlaps and the share of
    each (summing to 1)."""
    scale = source / size
    width = int(np.ceil(scale)) + 1
    starts = np.floor(np.arange(size) * scale).astype(np.intp)
    pixel = starts[:, None] + np.arange(width)[None, :]
    left = np.arange(size)[:, None] * scale
    overlap = np.clip(np.minimum(pixel + 1, left + scale) - np.maximum(pixel, left), 0, None)
    overlap[pixel >= source] = 0
    return np.minimum(pixel, source - 1), (overlap / overlap.sum(axis=1, keepdims=True)).astype(np.float32)


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
    """Pixel-centre aligned sample positions: output pixel i covers source [i * s, (i + 1) * s)."""
    centres = (np.arange(size) + 0.5) * source / size - 0.5
    centres = np.clip(centres, 0, source - 1)
    low = np.floor(centres).astype(np.intp)
    high = np.minimum(low + 1, source - 1)
    return low, high, (centres - low).astype(np.float32)
