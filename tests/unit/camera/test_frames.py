"""Frame checks and resizing: a small bright LED must survive the downscale to the model's input."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.camera.frames import FrameError, as_rgb, resize


def test_grey_frames_become_rgb_and_alpha_is_dropped():
    assert as_rgb(np.zeros((10, 12), np.uint8)).shape == (10, 12, 3)
    assert as_rgb(np.zeros((10, 12, 4), np.uint8)).shape == (10, 12, 3)


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 2), np.uint8),
                                 np.zeros((4, 4, 3), np.uint8), "frame"])
def test_anything_but_an_rgb_image_is_refused_clearly(bad):
    with pytest.raises(FrameError, match="frame must be"):
        as_rgb(bad)


def test_resize_gives_the_requested_shape_and_keeps_a_small_bright_spot():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[200:206, 300:306] = (0, 255, 0)  # a 6-pixel LED
    small = resize(frame, 96, 96)
    assert small.shape == (96, 96, 3) and small.dtype == np.uint8
    assert small[..., 1].max() >= 100


def test_resize_of_a_frame_already_at_size_returns_it_unchanged():
    frame = np.full((96, 96, 3), 7, np.uint8)
    assert resize(frame, 96, 96) is frame


def test_upscaling_a_uniform_frame_keeps_its_value():
    assert np.all(resize(np.full((20, 30, 3), 80, np.uint8), 64, 48) == 80)


def test_the_detection_stream_is_scaled_up_to_cover_every_model_input_and_never_down():
    from edge_agent.camera.frames import detection_size

    assert detection_size((192, 144), [(96, 96)]) == (192, 144)
    assert detection_size((192, 144), [(96, 96), (300, 300)]) == (400, 300)
    assert detection_size((192, 144), [(320, 120)]) == (320, 240)
    assert detection_size((640, 480), []) == (640, 480)
