"""`edge-agent camera check`: grab one frame, run the vision models on it and say what they see — the
technician's tool while mounting the camera. The frame is only kept if asked (--save), on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_agent.camera import CameraUnavailable, FrameSource, health
from edge_agent.camera.factory import source_from_config, source_from_spec
from edge_agent.collectors.camera import analyser_name
from edge_agent.config import AgentConfig
from edge_agent.detectors.camera_health import CameraHealthDetector
from edge_agent.detectors.led_rules import LEDS_STREAM, describe_states
from edge_agent.detectors.ml_catalog import MlComponents, load_vision_models
from edge_agent.guidance import guidance_for

EX_OK, EX_ISSUES_FOUND, EX_CANNOT_CHECK = 0, 1, 2


def camera_check(config: AgentConfig, source_spec: str | None, save: Path | None = None) -> dict[str, Any]:
    """The report; `exit_code` says healthy (0), set-up problems seen (1), or nothing could be checked (2)."""
    source = _source(config, source_spec)
    components = MlComponents()
    # A technician's check judges every frame it reads (a burst, a video), not at the running agent's pace.
    every_frame = config.model_copy(update={"camera": config.camera.model_copy(update={"health_interval_s": 0.0})})
    load_vision_models(every_frame, components, source)
    report: dict[str, Any] = {"models": [m.to_dict() for m in components.models], "results": [], "findings": []}
    if source is None:
        return {**report, "source": None, "camera_error": "no camera found (picamera2 or /dev/video*)",
                "exit_code": EX_CANNOT_CHECK}
    report["source"] = source.name
    try:
        frame = source.read()
    except CameraUnavailable as exc:
        return {**report, "camera_error": str(exc), "exit_code": EX_CANNOT_CHECK}
    finally:
        source.close()
    report.update(camera_error=None, frame={"width": int(frame.shape[1]), "height": int(frame.shape[0])})
    if save is not None:
        from edge_agent.camera.formats import write_ppm

        write_ppm(save, frame)
        report["saved"] = str(save)
    for analyse in components.frame_analysers:  # guarded: a model that fails is reported, never a traceback
        sample = analyse(frame, source.name, 0.0, 0.0)
        report["results"].append({"detector": analyser_name(analyse.analyse), **dict(sample.metrics)})
        for detector in components.detectors:
            for finding in detector.evaluate(sample):
                if finding.present:
                    report["findings"].append({
                        "type": finding.type, "subject": finding.subject, "severity": finding.severity.value,
                        "summary": finding.summary, "evidence": dict(finding.evidence),
                        "guidance": guidance_for(finding.type, finding.subject, finding.evidence)})
    report["models"] = [m.to_dict() for m in components.models]  # after the frame: a model may have failed on it
    if not components.frame_analysers:
        report["nothing_checked"] = _why_nothing_checked(config, source.name, bool(report["models"]))
        report["exit_code"] = EX_CANNOT_CHECK
    else:
        report["exit_code"] = EX_ISSUES_FOUND if report["findings"] else EX_OK
    return report


def _source(config: AgentConfig, spec: str | None) -> FrameSource | None:
    if spec:
        return source_from_spec(spec, config.camera, config.simulation.seed)
    scene = None
    if config.camera.source in ("auto", "synthetic") and config.premises.mode == "simulated":
        from edge_agent.clock import SystemClock
        from edge_agent.sim.premises import SimulatedPremises

        scene = SimulatedPremises(config.simulation, SystemClock())
    return source_from_config(config.camera, scene, config.simulation.seed)


def _why_nothing_checked(config: AgentConfig, source_name: str, models_listed: bool) -> str:
    """Why no check judged the frame, and what turns one on: a technician must not be left with a bare exit 2."""
    health = ("the synthetic camera has no lens for the health checks to judge" if source_name == "synthetic"
              else "camera health checks are off ([camera] health = false)")
    if models_listed:
        return f"{health}, and no camera model loaded (see the table above)"
    return (f"{health}, and no camera model is enabled (`[models.vision] enabled = true` or `[[models.custom]]` "
            "in the config; a checkout's config/demo.toml enables the vision model)")


def render_check(report: dict[str, Any]) -> str:
    from edge_agent.views import render_models

    lines = [f"camera: {report.get('source') or '-'}"]
    if report.get("camera_error"):
        lines.append(f"  UNAVAILABLE: {report['camera_error']}")
    elif report.get("frame"):
        lines.append(f"  frame {report['frame']['width']}x{report['frame']['height']}"
                     + (f", saved to {report['saved']}" if report.get("saved") else ""))
    if report["models"]:
        lines += ["", render_models(report["models"])]
    if report.get("nothing_checked"):
        lines.append(f"  nothing judged this frame: {report['nothing_checked']}")
    for result in report["results"]:
        if result.get("error"):
            lines.append(f"{result['detector']}: DISABLED, {result['error']}")
            continue
        if result["detector"] == CameraHealthDetector.name:
            problems = [t for t in health.ISSUE_TYPES if result.get(t) is True]
            lines.append(f"{result['detector']}: {', '.join(problems) or 'ok'}")
            continue
        if result["detector"] == LEDS_STREAM:  # [camera] led_profile: the watched device's LEDs in this frame
            seen = describe_states(result, int(result.get("leds") or 0))
            lines.append(f"{result['detector']}: {seen or 'not readable, ' + str(result.get('why'))}")
            continue
        seen = result.get("label") or result.get("top_label") or "nothing"
        score = result.get("score", result.get("top_score"))
        lines.append(f"{result['detector']}: {seen}" + (f" (score {score:.2f})" if score is not None else ""))
    lines += [f"\nWhat to do about {finding['type']}:\n{_wrapped(finding['guidance'])}"
              for finding in report["findings"]]
    if report["exit_code"] == EX_OK:
        lines.append("set-up looks right")
    return "\n".join(lines)


def _wrapped(guidance: str) -> str:
    import textwrap

    return textwrap.fill(guidance, width=100, initial_indent="  ", subsequent_indent="  ")


# Watched-device LED reading: `camera calibrate` and `camera check --profile`.

# Frames read from a live camera or a recording, this far apart: 16 x 0.15 s covers a slow blink's two edges and
# samples a fast one at no multiple of its period.
DEFAULT_BURST = 16
BURST_INTERVAL_S = 0.15
MAX_CALIBRATION_FRAMES = 30


def led_calibrate(config: AgentConfig, source_spec: str | None, out: Path, leds: list[str],
                  rules_file: Path | None = None, frames: int = 1) -> dict[str, Any]:
    """Learn the watched device's profile from a known-good view and write it to `out`. Raises ValueError
    (a bad --led, a rules file that does not fit, no LED found) naming what is wrong."""
    import time

    from edge_agent.camera.led_calibrate import calibrate, parse_led_option
    from edge_agent.camera.led_profile import load_rules_file, profile_to_json, save_profile

    boxes = [parse_led_option(text) for text in leds]
    grabbed = _grab(_led_source(config, source_spec), max(1, min(frames, MAX_CALIBRATION_FRAMES)), BURST_INTERVAL_S)
    if isinstance(grabbed, str):
        return {"camera_error": grabbed, "exit_code": EX_CANNOT_CHECK}
    source, captured = grabbed
    profile = calibrate(captured, boxes, source=source)
    if rules_file is not None:
        from dataclasses import replace

        profile = replace(profile, rules=load_rules_file(rules_file, profile.names()))
    save_profile(profile, out, created=time.time())
    described = profile_to_json(profile)
    leds_report = [{k: led[k] for k in ("index", "name", "box", "on", "colour")} for led in described["leds"]]
    return {"source": source, "profile": str(out), "frames": len(captured), "leds": leds_report,
            "rules": described["rules"], "camera_error": None, "exit_code": EX_OK}


def led_check(config: AgentConfig, source_spec: str | None, profile_path: Path,
              frames: int = DEFAULT_BURST, interval_s: float = BURST_INTERVAL_S) -> dict[str, Any]:
    """Read the watched device's LEDs over a burst of frames against its profile: every LED's state and the
    issues its rules imply. `exit_code`: 0 no issue, 1 issues (or the device hidden), 2 nothing could be read.
    Raises ProfileError for a profile that cannot be used."""
    from edge_agent.camera.led_profile import load_profile
    from edge_agent.detectors.led_rules import LedDetector

    profile = load_profile(profile_path)
    grabbed = _grab(_led_source(config, source_spec), max(1, min(frames, MAX_CALIBRATION_FRAMES)), interval_s)
    if isinstance(grabbed, str):
        return {"profile": str(profile_path), "camera_error": grabbed, "exit_code": EX_CANNOT_CHECK}
    source, captured = grabbed
    detector = LedDetector(profile, burst=len(captured), occlusion_s=0.0)
    occluded, why = 0, []
    sample = None
    for n, frame in enumerate(captured):
        sample = detector.analyse(frame, source, float(n), float(n))
        if sample.metrics.get("occluded"):
            occluded += 1
            why.append(str(sample.metrics.get("why")))
    states = detector.reader.states()
    report: dict[str, Any] = {
        "source": source, "profile": str(profile_path), "frames": len(captured), "occluded_frames": occluded,
        "occlusion": why[:3], "camera_error": None, "leds": [s.to_dict() for s in states], "issues": []}
    if not states:  # every frame occluded: the device cannot be seen at all
        sample = detector.analyse(captured[-1], source, float(len(captured)), 0.0)
    assert sample is not None
    for finding in detector.evaluate(sample):
        if finding.present:
            report["issues"].append({"type": finding.type, "severity": finding.severity.value,
                                     "summary": finding.summary, "evidence": dict(finding.evidence),
                                     "guidance": guidance_for(finding.type, finding.subject, finding.evidence)})
    report["exit_code"] = EX_CANNOT_CHECK if not states else (EX_ISSUES_FOUND if report["issues"] else EX_OK)
    return report


def _led_source(config: AgentConfig, spec: str | None) -> FrameSource | None:
    return source_from_spec(spec, config.camera, config.simulation.seed) if spec else \
        source_from_config(config.camera, None, config.simulation.seed)


def _grab(source: FrameSource | None, count: int, interval_s: float = 0.0) -> tuple[str, list[Any]] | str:
    """Up to `count` frames `interval_s` apart (fewer from a single image or a short recording), or why there are
    none. A recorded video is sampled at that interval of its own time, a live camera waits between frames;
    images in a directory are taken one after the other."""
    import time

    if source is None:
        return "no camera found (picamera2 or /dev/video*)"
    stride, live = _pace(source, interval_s)
    frames: list[Any] = []
    try:
        while len(frames) < count:
            if frames and live:
                time.sleep(interval_s)
            for _ in range(stride - 1 if frames else 0):
                source.read()
            frames.append(source.read())
    except CameraUnavailable as exc:
        if not frames:
            return str(exc)
    finally:
        source.close()
    return source.name, frames


def _pace(source: FrameSource, interval_s: float) -> tuple[int, bool]:
    """(frames to step in a recorded video, whether the source is a live camera)."""
    from edge_agent.camera.replay import OPENCV_VIDEOS, ReplaySource

    if not isinstance(source, ReplaySource):
        return 1, interval_s > 0
    if source.path.suffix.lower() not in (*OPENCV_VIDEOS, ".y4m"):
        return 1, False
    fps = 30.0
    try:
        import cv2

        capture = cv2.VideoCapture(str(source.path))
        fps = capture.get(cv2.CAP_PROP_FPS) or fps
        capture.release()
    except ImportError:
        pass
    return max(1, round(interval_s * min(max(fps, 1.0), 240.0))), False


def render_led_report(report: dict[str, Any]) -> str:
    lines = [f"camera: {report.get('source') or '-'}"]
    if report.get("camera_error"):
        return "\n".join(lines + [f"  UNAVAILABLE: {report['camera_error']}"])
    if "rules" in report:  # calibration
        lines.append(f"profile written to {report['profile']} from {report['frames']} frame(s):")
        for led in report["leds"]:
            lines.append(f"  LED {led['index']} {led['name'] or ''} at {led['box']}: "
                         + (f"on, {led['colour']}" if led["on"] else "off"))
        lines += [f"  rule: {r['when']} -> {r['issue']} ({r['severity']})" for r in report["rules"]]
        return "\n".join(lines)
    lines.append(f"{report['frames']} frame(s) read, {report['occluded_frames']} occluded"
                 + (f" ({report['occlusion'][0]})" if report["occlusion"] else ""))
    for led in report["leds"]:
        state = "blinking" if led["blinking"] else ("on" if led["on"] else "off")
        lines.append(f"  LED {led['index']} {led['name'] or ''}: {state}"
                     + (f", {led['colour']}" if led["on"] and led["colour"] else "")
                     + f" (confidence {led['confidence']:.2f})")
    lines += [f"\n{issue['type']}: {issue['summary']}\n{_wrapped(issue['guidance'])}" for issue in report["issues"]]
    if report["exit_code"] == EX_OK:
        lines.append("no issue from the watched device's LEDs")
    return "\n".join(lines)
