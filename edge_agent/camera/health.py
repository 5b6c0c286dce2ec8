"""Camera health without a model: is the lens covered, out of focus, too dark or over-exposed, is the picture
frozen, has the camera moved since its reference view, does a colour cast (a stuck IR-cut filter) tint it.

Pure decisions on numpy frames. Every measure is taken on a small grey (and colour) copy of the frame, so a check
costs a few milliseconds on a Raspberry Pi at the default 0.5 frames a second. The thresholds were chosen on real
photographs with real degradations applied (scripts/bench_camera_health.py), tuned on one half of the photos and
reported on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_agent.camera.frames import as_rgb, resize

WORK_SIDE = 192  # longest side of the working copy: enough for blur and shift, cheap for a Pi
GRID = 8  # cells per side for the "how much of the frame shows nothing" measure

COVERED = "camera_covered"
OUT_OF_FOCUS = "camera_out_of_focus"
TOO_DARK = "camera_too_dark"
OVEREXPOSED = "camera_overexposed"
FROZEN = "camera_frozen"
MOVED = "camera_moved"
COLOUR_CAST = "camera_colour_cast"
ISSUE_TYPES = (COVERED, OUT_OF_FOCUS, TOO_DARK, OVEREXPOSED, FROZEN, MOVED, COLOUR_CAST)


@dataclass(frozen=True)
class Thresholds:
    """Where each check trips; the defaults are the benchmarked ones."""

    dark_luma: float = 40.0  # mean luma (0-255) below which the frame is too dark ...
    dark_bright_fraction: float = 0.05  # ... unless this much of it is still well lit (a lamp in a dark room)
    clipped_fraction: float = 0.3  # this much of the frame clipped white (two channels at 250+): over-exposed,
    overexposed_shadows: float = 20.0  # when even its darkest 5 % are lifted above this (a white backdrop is not)
    overexposed_near_white: float = 0.5  # and little is left just below white (near_white_ratio under this)
    flat_fraction: float = 0.68  # this much of the frame without any detail is a covered lens
    flat_gradient: float = 3.0  # mean gradient (grey levels per pixel) under which a cell shows no detail
    coarse_flat_fraction: float = 0.6  # ... and at a quarter of the resolution, where a blurred scene keeps its shapes
    coarse_flat_gradient: float = 4.0
    covered_detail_depth: int = 3  # ... and what detail is left lies within this many cells of one border
    blur: float = 0.42  # blur effect (0 sharp - 1 blurred) above which the frame is out of focus
    cast_ratio: float = 1.35  # strongest / weakest colour channel of the image's edges: a tint
    frozen_change: float = 0.002  # at most this fraction of pixels differing: the same picture again
    frozen_frames: int = 3  # identical frames in a row before the picture counts as frozen
    moved_shift: float = 0.05  # shift against the reference, as a fraction of the frame's width
    view_lost_similarity: float = 0.35  # aligned edges correlating less than this: another view altogether


@dataclass(frozen=True)
class FrameMeasures:
    """What one frame looks like, in numbers a technician can read in the evidence."""

    luma_mean: float
    bright_fraction: float  # pixels above 128
    shadow_luma: float  # the 5th percentile of luma
    clipped_fraction: float  # pixels with two or three channels at 250 and above (one alone is a tint)
    near_white_ratio: float  # pixels just below white (luma 200+, not clipped) per clipped pixel
    flat_fraction: float  # grid cells without detail
    coarse_flat_fraction: float  # the same at a quarter of the resolution
    detail_depth: int  # grid cells from the nearest border that the cells with detail reach (0: none has)
    blur: float
    cast_ratio: float
    cast_channel: str  # the channel the edges are strongest in


def working_copy(frame: np.ndarray) -> np.ndarray:
    """The frame downscaled to WORK_SIDE on its longest side, as float32 RGB: block means by the integer part
    of the ratio (summed from strided views: a multi-axis mean costs 20 ms on a 640x480 frame, this 3 ms),
    then linear interpolation for the rest."""
    rgb = as_rgb(frame)
    factor = max(rgb.shape[:2]) // WORK_SIDE
    if factor > 1:
        height, width = (rgb.shape[0] // factor) * factor, (rgb.shape[1] // factor) * factor
        total = np.zeros((height // factor, width // factor, 3), np.float32)
        for dy in range(factor):
            for dx in range(factor):
                total += rgb[dy:height:factor, dx:width:factor]
        rgb = (total / (factor * factor) + 0.5).astype(np.uint8)
    height, width = rgb.shape[:2]
    scale = WORK_SIDE / max(height, width)
    if scale < 1:
        rgb = resize(rgb, max(8, round(width * scale)), max(8, round(height * scale)))
    return rgb.astype(np.float32)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def measure(frame: np.ndarray) -> FrameMeasures:
    return measure_working(working_copy(frame))


def measure_working(rgb: np.ndarray) -> FrameMeasures:
    """The measures of a working copy (working_copy)."""
    grey = luma(rgb)
    ratio, channel = edge_cast(rgb)
    clipped = rgb.sum(axis=-1) - rgb.max(axis=-1) - rgb.min(axis=-1) >= 250  # the middle channel at 250+
    flat = flat_cells(grey)
    return FrameMeasures(
        luma_mean=float(grey.mean()),
        bright_fraction=float((grey > 128).mean()),
        shadow_luma=float(np.percentile(grey, 5)),
        clipped_fraction=float(clipped.mean()),
        near_white_ratio=near_white_ratio(grey, clipped),
        flat_fraction=float(flat.mean()),
        detail_depth=detail_depth(flat),
        coarse_flat_fraction=flat_fraction(block_mean(grey, 4), Thresholds.coarse_flat_gradient),
        blur=blur_effect(grey),
        cast_ratio=ratio,
        cast_channel=channel,
    )


def near_white_ratio(grey: np.ndarray, clipped: np.ndarray) -> float:
    """Pixels just below white (luma 200 and above, not clipped) per clipped pixel. Too much exposure maps a
    wide range of the scene's brightness to white and only a narrow one (50 / gain levels of it) to just below:
    the picture jumps from mid-tones to white, and this is small (under 0.35 for the 4-8x over-exposures of the
    tuning photos). A bright scene exposed right, such as an overcast sky through a window, has its highlights
    spread around the clip point, as much just below white as at it. (A studio backdrop of pure white is clipped
    with a sharp edge, like over-exposure: this cannot tell it apart.)"""
    count = int(clipped.sum())
    if count == 0:
        return 0.0
    return float(((grey >= 200) & ~clipped).sum() / count)


def flat_fraction(grey: np.ndarray, flat_gradient: float = Thresholds.flat_gradient) -> float:
    """Fraction of grid cells whose mean gradient is below `flat_gradient`: a hand, a cap or a sheet of paper
    against the lens shows no detail anywhere, where a plain wall still has its corners, sockets and edges."""
    return float(flat_cells(grey, flat_gradient).mean())


def flat_cells(grey: np.ndarray, flat_gradient: float = Thresholds.flat_gradient) -> np.ndarray:
    """GRID x GRID booleans: the cells whose mean gradient is below `flat_gradient`."""
    gradient = np.zeros_like(grey)
    gradient[:, :-1] += np.abs(np.diff(grey, axis=1))
    gradient[:-1, :] += np.abs(np.diff(grey, axis=0))
    rows = np.linspace(0, grey.shape[0], GRID + 1).astype(int)
    cols = np.linspace(0, grey.shape[1], GRID + 1).astype(int)
    sums = np.add.reduceat(np.add.reduceat(gradient, rows[:-1], axis=0), cols[:-1], axis=1)
    return sums / np.outer(np.diff(rows), np.diff(cols)) < flat_gradient


def detail_depth(flat: np.ndarray) -> int:
    """How many cells in from its nearest border the frame's detail reaches. Something against the lens comes
    in from outside the view, so what it leaves visible is a strip along one border (1-2 cells of 8 when
    78-100 % is covered, in the tuning photos); a plain backdrop or wall around an object in the middle leaves
    the detail in the middle (6-7 cells deep)."""
    rows, cols = np.nonzero(~flat)
    if rows.size == 0:
        return 0
    size_y, size_x = flat.shape
    return int(min(rows.max() + 1, size_y - rows.min(), cols.max() + 1, size_x - cols.min()))


def block_mean(grey: np.ndarray, factor: int) -> np.ndarray:
    height, width = (grey.shape[0] // factor) * factor, (grey.shape[1] // factor) * factor
    return grey[:height, :width].reshape(height // factor, factor, width // factor, factor).mean(axis=(1, 3))


def blur_effect(grey: np.ndarray) -> float:
    """How much of the image's local contrast survives blurring it again (after Crété-Roffet et al., "The blur
    effect", 2007): a sharp image loses much of it, an already blurred one almost none. 0 sharp, 1 blurred; the
    worse of the two directions. Independent of contrast and content, unlike the variance of the Laplacian."""
    worst = 0.0
    for axis in (0, 1):
        blurred = _box_blur(grey, 9, axis)
        d_sharp = np.abs(np.diff(grey, axis=axis))
        d_blurred = np.abs(np.diff(blurred, axis=axis))
        total = float(d_sharp.sum())
        if total <= 1e-6:
            return 1.0
        lost = float(np.maximum(0.0, d_sharp - d_blurred).sum())
        worst = max(worst, (total - lost) / total)
    return worst


def _box_blur(image: np.ndarray, size: int, axis: int) -> np.ndarray:
    pad = [(0, 0), (0, 0)]
    pad[axis] = (size // 2, size // 2)
    padded = np.pad(image, pad, mode="edge")
    cumulative = np.cumsum(padded, axis=axis, dtype=np.float64)
    cumulative = np.insert(cumulative, 0, 0.0, axis=axis)
    length = image.shape[axis]
    upper = np.take(cumulative, np.arange(size, size + length), axis=axis)
    lower = np.take(cumulative, np.arange(0, length), axis=axis)
    return ((upper - lower) / size).astype(np.float32)


def edge_cast(rgb: np.ndarray) -> tuple[float, str]:
    """The colour of the image's edges (the grey-edge hypothesis: in a scene under neutral light the average
    edge is grey, whatever the colours of the objects): strongest channel / weakest channel, and which is
    strongest. A stuck IR-cut filter tints everything magenta; a wrong white balance, orange or blue."""
    dx = np.abs(np.diff(rgb, axis=1)).reshape(-1, 3)
    dy = np.abs(np.diff(rgb, axis=0)).reshape(-1, 3)
    edges = np.sqrt((np.concatenate([dx, dy]) ** 2).mean(axis=0))
    if float(edges.min()) <= 1e-3:
        return (1.0 if float(edges.max()) <= 1e-3 else 10.0), "rgb"[int(np.argmax(edges))]
    return float(edges.max() / edges.min()), "rgb"[int(np.argmax(edges))]


def judge(m: FrameMeasures, t: Thresholds = Thresholds()) -> dict[str, bool | None]:
    """Which single-frame problems the measures show; None where a check cannot say. Focus and colour cannot be
    judged on a covered, black or white frame, so those come first and leave the others unknown; colour not
    either where most of the frame shows no detail."""
    too_dark = m.luma_mean < t.dark_luma and m.bright_fraction < t.dark_bright_fraction
    overexposed = (m.clipped_fraction >= t.clipped_fraction and m.shadow_luma >= t.overexposed_shadows
                   and m.near_white_ratio < t.overexposed_near_white)
    covered = (not too_dark and not overexposed and m.flat_fraction >= t.flat_fraction
               and m.coarse_flat_fraction >= t.coarse_flat_fraction and m.detail_depth <= t.covered_detail_depth)
    judgeable = not (too_dark or overexposed or covered)
    return {
        TOO_DARK: too_dark,
        OVEREXPOSED: overexposed,
        COVERED: covered,
        OUT_OF_FOCUS: m.blur >= t.blur if judgeable else None,
        # The edges' colour stands for the light's only where there are many edges: with most of the view
        # without detail they are one object's outline, and say that object's colour.
        COLOUR_CAST: m.cast_ratio >= t.cast_ratio if judgeable and m.flat_fraction < t.flat_fraction else None,
    }


def fingerprint(frame: np.ndarray) -> np.ndarray:
    """Every few pixels of the frame, untouched: enough to tell the very same picture from a new one."""
    rgb = as_rgb(frame)
    step = max(1, min(rgb.shape[:2]) // 120)
    return rgb[::step, ::step].copy()


def changed_fraction(previous: np.ndarray, current: np.ndarray) -> float:
    """Fraction of pixels that differ at all between two fingerprints: a live sensor's noise changes most of
    them, a frozen driver hands back the very same picture."""
    if previous.shape != current.shape:
        return 1.0
    return float(np.any(previous != current, axis=-1).mean())


@dataclass(frozen=True)
class Shift:
    dy: float  # pixels of the working copy; positive: the view moved down
    dx: float
    similarity: float  # correlation of the two views' edges once aligned (1: the same picture, near 0: another)
    width: int  # of the working copy

    @property
    def fraction(self) -> float:
        return float(np.hypot(self.dx, self.dy) / self.width)


def reference_view(frame: np.ndarray) -> np.ndarray:
    return view_of(working_copy(frame))


def view_of(rgb: np.ndarray) -> np.ndarray:
    """The grey working copy, lightly smoothed against sensor noise, that a later frame is registered against."""
    grey = luma(rgb)
    return _box_blur(_box_blur(grey, 3, 0), 3, 1)


def shift_against(reference: np.ndarray, frame: np.ndarray) -> Shift:
    return shift_between(reference, reference_view(frame))


def shift_between(reference: np.ndarray, current: np.ndarray) -> Shift:
    """How far the view has moved from the reference (both view_of): phase correlation of the gradient images
    (robust to the light changing through the day), then the correlation of the two views aligned by it."""
    if current.shape != reference.shape:
        return Shift(0.0, 0.0, 0.0, reference.shape[1])
    edges_ref, edges_cur = _gradient(reference), _gradient(current)
    a, b = _windowed(edges_ref), _windowed(edges_cur)
    cross = np.fft.rfft2(b) * np.conj(np.fft.rfft2(a))
    cross /= np.maximum(np.abs(cross), 1e-9)
    surface = np.fft.irfft2(cross, s=a.shape)
    index = np.unravel_index(int(np.argmax(surface)), surface.shape)
    dy, dx = (int(i if i <= n // 2 else i - n) for i, n in zip(index, surface.shape, strict=True))
    # Compared as edges: someone walking through the view hides some edges, where in grey levels their large
    # uniform shape alone would outweigh the whole scene.
    return Shift(float(dy), float(dx), _aligned_correlation(edges_ref, edges_cur, dy, dx), reference.shape[1])


def _aligned_correlation(reference: np.ndarray, current: np.ndarray, dy: int, dx: int) -> float:
    """Zero-mean normalised correlation over the part both views share once `current` is moved back."""
    height, width = reference.shape
    if abs(dy) >= height // 2 or abs(dx) >= width // 2:
        return 0.0
    ref = reference[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    cur = current[max(0, dy):height - max(0, -dy), max(0, dx):width - max(0, -dx)]
    ref, cur = ref - ref.mean(), cur - cur.mean()
    denominator = float(np.sqrt((ref * ref).sum() * (cur * cur).sum()))
    return float((ref * cur).sum() / denominator) if denominator > 1e-6 else 0.0


def _gradient(grey: np.ndarray) -> np.ndarray:
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, 1:-1] = grey[:, 2:] - grey[:, :-2]
    gy[1:-1, :] = grey[2:, :] - grey[:-2, :]
    return np.hypot(gx, gy)


def _windowed(magnitude: np.ndarray) -> np.ndarray:
    window = np.outer(np.hanning(magnitude.shape[0]), np.hanning(magnitude.shape[1])).astype(np.float32)
    return (magnitude - magnitude.mean()) * window


def moved(shift: Shift, t: Thresholds = Thresholds()) -> bool:
    """Shifted by more than moved_shift, or pointing somewhere else altogether (the same view's edges, with the
    light changed, still correlate at 0.9 once aligned, and at 0.6 with a person over a third of it; another
    view's, near 0)."""
    return shift.similarity < t.view_lost_similarity or shift.fraction >= t.moved_shift
