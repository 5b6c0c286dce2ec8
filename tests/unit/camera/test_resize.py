"""The area filter that brings camera frames to a model's input: OpenCV and numpy agree, light is kept."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.camera.resize import area_resize

pytest.importorskip("cv2")  # the OpenCV path is compared with numpy's; the dev extras install it

SIZES = [((480, 640), (96, 96)), ((480, 640), (300, 300)), ((480, 640), (192, 144)), ((481, 641), (160, 120)),
         ((720, 1280), (300, 300)), ((144, 192), (96, 96)), ((96, 128), (300, 300))]


def random_frame(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


@pytest.mark.parametrize(("source", "target"), SIZES)
def test_opencv_and_numpy_give_the_same_frame_within_rounding(source, target):
    frame = random_frame(source)
    with_cv = area_resize(frame, *target).astype(int)
    without = area_resize(frame, *target, use_opencv=False).astype(int)
    assert with_cv.shape == without.shape == (target[1], target[0], 3)
    assert np.abs(with_cv - without).max() <= 1


@pytest.mark.parametrize("use_opencv", [True, False])
def test_halving_is_the_exact_mean_of_each_block(use_opencv):
    frame = random_frame((480, 640), seed=2)
    blocks = frame.reshape(120, 4, 160, 4, 3).astype(np.float64).mean(axis=(1, 3))
    assert np.abs(area_resize(frame, 160, 120, use_opencv) - blocks).max() <= 1.0


@pytest.mark.parametrize("use_opencv", [True, False])
@pytest.mark.parametrize(("y", "x"), [(200, 300), (201, 301), (0, 0), (477, 637), (123, 458)])
def test_a_three_pixel_led_keeps_its_light_wherever_it_is(use_opencv, y, x):
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[y:y + 3, x:x + 3, 1] = 255
    small = area_resize(frame, 96, 96, use_opencv).astype(np.float64)
    light_in = 9 * 255 / (480 * 640)
    light_out = small[..., 1].sum() / (96 * 96)
    assert light_out == pytest.approx(light_in, rel=0.25)  # linear remainder smears, never drops the spot
    covered = 480 / 96 * 640 / 96  # input pixels per output pixel
    assert small[..., 1].max() >= 255 * 9 / covered / 4 * 0.9  # at worst split over four output pixels


@pytest.mark.parametrize("use_opencv", [True, False])
def test_an_rgba_view_and_a_uniform_frame_resize_cleanly(use_opencv):
    rgba = np.full((480, 640, 4), 77, np.uint8)
    out = area_resize(rgba[..., :3], 300, 300, use_opencv)
    assert out.shape == (300, 300, 3) and np.all(out == 77)


def test_a_target_without_pixels_is_refused():
    with pytest.raises(ValueError, match="must be positive"):
        area_resize(random_frame((48, 64)), 0, 10)
