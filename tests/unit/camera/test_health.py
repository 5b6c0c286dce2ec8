"""Camera health decisions on real photographs, clean and with the degradations a camera suffers applied."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.camera import health

from .photos import blurred, covered, exposed, noisy, photo, tinted, view

CLEAN = ["jetson_room_2", "jetson_desk", "coral_pets", "ont_hg8010h", "hpe_aruba_switch_ports_3Green",
         "portable_router_desk_lowlight", "opencv_fruits"]


def problems(frame: np.ndarray) -> list[str]:
    return [issue for issue, seen in health.judge(health.measure(frame)).items() if seen]


@pytest.mark.parametrize("name", CLEAN)
def test_clean_real_photos_show_no_problem(name):
    assert problems(photo(name)) == []
    assert problems(noisy(photo(name), sigma=2.0)) == []


def test_a_hand_over_the_lens_is_covered():
    assert problems(covered(photo("jetson_room_2"))) == [health.COVERED]
    assert problems(covered(photo("ont_hg8010h"), colour=(200, 200, 194))) == [health.COVERED]


def object_on_a_plain_backdrop(name: str, grey: int = 190) -> np.ndarray:
    """The photo shrunk into a band across the middle of a plain, evenly lit backdrop (a product shot)."""
    frame = photo(name)
    height, width = frame.shape[:2]
    canvas = np.full_like(frame, grey)
    band = frame[height // 3: height // 3 + height // 8]
    canvas[height * 3 // 8 + 2: height * 3 // 8 + 2 + band.shape[0]] = band
    return noisy(canvas)


def test_an_object_in_the_middle_of_a_plain_backdrop_is_not_a_covered_lens():
    frame = object_on_a_plain_backdrop("jetson_room_2")
    measures = health.measure(frame)
    assert measures.flat_fraction >= 0.68 and measures.detail_depth >= 4  # flat, but detail in the middle
    assert health.judge(measures)[health.COVERED] is False
    assert health.judge(measures)[health.COLOUR_CAST] is None  # one band's edges do not tell the light's colour


def test_what_a_cover_leaves_visible_is_a_strip_along_one_border():
    flat = np.ones((8, 8), bool)
    assert health.detail_depth(flat) == 0
    flat[:, 7] = False  # the right-hand column still shows the scene
    assert health.detail_depth(flat) == 1
    flat[:, 7] = True
    flat[3:5, :] = False  # a band across the middle instead
    assert health.detail_depth(flat) == 5


def test_a_hand_over_a_third_of_the_view_is_not_a_covered_lens():
    assert health.COVERED not in problems(covered(photo("jetson_room_2"), coverage=0.35))


def test_a_blurred_view_is_out_of_focus_and_a_genuinely_blurred_photo_too():
    assert problems(blurred(photo("jetson_desk"), sigma=3.5)) == [health.OUT_OF_FOCUS]
    assert problems(photo("opencv_licenseplate_motion")) == [health.OUT_OF_FOCUS]


def test_a_dark_frame_is_too_dark_and_focus_and_colour_are_unknown():
    verdict = health.judge(health.measure(exposed(photo("coral_pets"), 0.08)))
    assert verdict[health.TOO_DARK] is True
    assert verdict[health.OUT_OF_FOCUS] is None and verdict[health.COLOUR_CAST] is None


def test_a_lamp_lit_corner_of_a_dark_room_is_not_too_dark():
    frame = exposed(photo("jetson_room_2"), 0.1)
    frame[:90, :110] = exposed(photo("jetson_room_2"), 1.2)[:90, :110]  # a tenth of the view in the lamp's light
    assert health.TOO_DARK not in problems(frame)


def test_an_overexposed_frame_is_overexposed():
    assert problems(exposed(photo("hpe_aruba_switch_ports_3Green"), 5.0)) == [health.OVEREXPOSED]


def test_an_overcast_sky_filling_half_the_view_is_not_overexposed_but_the_same_view_at_5x_is():
    beach = exposed(photo("coral_kite_and_cold"), 1.2)  # 46 % clipped white sky, with as much just below white
    measures = health.measure(beach)
    assert measures.clipped_fraction > 0.4 and measures.near_white_ratio > 0.5
    assert health.OVEREXPOSED not in problems(beach)
    assert problems(exposed(beach, 5.0)) == [health.OVEREXPOSED]


def test_a_magenta_tint_is_a_colour_cast_naming_the_strong_channel():
    measures = health.measure(tinted(photo("jetson_room_2")))
    assert health.judge(measures)[health.COLOUR_CAST] is True and measures.cast_channel == "r"


def test_the_same_picture_again_has_no_changed_pixels_and_a_live_sensor_changes_most():
    frame = photo("jetson_desk")
    assert health.changed_fraction(health.fingerprint(frame), health.fingerprint(frame.copy())) == 0.0
    live = health.changed_fraction(health.fingerprint(noisy(frame, seed=1)), health.fingerprint(noisy(frame, seed=2)))
    assert live > 0.5


def test_a_camera_turned_by_a_tenth_of_the_view_has_moved():
    frame = photo("jetson_room_2")
    shift = health.shift_against(health.reference_view(view(frame)), noisy(view(frame, dx=0.1)))
    assert health.moved(shift) and shift.fraction == pytest.approx(0.1 / 0.75, abs=0.02)  # of the view's width


def test_the_same_view_in_other_light_has_not_moved():
    frame = photo("ont_hg8010h")
    shift = health.shift_against(health.reference_view(view(frame)), exposed(view(frame, dx=0.005), 0.75))
    assert not health.moved(shift) and shift.similarity > 0.9


def test_a_camera_pointed_at_another_scene_has_moved():
    reference = health.reference_view(view(photo("jetson_room_2")))
    elsewhere = view(photo("jetson_desk"))
    from edge_agent.camera.frames import resize

    shift = health.shift_against(reference, resize(elsewhere, reference.shape[1] * 2, reference.shape[0] * 2))
    assert health.moved(shift) and shift.similarity < 0.5


def test_things_moving_in_a_still_view_are_not_a_moved_camera():
    reference = health.reference_view(photo("opencv_rubberwhale1"))
    assert not health.moved(health.shift_against(reference, photo("opencv_rubberwhale2")))


def test_frames_of_any_size_are_measured_on_the_same_small_copy():
    assert health.working_copy(np.zeros((1080, 1920, 3), np.uint8)).shape == (108, 192, 3)
    assert health.working_copy(np.zeros((120, 160), np.uint8)).shape == (120, 160, 3)


def test_someone_walking_through_a_third_of_the_view_is_not_a_moved_camera():
    frame = photo("coral_kite_and_cold")  # a plain sky: a grey-level comparison called this one moved
    reference = health.reference_view(view(frame))
    assert not health.moved(health.shift_against(reference, covered(view(frame), coverage=0.3)))
