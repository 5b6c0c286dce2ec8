"""What covers a watched region: detections over it, scenery from the reference view, persistence."""

from __future__ import annotations

import pytest

from edge_agent.camera.occlusion import PersistentOcclusion, covered_fraction, occluders_over, pixel_box
from edge_agent.ml.custom import Detection

DEVICE = (0.4, 0.4, 0.6, 0.6)  # the watched LEDs: the middle of the frame


def test_a_person_over_the_device_is_an_occluder():
    person = Detection("person", 0.8, (0.1, 0.3, 0.9, 0.7))
    assert occluders_over(DEVICE, [person]) == [person]


def test_detections_beside_the_device_or_barely_touching_it_are_not():
    beside = Detection("person", 0.9, (0.0, 0.0, 1.0, 0.35))
    corner = Detection("cup", 0.9, (0.58, 0.58, 0.9, 0.9))  # 1 % of the region
    assert occluders_over(DEVICE, [beside, corner], min_overlap=0.1) == []


def test_low_scores_do_not_pause_reading():
    assert occluders_over(DEVICE, [Detection("person", 0.3, DEVICE)], min_score=0.4) == []


def test_the_device_itself_seen_in_the_reference_is_scenery_but_a_new_object_is_not():
    device_as_tv = Detection("tv", 0.7, (0.38, 0.38, 0.62, 0.62))
    bottle = Detection("bottle", 0.6, (0.35, 0.45, 0.7, 0.55))
    found = occluders_over(DEVICE, [device_as_tv, bottle], scenery=[Detection("tv", 0.75, (0.39, 0.4, 0.61, 0.6))])
    assert found == [bottle]


def test_a_person_is_never_scenery():
    person = Detection("person", 0.9, (0.2, 0.2, 0.8, 0.8))
    assert occluders_over(DEVICE, [person], scenery=[person]) == [person]


def test_occluders_come_most_covering_first():
    small = Detection("cell phone", 0.95, (0.4, 0.4, 0.45, 0.45))
    large = Detection("person", 0.6, (0.0, 0.0, 1.0, 1.0))
    assert occluders_over(DEVICE, [small, large], min_overlap=0.01) == [large, small]


def test_a_region_without_area_is_refused():
    with pytest.raises(ValueError, match="no area"):
        occluders_over((0.5, 0.5, 0.5, 0.6), [])


def test_pixel_boxes_become_fractions():
    assert pixel_box(160, 120, 32, 24, 320, 240) == (0.5, 0.5, 0.6, 0.6)
    assert covered_fraction(DEVICE, (0.5, 0.4, 0.6, 0.6)) == pytest.approx(0.5)


def test_only_an_unbroken_cover_lasting_persist_s_counts():
    watch = PersistentOcclusion(persist_s=10)
    assert not watch.update(True, 0.0)
    assert not watch.update(True, 9.0)
    assert watch.update(True, 10.0)
    assert not watch.update(False, 11.0)
    assert not watch.update(True, 12.0) and watch.covered_for(15.0) == 3.0
