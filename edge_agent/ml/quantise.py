"""Real values ↔ the integers a full-integer model takes and gives: real = (q - zero_point) * scale. Pure."""

from __future__ import annotations

import numpy as np

DTYPES = {"int8": np.int8, "uint8": np.uint8, "float32": np.float32}


def quantise(values: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """Round to nearest and saturate at the type's range, as TFLite's own QUANTIZE op does."""
    target = DTYPES[dtype]
    if target is np.float32:
        return np.asarray(values, dtype=np.float32)
    info = np.iinfo(target)
    q = np.rint(np.asarray(values, dtype=np.float32) / scale + zero_point)
    return np.clip(q, info.min, info.max).astype(target)


def dequantise(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    if values.dtype == np.float32:
        return values
    return (values.astype(np.float32) - zero_point) * scale


def pixels_for(frame: np.ndarray, dtype: str, scale: float, zero_point: int) -> np.ndarray:
    """A uint8 frame as the input of an image model whose real input is the pixel value (0-255).

    The common encodings cost no arithmetic: uint8 with scale 1 and zero point 0 is the frame itself, and int8
    with zero point -128 is the frame with its top bit flipped (x - 128 in two's complement)."""
    if dtype == "uint8" and zero_point == 0 and abs(scale - 1.0) < 1e-6:
        return frame
    if dtype == "int8" and zero_point == -128 and abs(scale - 1.0) < 1e-6:
        return (frame ^ np.uint8(0x80)).view(np.int8)
    return quantise(frame.astype(np.float32), scale, zero_point, dtype)
