"""Real values ↔ quantised integers, as TFLite's QUANTIZE and DEQUANTIZE ops define them."""

from __future__ import annotations

import numpy as np

from edge_agent.ml.quantise import dequantise, pixels_for, quantise


def test_quantise_rounds_to_nearest_and_saturates_at_the_type_range():
    q = quantise(np.array([0.0, 0.26, -0.26, 100.0, -100.0]), scale=0.5, zero_point=3, dtype="int8")
    assert q.dtype == np.int8
    assert q.tolist() == [3, 4, 2, 127, -128]


def test_dequantise_inverts_quantise_within_half_a_step():
    values = np.linspace(-3, 3, 50, dtype=np.float32)
    back = dequantise(quantise(values, 0.05, -10, "int8"), 0.05, -10)
    assert np.abs(back - values).max() <= 0.025 + 1e-6


def test_uint8_pixels_pass_unchanged_when_the_model_takes_pixel_values():
    frame = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert pixels_for(frame, "uint8", 1.0, 0) is frame


def test_the_int8_top_bit_flip_equals_subtracting_128():
    frame = np.array([[[0, 127, 128], [200, 255, 1]]], dtype=np.uint8)
    fast = pixels_for(frame, "int8", 1.0, -128)
    assert fast.dtype == np.int8
    assert fast.tolist() == quantise(frame.astype(np.float32), 1.0, -128, "int8").tolist()


def test_other_pixel_encodings_use_the_general_formula():
    frame = np.array([[[0, 128, 255]]], dtype=np.uint8)
    assert pixels_for(frame, "int8", 2.0, 0).tolist() == [[[0, 64, 127]]]
