#!/usr/bin/env python3
"""Camera health on real photographs: recall per issue type on degraded copies and false alarms on clean ones.

The photos (tests/data/photos: real rooms, desks, people, pets, objects and network devices) are split by name
into a tuning half and a report half; edge_agent/camera/health.py's thresholds were chosen on the tuning half.
Each photo gets real degradations applied, several of each kind with random strength:

  covered       a hand, a sheet of paper or cardboard over 78-100 % of the frame, at the mid-tones auto-exposure
                gives it (soft edge, sensor noise); a dark cap in front of the lens reads as too dark
  out_of_focus  Gaussian blur (sigma 1-2 % of the width), a defocus disc (radius 1.5-3 %), motion (4-8 %)
  too_dark      exposure x0.04-0.15 with sensor noise
  overexposed   exposure x4-8 (clipped)
  colour_cast   channel gains of 1.6-2.2 between strongest and weakest: IR-cut stuck (magenta), warm, blue, green
  frozen        the same picture handed back three times (clean: a live sensor's noise, sigma 1 level)
  moved         the view shifted 9-27 % of its width against the reference, or pointed at another scene
                (clean: <= 1.3 % jitter, noise, +-25 % exposure, a person over 15-35 % of the view, the next
                frame of a real sequence)

    .venv/bin/python scripts/bench_camera_health.py [--split report|tune|all] [--photos DIR] [--measures]

--measures prints each measure's range per class, to choose thresholds on the tuning half.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge_agent.camera import health  # noqa: E402
from edge_agent.camera.replay import _image_frames  # noqa: E402

PHOTOS = Path(__file__).resolve().parent.parent / "tests" / "data" / "photos"
# Genuinely blurred photographs: reported as real out-of-focus examples, never as clean ones.
REAL_BLURRED = {"opencv_licenseplate_motion", "opencv_text_defocus", "opencv_text_motion"}
# Consecutive frames of a fixed camera: a real "the scene changed, the camera did not" pair.
REAL_SEQUENCES = [("opencv_basketball1", "opencv_basketball2"), ("opencv_rubberwhale1", "opencv_rubberwhale2")]
VARIANTS = 3  # degraded copies of each kind per photo


def photos(directory: Path, split: str) -> dict[str, np.ndarray]:
    # The photos one folder down (scenes/, devices/): deeper folders hold other copies of them (devices/led/,
    # for the LED reader), which would put one photo in both halves.
    files = sorted(p for p in directory.glob("*/*") if p.suffix.lower() in (".jpg", ".png"))
    chosen = {}
    for position, path in enumerate(sorted(files, key=lambda p: p.stem)):
        half = "tune" if position % 2 == 0 else "report"
        if split in ("all", half):
            chosen[path.stem] = _image_frames(path)[0]
    return chosen


def noisy(frame: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return np.clip(frame.astype(np.float32) + rng.normal(0, sigma, frame.shape), 0, 255).round().astype(np.uint8)


def expose(frame: np.ndarray, gain: float, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
    return noisy(np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8), rng, noise)


def gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-x * x / (2 * sigma * sigma))
    return k / k.sum()


def convolve(frame: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.filter2D(frame, -1, kernel.astype(np.float32), borderType=cv2.BORDER_REFLECT)


def blurred(frame: np.ndarray, rng: np.random.Generator, kind: int) -> np.ndarray:
    width = frame.shape[1]
    if kind == 0:
        k = gaussian_kernel(width * rng.uniform(0.01, 0.02))
        return noisy(convolve(frame, np.outer(k, k)), rng, 1.0)
    if kind == 1:
        radius = max(2.0, width * rng.uniform(0.015, 0.03))
        r = int(np.ceil(radius))
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        disc = (xx * xx + yy * yy <= radius * radius).astype(np.float32)
        return noisy(convolve(frame, disc / disc.sum()), rng, 1.0)
    length = max(3, int(width * rng.uniform(0.04, 0.08)))
    angle = rng.uniform(0, np.pi)
    size = length | 1
    line = np.zeros((size, size), np.float32)
    centre = size // 2
    for t in np.linspace(-centre, centre, size * 3):
        line[int(round(centre + t * np.sin(angle))), int(round(centre + t * np.cos(angle)))] = 1
    return noisy(convolve(frame, line / line.sum()), rng, 1.0)


def covered(frame: np.ndarray, rng: np.random.Generator, kind: int, coverage: float | None = None) -> np.ndarray:
    """An object against the lens: out of focus, so a smooth shade with a soft edge, lit unevenly."""
    h, w = frame.shape[:2]
    # Auto-exposure brings whatever covers the lens to mid-tones: a hand, a sheet of paper, grey cardboard.
    colour = [np.array([190, 140, 118]), np.array([200, 200, 194]), np.array([120, 110, 95])][kind]
    colour = colour * rng.uniform(0.6, 1.1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.4, 0.4, 2)
    shade = colour[None, None, :] * (1 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5))[..., None]
    coverage = rng.uniform(0.78, 1.0) if coverage is None else coverage
    side = rng.integers(4)
    position = [xx / w, 1 - xx / w, yy / h, 1 - yy / h][side]
    mask = np.clip((coverage - position) / 0.06 + 0.5, 0, 1)[..., None]  # a soft edge
    out = frame.astype(np.float32) * (1 - mask) + shade * mask
    return noisy(np.clip(out, 0, 255).astype(np.uint8), rng, 1.5)


def cast(frame: np.ndarray, rng: np.random.Generator, kind: int) -> np.ndarray:
    strength = rng.uniform(1.6, 2.2)
    direction = [np.array([1.0, 0.0, 0.85]), np.array([1.0, 0.45, 0.0]), np.array([0.0, 0.35, 1.0]),
                 np.array([0.0, 1.0, 0.2])][kind]
    gains = 1 + (strength - 1) * direction  # the strongest channel `strength` x the weakest
    gains = gains / gains.mean()
    return noisy(np.clip(frame.astype(np.float32) * gains, 0, 255).astype(np.uint8), rng, 1.0)


def window(frame: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """The 80 % centre of the photo, moved by (dy, dx) fractions of the width: what a fixed camera sees."""
    h, w = frame.shape[:2]
    ch, cw = int(h * 0.75), int(w * 0.75)
    y0 = int(np.clip((h - ch) / 2 + dy * w, 0, h - ch))
    x0 = int(np.clip((w - cw) / 2 + dx * w, 0, w - cw))
    return frame[y0:y0 + ch, x0:x0 + cw]


def single_frame_cases(name: str, frame: np.ndarray):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    yield "clean", frame
    yield "clean", noisy(frame, rng, 2.0)
    yield "clean", expose(frame, rng.uniform(0.75, 1.25), rng)
    for i in range(VARIANTS):
        yield health.COVERED, covered(frame, rng, i % 3)
        yield health.OUT_OF_FOCUS, blurred(frame, rng, i % 3)
        yield health.TOO_DARK, expose(frame, rng.uniform(0.04, 0.15), rng, noise=1.5)
        yield health.OVEREXPOSED, expose(frame, rng.uniform(4, 8), rng)
    for i in range(4):
        yield health.COLOUR_CAST, cast(frame, rng, i)


def bench_single(chosen: dict[str, np.ndarray], show_measures: bool) -> dict[str, list[int]]:
    results: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # type -> [hits, total]
    measures: dict[str, list[health.FrameMeasures]] = defaultdict(list)
    alarms: dict[str, int] = defaultdict(int)
    for name, frame in chosen.items():
        cases = [(health.OUT_OF_FOCUS + " (real)", frame)] if name in REAL_BLURRED else single_frame_cases(name, frame)
        for kind, image in cases:
            m = health.measure(image)
            measures[kind].append(m)
            verdict = health.judge(m)
            flagged = [t for t, on in verdict.items() if on]
            if kind == "clean":
                results["clean"][0] += bool(flagged)
                for t in flagged:
                    alarms[t] += 1
            else:
                results[kind][0] += verdict[kind.split(" ")[0]] is True
            results[kind][1] += 1
    if show_measures:
        print_measures(measures)
    if alarms:
        print("false alarms on clean frames by type:", dict(alarms))
    return results


def bench_sequences(chosen: dict[str, np.ndarray]) -> dict[str, list[int]]:
    results: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, frame in chosen.items():
        if name in REAL_BLURRED:
            continue
        rng = np.random.default_rng(zlib.crc32((name + "seq").encode()))
        view = window(frame, 0, 0)
        # Frozen: the same buffer three times; live: the sensor's noise on a still scene.
        frozen = [view.copy() for _ in range(3)]
        live = [noisy(view, rng, 1.0) for _ in range(3)]
        results[health.FROZEN][0] += is_frozen(frozen)
        results[health.FROZEN][1] += 1
        results["clean (frozen)"][0] += is_frozen(live)
        results["clean (frozen)"][1] += 1
        reference = health.reference_view(noisy(view, rng, 1.0))
        for _ in range(VARIANTS):
            distance = rng.uniform(0.07, 0.2)
            angle = rng.uniform(0, 2 * np.pi)
            shifted = noisy(window(frame, distance * np.sin(angle), distance * np.cos(angle)), rng, 1.0)
            results[health.MOVED][0] += health.moved(health.shift_against(reference, shifted))
            results[health.MOVED][1] += 1
            jitter = rng.uniform(-0.01, 0.01, 2)
            still = expose(window(frame, *jitter), rng.uniform(0.75, 1.25), rng)
            results["clean (moved)"][0] += health.moved(health.shift_against(reference, still))
            results["clean (moved)"][1] += 1
            passing = covered(window(frame, 0, 0), rng, 0, coverage=rng.uniform(0.15, 0.35))  # someone walks by
            results["clean (moved)"][0] += health.moved(health.shift_against(reference, passing))
            results["clean (moved)"][1] += 1
    # Pointed somewhere else: another photo of the set (not a frame of the same sequence).
    names = [n for n in chosen if n not in REAL_BLURRED]
    partners = {a: b for pair in REAL_SEQUENCES for a, b in (pair, pair[::-1])}
    for position, name in enumerate(names):
        other = names[(position + len(names) // 2) % len(names)]
        if other == name or partners.get(name) == other:
            continue
        reference_frame = window(chosen[name], 0, 0)
        elsewhere = window(chosen[other], 0, 0)
        elsewhere = resized(elsewhere, reference_frame.shape[1], reference_frame.shape[0])
        results[health.MOVED + " (elsewhere)"][0] += health.moved(
            health.shift_against(health.reference_view(reference_frame), elsewhere))
        results[health.MOVED + " (elsewhere)"][1] += 1
    for first, second in REAL_SEQUENCES:
        if first in chosen and second in chosen:
            reference = health.reference_view(chosen[first])
            results["clean (moved)"][0] += health.moved(health.shift_against(reference, chosen[second]))
            results["clean (moved)"][1] += 1
            results["clean (frozen)"][0] += is_frozen([chosen[first], chosen[second]])
            results["clean (frozen)"][1] += 1
    return results


def resized(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    from edge_agent.camera.frames import resize

    return resize(frame, width, height)


def is_frozen(frames: list[np.ndarray]) -> bool:
    t = health.Thresholds()
    prints = [health.fingerprint(f) for f in frames]
    return all(health.changed_fraction(a, b) <= t.frozen_change for a, b in zip(prints, prints[1:], strict=False))


def print_measures(measures: dict[str, list[health.FrameMeasures]]) -> None:
    fields = ["luma_mean", "bright_fraction", "shadow_luma", "clipped_fraction", "flat_fraction",
              "coarse_flat_fraction", "blur", "cast_ratio"]
    for kind, values in sorted(measures.items()):
        print(f"{kind} ({len(values)})")
        for field in fields:
            column = np.array([getattr(v, field) for v in values])
            q = np.percentile(column, [0, 2, 10, 50, 90, 98, 100])
            print(f"  {field:17s} " + " ".join(f"{x:8.3f}" for x in q))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--split", choices=["report", "tune", "all"], default="report")
    parser.add_argument("--measures", action="store_true")
    args = parser.parse_args()
    chosen = photos(args.photos, args.split)
    results = {**bench_single(chosen, args.measures), **bench_sequences(chosen)}
    print(f"camera health on {len(chosen)} real photos ({args.split} half of {args.photos})\n")
    print(f"{'case':32s} {'flagged':>8s} {'of':>5s} {'rate':>7s}")
    rows = [*health.ISSUE_TYPES, health.MOVED + " (elsewhere)", health.OUT_OF_FOCUS + " (real)", "clean",
            "clean (frozen)", "clean (moved)"]
    for kind in rows:
        if kind in results:
            hits, total = results[kind]
            label = kind if kind.startswith("clean") else f"{kind} (recall)" if "(" not in kind else kind
            print(f"{label:32s} {hits:8d} {total:5d} {hits / total:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
