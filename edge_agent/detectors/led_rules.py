"""The watched device's LEDs as issues: the profile's rules (`PON is off` -> line_down) judged on the LED
states the camera reads, and `watched_device_occluded` when something stays in front of the device.

`LedDetector.analyse` reads each frame (edge_agent.camera.led_reader) and reports a camera.leds sample: every
LED's state as flat metrics (led1_on, led1_colour, led1_blinking, ..., led_names) and the rules that hold;
never the frame. An occluded frame is read not at all: it neither opens nor resolves a rule's issue, and only an
occlusion lasting `occlusion_s` becomes an issue of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.camera import CameraUnavailable, FrameSource
from edge_agent.camera.led_profile import LedProfile, load_profile
from edge_agent.camera.led_reader import Covers, LedReader, LedState
from edge_agent.ml.custom import Detection
from edge_agent.model import Finding, MetricValue, Sample, Severity

LEDS_STREAM = "camera.leds"
OCCLUDED = "watched_device_occluded"
DEFAULT_OCCLUSION_S = 120.0  # a hand passing in front is not an issue; a box parked there is
SEVERITY = {"info": Severity.INFO, "warning": Severity.WARNING, "critical": Severity.CRITICAL}
EXTRA_FRAMES = 3  # read from a live camera after each frame: 0.45 s of it ...
BURST_INTERVAL_S = 0.15  # ... at no multiple of a usual blink period


class LedDetector:
    name = "camera.leds"
    model_name = "led-reader"  # how the collector names it should it ever fail (it is model-free)

    def __init__(self, profile: LedProfile, burst: int = 6, occlusion_s: float = DEFAULT_OCCLUSION_S,
                 covers: Covers | None = None, live: FrameSource | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        """`live`: the camera the frames come from; each frame is then followed by EXTRA_FRAMES more of its own,
        BURST_INTERVAL_S apart, so that a blink is seen even at the agent's slow frame rate (at 0.5 frames a
        second, a 1 Hz blink is caught at the same phase every time)."""
        self.profile = profile
        self.reader = LedReader(profile, max(burst, 2 * (EXTRA_FRAMES + 1)) if live else burst, covers)
        self.occlusion_s = occlusion_s
        self.live = live
        self.sleep = sleep
        self._occluded_since: float | None = None

    def analyse(self, frame: np.ndarray, source: str, mono: float, ts: float) -> Sample:
        reading = self.reader.read(frame)
        if self.live is not None and not reading.occluded:
            self._follow_up()
        names = ",".join(led.name for led in self.profile.leds)
        metrics: dict[str, MetricValue] = {
            "leds": len(self.profile.leds), "led_names": names if names.strip(",") else None,
            "occluded": reading.occluded, "why": reading.why or None,
            "registration_similarity": round(reading.alignment.similarity, 3),
            "registration_scale": round(reading.alignment.scale, 3)}
        if reading.occluded:
            self._occluded_since = mono if self._occluded_since is None else self._occluded_since
            metrics["occluded_s"] = round(mono - self._occluded_since, 1)
            return Sample(LEDS_STREAM, source, metrics, mono, ts)
        self._occluded_since = None
        states = self.reader.states()
        metrics.update(flat_states(states))
        views = [s.view() for s in states]
        metrics["rules_holding"] = ",".join(str(n) for n, rule in enumerate(self.profile.rules, 1)
                                            if rule.condition.holds(views)) or None
        return Sample(LEDS_STREAM, source, metrics, mono, ts)

    def _follow_up(self) -> None:
        """A few more frames straight after this one, read into the burst (an occluded one is skipped)."""
        assert self.live is not None
        for _ in range(EXTRA_FRAMES):
            self.sleep(BURST_INTERVAL_S)
            try:
                self.reader.read(self.live.read())
            except CameraUnavailable:
                return  # the collector hears of it with the next frame

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != LEDS_STREAM:
            return []
        m = sample.metrics
        source = sample.subject
        if m.get("occluded"):
            lasting = float(m.get("occluded_s") or 0.0) >= self.occlusion_s
            evidence = {"source": source, "why": m.get("why"), "occluded_s": m.get("occluded_s"),
                        "limit_occluded_s": self.occlusion_s,
                        "registration_similarity": m.get("registration_similarity")}
            summary = f"camera {source}: the watched device's LEDs are hidden ({m.get('why')})"
            return [Finding(OCCLUDED, source, lasting, Severity.WARNING, self.name, summary if lasting else "",
                            evidence)]
        findings = [Finding(OCCLUDED, source, False, Severity.WARNING, self.name, "", {"source": source})]
        holding = {int(n) for n in str(m.get("rules_holding") or "").split(",") if n}
        led_text = describe_states(m, len(self.profile.leds))
        for issue in dict.fromkeys(rule.issue for rule in self.profile.rules):  # each issue type once, in order
            rules = [(n, r) for n, r in enumerate(self.profile.rules, 1) if r.issue == issue]
            held = [(n, r) for n, r in rules if n in holding]
            rule = held[0][1] if held else rules[0][1]
            evidence: dict[str, Any] = {"source": source, "rule": rule.when, "leds": led_text,
                                        "device": self.profile.source or None}
            summary = f"watched device: {rule.when} -> {issue}" if held else ""
            findings.append(Finding(issue, source, bool(held), SEVERITY[rule.severity], self.name, summary,
                                    evidence))
        return findings


def flat_states(states: list[LedState]) -> dict[str, MetricValue]:
    """Each LED's state as scalar metrics (a sample holds scalars only), three per LED: telemetry keeps 64
    fields per stream and subject, enough for 18 LEDs."""
    metrics: dict[str, MetricValue] = {}
    for s in states:
        key = f"led{s.index}"
        metrics.update({f"{key}_on": s.on, f"{key}_colour": s.colour, f"{key}_blinking": s.blinking})
    return metrics


def describe_states(metrics: Any, count: int) -> str:
    """'1 PON on green; 2 LOS off; ...' for evidence and guidance."""
    parts = []
    names = dict(zip(range(1, count + 1), str(metrics.get("led_names") or "").split(","), strict=False))
    for index in range(1, count + 1):
        key = f"led{index}"
        if f"{key}_on" not in metrics:
            continue
        name = names.get(index)
        state = "blinking" if metrics.get(f"{key}_blinking") else ("on" if metrics.get(f"{key}_on") else "off")
        colour = metrics.get(f"{key}_colour") if metrics.get(f"{key}_on") else None
        parts.append(" ".join(str(p) for p in (index, name, state, colour) if p))
    return "; ".join(parts)


def load_led_detector(path: Path, burst: int, occlusion_s: float, covers: Covers | None = None,
                      live: FrameSource | None = None) -> LedDetector:
    """The detector for [camera] led_profile. Raises ProfileError naming what is wrong with the file."""
    return LedDetector(load_profile(path), burst, occlusion_s, covers, live)


def covers_from_detector(detect: Callable[[np.ndarray], Sequence[Detection]],
                         scenery: Sequence[Detection] = (), min_score: float = 0.4) -> Covers:
    """The reader's `covers` hook from an object detector (e.g. CustomModel.detect of the COCO SSD): an LED is
    covered when a person, a hand or an object not in the reference view (`scenery`) lies over its box. The
    detector runs once per frame, however many LEDs are asked about."""
    from edge_agent.camera.occlusion import occluders_over, pixel_box

    last: list[Any] = [None, []]  # the frame last detected on, its detections

    def covers(frame: np.ndarray, box: tuple[float, float, float, float]) -> bool:
        if last[0] is not frame:
            last[0], last[1] = frame, list(detect(frame))
        region = pixel_box(*box, frame.shape[1], frame.shape[0])
        return bool(occluders_over(region, last[1], min_score=min_score, scenery=scenery))

    return covers
