"""Which camera source the config (or the technician's --source) names, built without opening it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from edge_agent.config import CameraSection

# Each source (and numpy with it) is imported when it is chosen: finding no camera costs nothing.
if TYPE_CHECKING:
    from edge_agent.camera import FrameSource
    from edge_agent.camera.synthetic import SceneBackend

SOURCE_SPECS = "synthetic[:LABEL] | picamera2 | v4l2[:DEVICE] | replay:PATH | a file or directory"


def source_from_config(
    camera: CameraSection, scene: SceneBackend | None, seed: int = 1, dev: Path = Path("/dev")
) -> FrameSource | None:
    """The configured source; for `auto`, the simulated premises' scene, else a Pi camera, else the first V4L2
    device, else None (no camera on this gateway: nothing to watch, and nothing to report missing)."""
    kind = camera.source
    if kind == "auto":
        if scene is not None:
            kind = "synthetic"
        elif importlib.util.find_spec("picamera2") is not None:
            kind = "picamera2"
        elif any(dev.glob("video[0-9]*")):
            kind = "v4l2"
        else:
            return None
    return _source(kind, camera, scene, seed)


def _source(kind: str, camera: CameraSection, scene: SceneBackend | None, seed: int) -> FrameSource:
    detection_size = (camera.detection_width, camera.detection_height)
    if kind == "synthetic":
        from edge_agent.camera.synthetic import StaticScene, SyntheticSource
        from edge_agent.sim.camera_scene import SceneState

        return SyntheticSource(scene or StaticScene(SceneState()), detection_size, seed)
    if kind == "picamera2":
        from edge_agent.camera.picamera import Picamera2Source

        return Picamera2Source((camera.width, camera.height), detection_size)
    if kind == "v4l2":
        from edge_agent.camera.opencv import OpenCVSource

        return OpenCVSource(camera.device, (camera.width, camera.height))
    from edge_agent.camera.replay import ReplaySource

    assert camera.path is not None  # the config validator requires it for replay
    return ReplaySource(camera.path, camera.loop)


def source_from_spec(spec: str, camera: CameraSection, seed: int = 1) -> FrameSource:
    """A technician's --source: see SOURCE_SPECS. Raises ValueError naming what is accepted."""
    kind, _, argument = spec.partition(":")
    if kind == "synthetic":
        from edge_agent.camera.synthetic import StaticScene, SyntheticSource
        from edge_agent.sim.camera_scene import VISION_LABELS, state_for_label

        label = argument or "ok"
        if label not in VISION_LABELS:
            raise ValueError(f"synthetic:{label}: the scene can show {', '.join(VISION_LABELS)}")
        return SyntheticSource(StaticScene(state_for_label(label, _rng(seed))),
                               (camera.detection_width, camera.detection_height), seed)
    if kind == "picamera2":
        return _source(kind, camera, None, seed)
    if kind == "v4l2":
        return _source(kind, camera.model_copy(update={"device": argument or camera.device}), None, seed)
    from edge_agent.camera.replay import ReplaySource

    if kind == "replay" and argument:
        return ReplaySource(Path(argument), loop=False)
    if Path(spec).exists():
        return ReplaySource(Path(spec), loop=False)
    raise ValueError(f"--source {spec!r}: expected {SOURCE_SPECS}")


def _rng(seed: int):
    import numpy as np

    return np.random.default_rng(seed)
