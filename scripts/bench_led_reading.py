#!/usr/bin/env python3
"""Watched-device LED reading on real photographs, against our hand labels (tests/data/photos/devices/led).

Cases, each scored per LED the labels can tell (on/off; the colour of those labelled lit and read lit):

  calibrate   each photo calibrated with the labelled boxes and no word on which LED is lit: the reference
              state the calibration reads by itself (a lit LED must add coloured light to its surroundings)
  cross       the switch: a profile calibrated on one photo reads each other photo of it (other LED states,
              the camera moved a little between them) - every ordered pair
  perturbed   each photo read against its own profile after what a camera does: shift, zoom, a turn of 2-3
              degrees, exposure, sensor noise, JPEG, all of them at once
  blinking    bursts alternating an LED-on and an LED-off version of a frame (two real switch photos, or a photo
              and the same photo with the LED painted out): the LEDs that changed must read blinking, the others
              steady
  occluded    a fingertip over one LED: the frame must be marked occluded (and clean/perturbed frames must not)

The photos are split: constants in edge_agent/camera/led_look.py were chosen looking at the `tune` photos;
`--split report` scores only the others.

    .venv/bin/python scripts/bench_led_reading.py [--split all|tune|report] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit" / "camera")]

from led_photos import SWITCH, exposed, jpeg, labelled_photos, moved, noisy, occluded, switched_off  # noqa: E402

from edge_agent.camera.led_calibrate import calibrate  # noqa: E402
from edge_agent.camera.led_reader import LedReader, read_frame  # noqa: E402

TUNE = {"hpe_aruba_switch_ports_1GreenAngle.jpg", "hpe_aruba_switch_ports_1Mixed.jpg",
        "hpe_aruba_switch_ports_3Green.jpg", "hpe_aruba_switch_ports_4Mixed.jpg", "ont_f6005_tim.jpg",
        "ont_g-010g-d_front.jpg", "ont_ont-nokia_xs-010x-q_front.jpg", "portable_router_desk_lowlight.jpg"}

PERTURBATIONS = {
    "shift": lambda f: moved(f, 0.04, -0.03),
    "shift_back": lambda f: moved(f, -0.05, 0.02),
    "zoom_in": lambda f: moved(f, 0.0, 0.0, 1.1),
    "zoom_out": lambda f: moved(f, 0.01, 0.0, 0.9),
    "turned": lambda f: moved(f, 0.0, 0.0, 1.0, 3.0),
    "turned_zoomed": lambda f: moved(f, 0.02, 0.0, 0.93, -2.0),
    "darker": lambda f: exposed(f, 0.55),
    "brighter": lambda f: exposed(f, 1.5),
    "noise": lambda f: noisy(f, 6.0, 1),
    "jpeg": lambda f: jpeg(f, 35),
    "all": lambda f: jpeg(noisy(exposed(moved(f, 0.03, 0.02, 1.06, 1.5), 0.7), 4.0, 2), 50),
}


class Score:
    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.errors: list[str] = []

    def add(self, key: str, right: bool, what: str = "") -> None:
        self.counts[key][0] += right
        self.counts[key][1] += 1
        if not right and what:
            self.errors.append(what)

    def states(self, case: str, photo: str, labels: list[str | None], readings, where: str = "") -> None:
        for label, reading, index in zip(labels, readings, range(1, len(labels) + 1), strict=True):
            if label is None:
                continue
            lit, colour = reading
            self.add(f"{case}: LED readable", lit is not None, f"{case} {photo}{where} LED {index}: unreadable")
            if lit is None:
                continue
            self.add(f"{case}: on/off", lit == (label != "off"),
                     f"{case} {photo}{where} LED {index}: read {'on ' + str(colour) if lit else 'off'}, label {label}")
            if label != "off" and lit:
                self.add(f"{case}: colour", colour == label, f"{case} {photo}{where} LED {index}: colour {colour}, "
                                                             f"label {label}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("all", "tune", "report"), default="report")
    parser.add_argument("--verbose", action="store_true", help="list every wrong reading")
    args = parser.parse_args()
    photos = labelled_photos()
    chosen = {f: p for f, p in photos.items()
              if args.split == "all" or (f in TUNE) == (args.split == "tune")}
    frames = {f: p.frame() for f, p in photos.items()}
    profiles = {f: calibrate([frames[f]], p.leds(), source=f) for f, p in photos.items()}
    score = Score()
    per_photo: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    for f, photo in chosen.items():
        readings = [(led.on, led.colour) for led in profiles[f].leds]
        score.states("calibrate", f, photo.states, readings)
        for (lit, _), label in zip(readings, photo.states, strict=True):
            if label is not None:
                per_photo[f][0] += lit == (label != "off")
                per_photo[f][1] += 1

    switch = [f for f, p in photos.items() if p.device == SWITCH]
    for reference in switch:
        for target in switch:
            if target == reference or target not in chosen:
                continue
            reading = read_frame(profiles[reference], frames[target])
            score.add("cross: frame readable", not reading.occluded, f"cross {reference} -> {target}: {reading.why}")
            if not reading.occluded:
                score.states("cross", target, photos[target].states, [(r.lit, r.colour) for r in reading.leds],
                             f" (profile {reference})")

    for f, photo in chosen.items():
        for name, perturb in PERTURBATIONS.items():
            reading = read_frame(profiles[f], perturb(frames[f]))
            score.add("perturbed: frame readable", not reading.occluded, f"perturbed {f} {name}: {reading.why}")
            if not reading.occluded:
                score.states("perturbed", f, photo.states, [(r.lit, r.colour) for r in reading.leds], f" {name}")

    for f, photo in chosen.items():
        pairs = []
        if photo.device == SWITCH:
            pairs = [(f, other) for other in switch if other != f][:2]
        for index, label in enumerate(photo.states):
            if label not in (None, "off"):
                pairs.append((f, index))
        for first, second in pairs:
            if isinstance(second, int):
                other = switched_off(frames[first], photo.boxes[second])
                expected = [i == second for i in range(len(photo.states))]
                what = f"{first} LED {second + 1} painted out"
            else:
                other = frames[second]
                expected = [(a != "off") != (b != "off") if None not in (a, b) else None
                            for a, b in zip(photo.states, photos[second].states, strict=True)]
                what = f"{first} / {second}"
            reader = LedReader(profiles[first], burst=4)
            for step in range(4):
                reader.read(noisy(frames[first] if step % 2 == 0 else other, 2.0, step))
            states = {s.index: s for s in reader.states()}
            for index, blinking in enumerate(expected, 1):
                if blinking is None:
                    continue
                state = states.get(index)
                score.add("blinking: steady/blinking", state is not None and state.blinking == blinking,
                          f"blinking {what}: LED {index} read {'blinking' if state and state.blinking else 'steady'}")

    for f, photo in chosen.items():
        for index, box in enumerate(photo.boxes):
            reading = read_frame(profiles[f], occluded(frames[f], box))
            score.add("occluded: fingertip over an LED detected", reading.occluded, f"occlusion {f} LED {index + 1}")
        for name, perturb in PERTURBATIONS.items():
            reading = read_frame(profiles[f], perturb(frames[f]))
            score.add("occluded: no false occlusion (perturbed)", not reading.occluded,
                      f"false occlusion {f} {name}: {reading.why}")

    print(f"split {args.split}: {len(chosen)} photos, "
          f"{sum(1 for p in chosen.values() for s in p.states if s is not None)} labelled LED states\n")
    print("per photo (calibration reading, on/off right / labelled):")
    for f, (right, total) in sorted(per_photo.items()):
        print(f"  {f:45s} {right:3d}/{total:<3d}")
    print("\nsummary:")
    for key, (right, total) in score.counts.items():
        print(f"  {key:48s} {right:5d}/{total:<5d} {right / total:6.1%}")
    if args.verbose and score.errors:
        print("\nwrong:")
        for error in score.errors:
            print("  " + error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
