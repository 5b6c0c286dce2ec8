"""Registering a frame to the watched device's reference view: the shift and scale that map the calibrated LED
boxes onto the frame (the camera nudged, the device pushed back, a zoom), and how well the two views agree.

Phase correlation on a small grey copy, tried at a range of scales and refined around the best: exposure and
gain do not change it (the spectrum is whitened), a few LEDs changing state barely move it. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from edge_agent.camera.frames import as_rgb, resize

VIEW_SIDE = 320  # longest side of the registration view
MIN_SCALE, MAX_SCALE = 0.8, 1.25
COARSE_STEPS = 13
CLEAR_PEAK = 0.25  # a peak this clear at the calibrated scale: only refine around it (a fixed camera, most frames)
FINE_STEPS = (0.02, 0.01, 0.005)
ANGLES = (-5.0, -3.0, -1.5, 1.5, 3.0, 5.0)  # degrees tried when neither shift nor scale explain the view
FINE_ANGLE = 0.75


@dataclass(frozen=True)
class Alignment:
    """Reference view point q maps to the frame's view at scale * rotation(angle) * (q - centre) + centre +
    (dx, dy)."""

    scale: float
    dx: float
    dy: float
    peak: float  # phase-correlation peak, 0..1: how sharply one shift stands out
    similarity: float  # correlation of the aligned views, -1..1
    offset: tuple[float, float] = (0.0, 0.0)  # reference-frame pixels, from the fine registration (refine)
    angle: float = 0.0  # degrees, counter-clockwise in image coordinates

    def view_point(self, x: np.ndarray | float, y: np.ndarray | float, centre: tuple[float, float]
                   ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """A reference view point mapped into the frame's view."""
        return _mapped(x, y, centre, self.scale, self.angle, self.dx, self.dy)

    def point(self, x: float, y: float, reference_size: tuple[int, int], view_size: tuple[int, int],
              frame_size: tuple[int, int]) -> tuple[float, float]:
        """A point in reference-frame pixels, mapped into the current frame's pixels."""
        (rw, rh), (vw, vh), (fw, fh) = reference_size, view_size, frame_size
        cx, cy = (vw - 1) / 2, (vh - 1) / 2
        vx, vy = self.view_point((x + self.offset[0]) * vw / rw, (y + self.offset[1]) * vh / rh, (cx, cy))
        return vx * fw / vw, vy * fh / vh  # type: ignore[return-value]  # arrays in, arrays out

    def to_frame(self, box: tuple[float, float, float, float], reference_size: tuple[int, int],
                 view_size: tuple[int, int], frame_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """A box in reference-frame pixels, mapped into the current frame's pixels."""
        (rw, rh), (fw, fh) = reference_size, frame_size
        x, y, w, h = box
        nx, ny = self.point(x + w / 2, y + h / 2, reference_size, view_size, frame_size)  # the centre moves
        nw, nh = w * self.scale * fw / rw, h * self.scale * fh / rh
        return float(nx - nw / 2), float(ny - nh / 2), nw, nh


@dataclass(frozen=True)
class Detail:
    """The part of the reference frame around the LEDs, at finer resolution than the view: registering it
    again after the coarse match puts each LED box within a pixel or two of the frame's pixels."""

    region: tuple[float, float, float, float]  # x, y, w, h in reference-frame pixels
    image: np.ndarray  # grey uint8, the region resampled to at most DETAIL_SIDE on its longest side


DETAIL_SIDE = 192
MIN_DETAIL_PEAK = 0.08
MAX_DETAIL_SHIFT = 0.08  # of the detail's side: more is not a refinement but a different match


def detail_of(frame: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> Detail:
    """The detail around `boxes`: their bounding box grown by a margin (texture to register on)."""
    height, width = frame.shape[:2]
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    margin = max(3 * max(max(b[2], b[3]) for b in boxes), 0.15 * max(x1 - x0, y1 - y0), 0.05 * max(width, height))
    x0, y0 = max(0.0, x0 - margin), max(0.0, y0 - margin)
    x1, y1 = min(float(width), x1 + margin), min(float(height), y1 + margin)
    region = (x0, y0, x1 - x0, y1 - y0)
    grey = as_rgb(frame).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return Detail(region, (_region_samples(grey, region, lambda x, y: (x, y))[0] + 0.5).astype(np.uint8))


def _region_samples(grey: np.ndarray, region: tuple[float, float, float, float], to_frame, side: int = DETAIL_SIDE
                    ) -> tuple[np.ndarray, np.ndarray]:
    x, y, w, h = region
    factor = min(1.0, side / max(w, h))
    cols, rows = max(16, round(w * factor)), max(16, round(h * factor))
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    fx, fy = to_frame(x + (xs + 0.5) * w / cols - 0.5, y + (ys + 0.5) * h / rows - 0.5)
    return sample(grey, np.asarray(fx, np.float32), np.asarray(fy, np.float32))


def refine(alignment: Alignment, detail: Detail, frame_grey: np.ndarray, reference_size: tuple[int, int],
           view_size: tuple[int, int]) -> Alignment:
    """The alignment with the residual shift of the detail region; unchanged if the detail does not match."""
    frame_size = (frame_grey.shape[1], frame_grey.shape[0])
    warped, inside = _region_samples(
        frame_grey, detail.region, lambda x, y: alignment.point(x, y, reference_size, view_size, frame_size),
        max(detail.image.shape))
    if warped.shape != detail.image.shape or inside.mean() < 0.8:
        return alignment
    rows, cols = warped.shape
    window = np.outer(np.hanning(rows), np.hanning(cols)).astype(np.float32)
    ref = detail.image.astype(np.float32)
    _, _, dx, dy, peak = _try(np.fft.rfft2((ref - ref.mean()) * window), warped, 1.0, window)
    if peak < MIN_DETAIL_PEAK or max(abs(dx) / cols, abs(dy) / rows) > MAX_DETAIL_SHIFT:
        return alignment
    # The warped detail matches the reference detail moved by (dx, dy): move the boxes by as much.
    _, _, w, h = detail.region
    return replace(alignment, offset=(dx * w / cols, dy * h / rows))


def grey_view(frame: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """The frame as a small grey uint8 image: VIEW_SIDE on its longest side, or exactly `size` (w, h)."""
    rgb = as_rgb(frame)
    if size is None:
        height, width = rgb.shape[:2]
        factor = VIEW_SIDE / max(height, width)
        size = (max(16, round(width * factor)), max(16, round(height * factor)))
    small = resize(rgb, size[0], size[1]).astype(np.float32)
    return (small @ np.array([0.299, 0.587, 0.114], np.float32) + 0.5).astype(np.uint8)


def register(reference: np.ndarray, frame: np.ndarray) -> Alignment:
    """How `frame` (RGB, any size of the same aspect) sits against the reference view (grey_view of the
    calibration frame)."""
    height, width = reference.shape
    current = grey_view(frame, (width, height)).astype(np.float32)
    ref = reference.astype(np.float32)
    window = np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)
    ref_spectrum = np.fft.rfft2((ref - ref.mean()) * window)
    best = _try(ref_spectrum, current, 1.0, window)
    if best.peak < CLEAR_PEAK:  # not simply where it was: search scales and angles on a half-size copy
        small_ref, small_current = _half(ref), _half(current)
        small_window = np.outer(np.hanning(small_ref.shape[0]), np.hanning(small_ref.shape[1])).astype(np.float32)
        small_spectrum = np.fft.rfft2((small_ref - small_ref.mean()) * small_window)
        coarse = max((_try(small_spectrum, small_current, float(scale), small_window, angle)
                      for scale in np.geomspace(MIN_SCALE, MAX_SCALE, COARSE_STEPS) for angle in (0.0, *ANGLES)),
                     key=_peak)
        best = max(best, _try(ref_spectrum, current, coarse.scale, window, coarse.angle), key=_peak)
    for step in FINE_STEPS:  # refine the scale around the best, halving the step
        centre = best.scale
        for factor in (1 - step, 1 + step):
            best = max(best, _try(ref_spectrum, current, centre * factor, window, best.angle), key=_peak)
    if best.angle:
        for turn in (-FINE_ANGLE, FINE_ANGLE):
            best = max(best, _try(ref_spectrum, current, best.scale, window, best.angle + turn), key=_peak)
    alignment = Alignment(best.scale, best.dx, best.dy, best.peak, 0.0, angle=best.angle)
    return replace(alignment, similarity=_similarity(ref, current, alignment))


class Candidate(NamedTuple):
    scale: float
    angle: float
    dx: float
    dy: float
    peak: float


def _half(image: np.ndarray) -> np.ndarray:
    """2x2 block means: the coarse search's copy."""
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    return image[:height, :width].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))


def _peak(candidate: Candidate) -> float:
    return candidate.peak


def _mapped(x: np.ndarray | float, y: np.ndarray | float, centre: tuple[float, float], scale: float, angle: float,
            dx: float, dy: float) -> tuple[np.ndarray | float, np.ndarray | float]:
    cx, cy = centre
    cos, sin = math.cos(math.radians(angle)) * scale, math.sin(math.radians(angle)) * scale
    return cos * (x - cx) - sin * (y - cy) + cx + dx, sin * (x - cx) + cos * (y - cy) + cy + dy


def _try(ref_spectrum: np.ndarray, current: np.ndarray, scale: float, window: np.ndarray, angle: float = 0.0
         ) -> Candidate:
    """Phase correlation of the reference against the frame sampled at `scale` and `angle`."""
    height, width = current.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = ((width - 1) / 2, (height - 1) / 2)
    warped, _ = sample(current, *_mapped(xs, ys, centre, scale, angle, 0.0, 0.0))
    spectrum = np.fft.rfft2((warped - warped.mean()) * window)
    cross = ref_spectrum * np.conj(spectrum)
    cross /= np.maximum(np.abs(cross), 1e-6)
    surface = np.fft.irfft2(cross, s=(height, width))
    py, px = np.unravel_index(int(np.argmax(surface)), surface.shape)
    peak = float(surface[py, px])
    sy = _subpixel(surface[(py - 1) % height, px], peak, surface[(py + 1) % height, px])
    sx = _subpixel(surface[py, (px - 1) % width], peak, surface[py, (px + 1) % width])
    # The peak sits at minus the shift of the warped view (wrapped around the spectrum).
    dy = -((py + sy + height / 2) % height - height / 2)
    dx = -((px + sx + width / 2) % width - width / 2)
    tx, ty = _mapped(dx, dy, (0.0, 0.0), scale, angle, 0.0, 0.0)  # the shift, turned and scaled with the view
    return Candidate(scale, angle, float(tx), float(ty), peak)


def _subpixel(left: float, centre: float, right: float) -> float:
    denominator = left - 2 * centre + right
    return 0.0 if abs(denominator) < 1e-9 else float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))


def sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear samples of a 2-D image at float coordinates, and where they fall inside it (outside: edge)."""
    height, width = image.shape
    inside = (xs >= 0) & (xs <= width - 1) & (ys >= 0) & (ys <= height - 1)
    xs, ys = np.clip(xs, 0, width - 1), np.clip(ys, 0, height - 1)
    x0, y0 = np.minimum(xs.astype(np.intp), width - 2), np.minimum(ys.astype(np.intp), height - 2)
    fx, fy = xs - x0, ys - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy, inside


def aligned_view(current: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """The frame's view resampled onto the reference view's grid, and which pixels it covers."""
    height, width = current.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return sample(current, *alignment.view_point(xs, ys, ((width - 1) / 2, (height - 1) / 2)))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-size arrays; 0 when either is flat."""
    a = a.astype(np.float64).ravel() - a.mean()
    b = b.astype(np.float64).ravel() - b.mean()
    norm = math.sqrt(float(a @ a) * float(b @ b))
    return 0.0 if norm < 1e-6 else float(a @ b) / norm


def _similarity(ref: np.ndarray, current: np.ndarray, alignment: Alignment) -> float:
    aligned, inside = aligned_view(current, alignment)
    if inside.mean() < 0.5:
        return 0.0
    return correlation(ref[inside], aligned[inside])
