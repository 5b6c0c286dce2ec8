"""Whether something stands between the camera and a watched region (the device whose LEDs are read): a
person, a hand or an object an object detector sees over it. Reading LEDs through a hand gives wrong states,
so the reader pauses while this says the region is covered. Pure: boxes in, occluders out.

Boxes are (ymin, xmin, ymax, xmax) as fractions of the frame, the convention of `Detection.box`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edge_agent.ml.custom import Detection

Box = tuple[float, float, float, float]

# Labels that are never part of the scenery: people move, and a hand or person in the reference view was
# passing through, not furniture. COCO's detector has no hand class; a hand detector's "hand" is listed here.
ALWAYS_OCCLUDERS = frozenset({"person", "hand"})
# How much a detection must overlap one seen in the reference view (same label) to be that same object.
SAME_OBJECT_IOU = 0.5


def box_area(box: Box) -> float:
    ymin, xmin, ymax, xmax = box
    return max(0.0, ymax - ymin) * max(0.0, xmax - xmin)


def intersection(a: Box, b: Box) -> float:
    return box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def iou(a: Box, b: Box) -> float:
    shared = intersection(a, b)
    union = box_area(a) + box_area(b) - shared
    return shared / union if union > 0 else 0.0


def covered_fraction(region: Box, cover: Box) -> float:
    """The share of `region`'s area that `cover` lies over (0 for an empty region)."""
    area = box_area(region)
    return intersection(region, cover) / area if area > 0 else 0.0


def occluders_over(
    box: Box, detections: Iterable[Detection], min_score: float = 0.4, min_overlap: float = 0.1,
    scenery: Sequence[Detection] = (),
) -> list[Detection]:
    """The detections that cover at least `min_overlap` of the watched `box` with a score of at least
    `min_score`, most covering first; an empty list means the region is clear to read.

    `scenery` is what the detector saw in the known-good reference view (the device itself, often detected as
    a "tv" or "microwave", the shelf it stands on): a detection of the same label at the same place
    (IoU >= 0.5) is that object, not something in front of it. People and hands are never scenery.
    """
    if box_area(box) <= 0:
        raise ValueError(f"the watched region {box} has no area (expected ymin < ymax and xmin < xmax)")
    found = []
    for detection in detections:
        if detection.score < min_score:
            continue
        overlap = covered_fraction(box, detection.box)
        if overlap < min_overlap or _is_scenery(detection, scenery):
            continue
        found.append((overlap, detection))
    found.sort(key=lambda pair: (-pair[0], -pair[1].score))
    return [detection for _, detection in found]


def _is_scenery(detection: Detection, scenery: Sequence[Detection]) -> bool:
    if detection.label in ALWAYS_OCCLUDERS:
        return False
    return any(seen.label == detection.label and iou(seen.box, detection.box) >= SAME_OBJECT_IOU
               for seen in scenery)


def pixel_box(x: float, y: float, width: float, height: float, frame_width: int, frame_height: int) -> Box:
    """A box given in pixels (left, top, width, height) as fractions of a frame_width x frame_height frame."""
    if frame_width <= 0 or frame_height <= 0:
        raise ValueError(f"frame size {frame_width}x{frame_height} must be positive")
    return (y / frame_height, x / frame_width, (y + height) / frame_height, (x + width) / frame_width)


class PersistentOcclusion:
    """How long the watched region has been covered without a break: a hand passing is a pause in reading,
    only a cover lasting `persist_s` (a box left in front of the device, the camera turned) is an issue."""

    def __init__(self, persist_s: float):
        if persist_s < 0:
            raise ValueError(f"persist_s {persist_s} must not be negative")
        self.persist_s = persist_s
        self.since: float | None = None

    def update(self, covered: bool, mono: float) -> bool:
        """Record one frame's verdict; True while the region has been covered for at least persist_s."""
        if not covered:
            self.since = None
            return False
        if self.since is None:
            self.since = mono
        return mono - self.since >= self.persist_s

    def covered_for(self, mono: float) -> float:
        return 0.0 if self.since is None else mono - self.since
