"""The on-device models the agent runs, built from [models] and [camera]: the window classifier, the
gateway-vision model and operators' own models, the camera collector that feeds the vision ones, and the
load status of every model. A model that cannot be loaded is disabled and reported; the agent runs on."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge_agent.config import AgentConfig, ModelsSection
from edge_agent.detectors import Detector

# numpy, the interpreter and the camera stack are imported where a model or a camera is really used: a gateway
# with no camera and no model enabled never loads them (about 30 MiB of its memory).
if TYPE_CHECKING:
    from edge_agent.camera import FrameSource
    from edge_agent.camera.synthetic import SceneBackend
    from edge_agent.collectors.camera import CameraCollector, FrameAnalyser, GuardedAnalyser
    from edge_agent.ml.runtime import Runtime

log = logging.getLogger(__name__)

INSTALLED_MODELS_DIR = Path("/opt/edge-agent/models")  # where scripts/install.sh puts them


@dataclass
class ModelStatus:
    name: str
    kind: str  # window | vision | classifier | object_detection
    path: str
    loaded: bool
    version: str | None = None
    runtime: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class MlComponents:
    detectors: list[Detector] = field(default_factory=list)
    collectors: list[CameraCollector] = field(default_factory=list)
    frame_analysers: list[GuardedAnalyser] = field(default_factory=list)
    models: list[ModelStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    camera_inputs: list[tuple[int, int]] = field(default_factory=list)  # (width, height) of each camera model

    def close(self) -> None:
        for collector in self.collectors:
            collector.close()


def source_from_config(*args: Any, **kwargs: Any) -> FrameSource | None:
    from edge_agent.camera.factory import source_from_config as configured_source

    return configured_source(*args, **kwargs)


def select_runtime(preference: str) -> Runtime:
    from edge_agent.ml.runtime import select_runtime as choose

    return choose(preference)


def models_directory(config: ModelsSection, env: Mapping[str, str] | None = None) -> Path:
    """[models] directory, else $EDGE_AGENT_MODELS_DIR, else the checkout's models/, else the installed copy."""
    env = os.environ if env is None else env
    if config.directory is not None:
        return config.directory
    if env.get("EDGE_AGENT_MODELS_DIR"):
        return Path(env["EDGE_AGENT_MODELS_DIR"])
    checkout = Path(__file__).resolve().parents[2] / "models"
    return checkout if checkout.is_dir() else INSTALLED_MODELS_DIR


def load_vision_models(config: AgentConfig, components: MlComponents, source: FrameSource | None = None) -> None:
    """The camera health checks, the vision model and the operator's camera models, as detectors and frame
    analysers, each guarded so that one failing never blinds the others. The health checks judge a real
    camera's picture: the simulated premises' rendered scene has no lens to cover or focus."""
    from edge_agent.collectors.camera import GuardedAnalyser
    from edge_agent.detectors.camera_health import CameraHealthDetector
    from edge_agent.detectors.vision import CameraModelFailures, VisionDetector

    if config.camera.health and not _made_by(source, "edge_agent.camera.synthetic", "SyntheticSource"):
        checks = CameraHealthDetector(interval_s=config.camera.health_interval_s)
        components.detectors.append(checks)
        components.frame_analysers.append(GuardedAnalyser(checks.model_name, checks.analyse))
    models = config.models
    directory = models_directory(models)
    # The interpreter library is loaded only when a camera model is to run.
    runtime = _runtime(models) if models.vision.enabled or models.custom else "no camera model is enabled"
    if models.vision.enabled:
        from edge_agent.ml.classifiers import load_frame_classifier

        path = model_path(directory, models.vision.file)
        classifier = _load(components, "vision", path, runtime,
                           lambda: load_frame_classifier(path, runtime, models.num_threads))
        if classifier is not None:
            vision = VisionDetector(classifier, models.vision.min_score)
            components.camera_inputs.append((classifier.width, classifier.height))
            components.detectors.append(vision)
            components.frame_analysers.append(_guarded(components.models[-1], vision.analyse))
    if models.custom:
        from edge_agent.detectors.custom_model import CustomModelDetector
        from edge_agent.ml.custom import load_custom_model
    for custom in models.custom:
        path = model_path(directory, str(custom.path))
        model = _load(components, custom.kind, path, runtime,
                      lambda custom=custom: load_custom_model(custom, runtime, models.num_threads, directory),
                      name=custom.name)
        if model is not None:
            detector = CustomModelDetector(model)
            components.camera_inputs.append((model.width, model.height))
            components.detectors.append(detector)
            components.frame_analysers.append(_guarded(components.models[-1], detector.analyse))
    if config.camera.led_profile is not None and not _made_by(source, "edge_agent.camera.synthetic", "SyntheticSource"):
        _load_led_reader(config, components, source, occlusion_detector(components))
    if components.frame_analysers:
        components.detectors.append(CameraModelFailures())


def occlusion_detector(components: MlComponents):
    """The first operator object detector, if any, as "what lies over the watched device": people and hands only.
    No reference view's detections are kept, and the device itself often reads as an object ("tv"), so an
    object over the LEDs cannot be told from the device; the model-free checks catch covers of other kinds."""
    from edge_agent.camera.occlusion import ALWAYS_OCCLUDERS
    from edge_agent.detectors.custom_model import CustomModelDetector

    for detector in components.detectors:
        model = getattr(detector, "model", None)
        if isinstance(detector, CustomModelDetector) and getattr(model.config, "kind", None) == "detector":
            return lambda frame: [d for d in model.detect(frame) if d.label in ALWAYS_OCCLUDERS]
    return None


def _load_led_reader(config: AgentConfig, components: MlComponents, source: FrameSource | None,
                     detect=None) -> None:
    """The watched device's LED reader (model-free); a profile that cannot be used is reported like a model
    that cannot be loaded, and the agent runs on without it. On a live camera it reads a short burst after each
    frame, to see blinking; a recording replayed is read frame by frame."""
    from edge_agent.camera.led_profile import ProfileError
    from edge_agent.camera.replay import ReplaySource
    from edge_agent.detectors.led_rules import covers_from_detector, load_led_detector

    camera = config.camera
    path = camera.led_profile
    try:
        live = source if source is not None and not isinstance(source, ReplaySource) else None
        covers = None if detect is None else covers_from_detector(detect)
        leds = load_led_detector(path, camera.led_burst, camera.led_occlusion_s, covers=covers, live=live)
    except ProfileError as exc:
        _failed(components, ModelStatus("led-profile", "led_profile", str(path), False, error=str(exc)))
        return
    components.models.append(ModelStatus("led-profile", "led_profile", str(path), True))
    components.detectors.append(leds)
    components.frame_analysers.append(_guarded(components.models[-1], leds.analyse))


def _guarded(status: ModelStatus, analyse: FrameAnalyser) -> GuardedAnalyser:
    """The analyser, disabled at its first failure; the model's status then says so."""
    from edge_agent.collectors.camera import GuardedAnalyser

    def disable(error: str) -> None:
        status.loaded = False
        status.error = error

    return GuardedAnalyser(status.name, analyse, disable)


def build_ml_components(config: AgentConfig, scene: SceneBackend | None) -> MlComponents:
    components = MlComponents()
    models = config.models
    if models.window.enabled:
        from edge_agent.detectors.window_classifier import WindowClassifierDetector
        from edge_agent.ml.classifiers import load_window_classifier

        path = model_path(models_directory(models), models.window.file)
        runtime = _runtime(models)
        classifier = _load(components, "window", path, runtime,
                           lambda: load_window_classifier(path, runtime, models.num_threads))
        if classifier is not None:
            components.detectors.append(WindowClassifierDetector(classifier, models.window.every_n_rounds,
                                                                 models.window.min_score))
    camera = config.camera
    if not camera.enabled:
        return components
    source = source_from_config(camera, scene, config.simulation.seed)
    if source is None:  # nothing to analyse: no camera model is loaded either (memory on a camera-less gateway)
        components.notes.append("no camera found (picamera2 or /dev/video*): the camera collector is off")
        return components
    from edge_agent.camera.frames import detection_size
    from edge_agent.collectors.camera import CameraCollector, SnapshotPolicy
    from edge_agent.detectors.vision import CameraAvailability

    load_vision_models(config, components, source)
    # the ISP scales a Pi camera's detection stream to what the models take
    if _made_by(source, "edge_agent.camera.picamera", "Picamera2Source"):
        source.ask_detection_size(detection_size((camera.detection_width, camera.detection_height),
                                                 components.camera_inputs))
    snapshots = SnapshotPolicy(camera.snapshot_width, camera.snapshot_interval_s) if camera.upload_snapshots else None
    components.collectors.append(CameraCollector(1.0 / camera.fps, source, components.frame_analysers, snapshots))
    components.detectors.append(CameraAvailability())
    components.notes.append(f"camera {source.name}, {camera.fps:g} frames/s, frames stay on the device"
                            + ("; downscaled snapshots are uploaded" if snapshots else ""))
    return components


def _made_by(source: object, module: str, name: str) -> bool:
    """Whether the source is of that class, asked without importing its module: a module never loaded made no
    source (a Pi camera's gateway loads neither the simulated scene nor OpenCV's wrapper to ask)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(source, getattr(loaded, name))


def model_path(directory: Path, file: str) -> Path:
    """A model file named in the config: absolute as given, or relative to the models directory."""
    path = Path(file)
    return path if path.is_absolute() else directory / path


def _runtime(models: ModelsSection) -> Runtime | str:
    """The interpreter, or why there is none (then every model load fails with that reason)."""
    from edge_agent.ml.runtime import RuntimeUnavailable

    try:
        return select_runtime(models.runtime)
    except RuntimeUnavailable as exc:
        return str(exc)


def _load(components: MlComponents, kind: str, path: Path, runtime: Runtime | str, load: Callable[[], Any],
          name: str | None = None) -> Any:
    from edge_agent.ml.metadata import ModelLoadError

    name = name or path.stem
    if isinstance(runtime, str):
        return _failed(components, ModelStatus(name, kind, str(path), False, error=runtime))
    try:
        loaded = load()
    except ModelLoadError as exc:
        return _failed(components, ModelStatus(exc.model, kind, str(path), False, error=exc.reason,
                                               runtime=f"{runtime.name} {runtime.version}"))
    metadata = getattr(getattr(loaded, "model", None), "metadata", None)
    components.models.append(ModelStatus(
        metadata.name if metadata else name, kind, str(path), True,
        version=metadata.version if metadata else None, runtime=f"{runtime.name} {runtime.version}",
    ))
    return loaded


def _failed(components: MlComponents, status: ModelStatus) -> None:
    log.error("model %s (%s) disabled: %s", status.name, status.path, status.error)
    components.models.append(status)
    return None
