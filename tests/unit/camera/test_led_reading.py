"""Reading real devices' LEDs (tests/data/photos/devices/led, our hand labels): calibration, other states of the
same device, a camera's perturbations, blinking, and occlusion with and without a model."""

from __future__ import annotations

import pytest

from edge_agent.camera.led_calibrate import calibrate
from edge_agent.camera.led_find import NoLedsFound, find_leds
from edge_agent.camera.led_reader import LedReader, read_frame

from .led_photos import exposed, jpeg, labelled_photos, moved, noisy, occluded, switched_off

PHOTOS = labelled_photos()
SWITCH = "hpe_aruba_switch_ports_{}.jpg"


def expected(photo):
    return [(label != "off", None if label == "off" else label) if label else None for label in photo.states]


def read(reading):
    return [(led.lit, led.colour) for led in reading.leds]


def matches(readings, labels):
    return all(label is None or reading == label for reading, label in zip(readings, labels, strict=True))


@pytest.fixture(scope="module")
def profiles():
    return {}


def profile_of(profiles, file):
    if file not in profiles:
        photo = PHOTOS[file]
        profiles[file] = calibrate([photo.frame()], photo.leds(), source=file)
    return profiles[file]


@pytest.mark.parametrize("file", sorted(PHOTOS))
def test_calibration_reads_each_real_photo_as_labelled(profiles, file):
    profile = profile_of(profiles, file)
    assert matches([(led.on, led.colour) for led in profile.leds], expected(PHOTOS[file]))


@pytest.mark.parametrize("target", ["2Mixed", "3Green", "4OrangeOrange", "5Green"])
def test_a_profile_reads_other_states_of_the_same_device(profiles, target):
    """Calibrated with every port lit (amber and green), read with other ports dark or another colour, the
    camera a few pixels off."""
    profile = profile_of(profiles, SWITCH.format("4Mixed"))
    photo = PHOTOS[SWITCH.format(target)]
    reading = read_frame(profile, photo.frame())
    assert not reading.occluded
    assert matches(read(reading), expected(photo))


@pytest.mark.parametrize("file", ["ont_f6005_tim.jpg", SWITCH.format("2Mixed"), "ont_g-010g-p.jpg"])
@pytest.mark.parametrize("perturbation", [
    lambda f: moved(f, 0.04, -0.03), lambda f: moved(f, 0.0, 0.01, 1.08), lambda f: moved(f, 0.01, 0.0, 0.95, 3.0),
    lambda f: exposed(f, 0.6), lambda f: jpeg(noisy(f, 5.0), 40)],
    ids=["shift", "zoom", "turn", "darker", "noise+jpeg"])
def test_what_a_camera_does_to_the_view_does_not_change_the_reading(profiles, file, perturbation):
    photo = PHOTOS[file]
    reading = read_frame(profile_of(profiles, file), perturbation(photo.frame()))
    assert not reading.occluded
    readable = [r if r[0] is not None else None for r in read(reading)]
    assert sum(r is not None for r in readable) >= len(readable) - 1  # one may leave the shifted frame
    labels = [label if r is not None else None for label, r in zip(expected(photo), readable, strict=True)]
    assert matches(readable, labels)


def test_alternating_real_frames_read_as_blinking(profiles):
    """The switch with port 7 lit and unlit in turn: port 7 blinks, the others are steady."""
    reader = LedReader(profile_of(profiles, SWITCH.format("3Green")), burst=4)
    frames = [PHOTOS[SWITCH.format(name)].frame() for name in ("3Green", "4Green")]
    for step in range(4):
        reader.read(frames[step % 2])
    states = {s.index: s for s in reader.states()}
    assert [i for i, s in states.items() if s.blinking] == [7]
    assert states[7].on and states[7].colour == "green"
    assert [i for i, s in states.items() if s.on] == [1, 3, 5, 7]


def test_an_led_switched_off_and_on_again_blinks_and_a_steady_off_does_not(profiles):
    photo = PHOTOS["ont_f6005_tim.jpg"]
    frame = photo.frame()
    pon_off = switched_off(frame, photo.boxes[2])
    blinking = LedReader(profile_of(profiles, photo.file), burst=4)
    for step in range(4):
        blinking.read(frame if step % 2 == 0 else pon_off)
    steady_off = LedReader(profile_of(profiles, photo.file), burst=4)
    for _ in range(3):
        steady_off.read(pon_off)
    assert [(s.name, s.blinking) for s in blinking.states()] == [
        ("Power", False), ("LOS", False), ("PON", True), ("LAN", False)]
    assert [(s.name, s.on, s.blinking) for s in steady_off.states()][2] == ("PON", False, False)


def test_a_fingertip_over_an_led_marks_the_frame_occluded_and_reads_nothing(profiles):
    photo = PHOTOS["ont_f6005_tim.jpg"]
    reader = LedReader(profile_of(profiles, photo.file), burst=4)
    reader.read(photo.frame())
    reading = reader.read(occluded(photo.frame(), photo.boxes[2]))
    assert reading.occluded and "changed" in reading.why  # the first LED whose surroundings the finger covers
    assert [s.frames for s in reader.states()] == [1, 1, 1, 1]  # the occluded frame did not count


@pytest.mark.parametrize("led", range(6))
def test_a_skin_toned_finger_on_a_plain_white_casing_is_seen(profiles, led):
    """The finger is about as bright as the casing: its hue gives it away."""
    photo = PHOTOS["ont_fg1000r_front.jpg"]
    reading = read_frame(profile_of(profiles, photo.file), occluded(photo.frame(), photo.boxes[led]))
    assert reading.occluded


def test_another_view_altogether_is_occluded(profiles):
    reading = read_frame(profile_of(profiles, "ont_f6005_tim.jpg"), PHOTOS["ont_g-010g-p.jpg"].frame())
    assert reading.occluded and "does not match the calibrated one" in reading.why


def test_an_object_detector_can_say_an_led_is_covered(profiles):
    photo = PHOTOS["ont_f6005_tim.jpg"]
    covered_boxes = []

    def covers(frame, box):
        covered_boxes.append(box)
        return box[0] > 450  # "a hand over the right end"

    reading = read_frame(profile_of(profiles, photo.file), photo.frame(), covers)
    assert reading.occluded and "LED 4 (LAN) is covered by an object" in reading.why
    assert len(covered_boxes) == 4 and covered_boxes[3] == pytest.approx(photo.boxes[3], abs=1.5)


@pytest.mark.parametrize("file", ["ont_fg1000r_front.jpg", SWITCH.format("4Mixed"), SWITCH.format("4Green")])
def test_lit_leds_are_found_without_boxes_and_nothing_else(file):
    """Green LEDs whose centres clip white, amber ones, and not the chrome port frames' glints nor the label."""
    photo = PHOTOS[file]
    spots = find_leds(photo.frame())
    centres = [(x + w / 2, y + h / 2) for x, y, w, h in (s.box for s in spots)]

    def near(box, centre):
        x, y, w, h = box
        return abs(centre[0] - x - w / 2) < w and abs(centre[1] - y - h / 2) < h

    lit = [box for box, label in zip(photo.boxes, photo.states, strict=True) if label not in (None, "off")]
    assert all(any(near(box, c) for c in centres) for box in lit)
    assert all(any(near(box, c) for box in lit) for c in centres)


def test_a_device_with_no_lit_led_asks_for_boxes():
    with pytest.raises(NoLedsFound, match="--led x,y,w,h"):
        find_leds(PHOTOS["ont_g-010g-d_front.jpg"].frame())


def test_a_phone_sized_photo_is_calibrated_and_read_on_a_smaller_copy():
    """12 megapixels: boxes given in its own pixels; read back at that size and at the camera's."""
    import cv2

    photo = PHOTOS["ont_f6005_tim.jpg"]
    frame = photo.frame()
    big = cv2.resize(frame, (4000, 3000), interpolation=cv2.INTER_LINEAR)
    leds = [(tuple(v * 5 for v in box), name, None) for box, name in zip(photo.boxes, photo.names, strict=True)]
    profile = calibrate([big], leds)
    assert max(profile.frame_size) == 2048
    for view in (big, frame):
        assert matches(read(read_frame(profile, view)), expected(photo))
