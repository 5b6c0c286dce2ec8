"""Downscaling camera frames to a model's input with an area filter (each output pixel the mean of the input
pixels it covers, so a small bright LED dims but never vanishes between samples), cheaply.

The frame is halved with 2x2 (or 2x1) means while it stays at least twice the target along an axis (OpenCV's
linear resize at exactly half size, which averages pixel pairs; numpy adds strided views in uint16), then the remaining
factor, below 2, is linear interpolation, which at such a factor still weighs every input pixel. OpenCV is
used where it is installed; numpy alone gives the same result within rounding.
Measured costs: docs/BENCHMARKS.md (scripts/bench_inference.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


def _load_cv2() -> Any:
    try:
        import cv2
    except ImportError:
        return None
    return cv2


_CV2 = _load_cv2()


def area_resize(frame: np.ndarray, width: int, height: int, use_opencv: bool = True) -> np.ndarray:
    """A uint8 (h, w, 3) frame as (height, width, 3) uint8. Downscaling is an area filter; upscaling (a
    model input larger than the frame) is linear interpolation."""
    if width < 1 or height < 1:
        raise ValueError(f"target size {width}x{height} must be positive")
    cv2 = _CV2 if use_opencv else None
    if cv2 is not None and (frame.strides[2] != 1 or frame.strides[1] != 3):
        frame = np.ascontiguousarray(frame)  # OpenCV reads rows of packed pixels (not an RGBA frame's view)
    while True:
        fy = 2 if frame.shape[0] >= 2 * height else 1
        fx = 2 if frame.shape[1] >= 2 * width else 1
        if fy == fx == 1:
            break
        frame = _halve_cv2(cv2, frame, fy, fx) if cv2 is not None else _halve_numpy(frame, fy, fx)
    if frame.shape[:2] == (height, width):
        return frame
    if cv2 is not None:
        return cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
    return _linear_numpy(frame, width, height)


def _halve_cv2(cv2: Any, frame: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """Means of fy x fx blocks. Linear interpolation at exactly half the size samples halfway between each
    pair of pixels, which is their mean: the area filter, on OpenCV's fastest path (INTER_AREA's own is fast
    only for 2x2: 1.5 ms for a 2x1 halving of 640x480 here, against 0.1 ms)."""
    h, w = frame.shape[0] // fy * fy, frame.shape[1] // fx * fx
    return cv2.resize(frame[:h, :w], (w // fx, h // fy), interpolation=cv2.INTER_LINEAR)


def _halve_numpy(frame: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """Means of fy x fx blocks (each 1 or 2), rounded half up: sums of strided views in uint16, no float copy."""
    h, w = frame.shape[0] // fy * fy, frame.shape[1] // fx * fx
    total = frame[0:h:fy, 0:w:fx].astype(np.uint16)
    for dy in range(fy):
        for dx in range(fx):
            if dy or dx:
                total += frame[dy:h:fy, dx:w:fx]
    count = fy * fx
    total += count // 2
    total //= count
    return total.astype(np.uint8)


def _linear_numpy(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    rows = _lerp_axis(frame.astype(np.float32), height, axis=0)
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
    """Pixel-centre aligned sample positions: output pixel i covers source [i * s, (i + 1) * s)."""
    centres = (np.arange(size) + 0.5) * source / size - 0.5
    centres = np.clip(centres, 0, source - 1)
    low = np.floor(centres).astype(np.intp)
    high = np.minimum(low + 1, source - 1)
    return low, high, (centres - low).astype(np.float32)
