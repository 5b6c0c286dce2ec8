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
from edge_agent.detectors.ml_catalog import MlComponents, load_vision_models
from edge_agent.guidance import guidance_for

EX_OK, EX_ISSUES_FOUND, EX_CANNOT_CHECK = 0, 1, 2


def camera_check(config: AgentConfig, source_spec: str | None, save: Path | None = None) -> dict[str, Any]:
    """The report; `exit_code` says healthy (0), set-up problems seen (1), or nothing could be checked (2)."""
    source = _source(config, source_spec)
    components = MlComponents()
    load_vision_models(config, components, source)
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


def render_check(report: dict[str, Any]) -> str:
    import textwrap

    from edge_agent.views import render_models

    lines = [f"camera: {report.get('source') or '-'}"]
    if report.get("camera_error"):
        lines.append(f"  UNAVAILABLE: {report['camera_error']}")
    elif report.get("frame"):
        lines.append(f"  frame {report['frame']['width']}x{report['frame']['height']}"
                     + (f", saved to {report['saved']}" if report.get("saved") else ""))
    if report["models"]:
        lines += ["", render_models(report["models"])]
    for result in report["results"]:
        if result.get("error"):
            lines.append(f"{result['detector']}: DISABLED, {result['error']}")
            continue
        if result["detector"] == CameraHealthDetector.name:
            problems = [t for t in health.ISSUE_TYPES if result.get(t) is True]
            lines.append(f"{result['detector']}: {', '.join(problems) or 'ok'}")
            continue
        seen = result.get("label") or result.get("top_label") or "nothing"
        score = result.get("score", result.get("top_score"))
        lines.append(f"{result['detector']}: {seen}" + (f" (score {score:.2f})" if score is not None else ""))
    for finding in report["findings"]:
        wrapped = textwrap.fill(finding["guidance"], width=100, initial_indent="  ", subsequent_indent="  ")
        lines.append(f"\nWhat to do about {finding['type']}:\n{wrapped}")
    if report["exit_code"] == EX_OK:
        lines.append("set-up looks right")
    return "\n".join(lines)
