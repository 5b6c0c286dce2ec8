"""Frames rendered from the simulated premises' scene (edge_agent.sim.camera_scene): the camera pipeline
and the vision model run end to end without hardware. The room stays the same from frame to frame (one
layout per seed); light, noise, blur and a little camera shake change."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from edge_agent.camera import CameraUnavailable
from edge_agent.sim.camera_scene import SceneState, jitter_layout, random_conditions, random_layout, render


class SceneBackend(Protocol):
    def camera_scene(self) -> SceneState | None:
        """What the camera would see now; None when the simulated camera is unplugged."""
        ...


class StaticScene:
    """One fixed state, e.g. for `edge-agent camera check --source synthetic:led_red`."""

    def __init__(self, state: SceneState):
        self.state = state

    def camera_scene(self) -> SceneState | None:
        return self.state


class SyntheticSource:
    name = "synthetic"

    def __init__(self, scene: SceneBackend, size: tuple[int, int], seed: int = 1):
        self.scene = scene
        self.size = size
        self._rng = np.random.default_rng(seed)
        self.layout = random_layout(self._rng)

    def read(self) -> np.ndarray:
        state = self.scene.camera_scene()
        if state is None:
            raise CameraUnavailable("the simulated camera is unplugged")
        layout = jitter_layout(self.layout, self._rng)
        return render(layout, state, random_conditions(self._rng), self.size, self._rng)

    def close(self) -> None:
        pass
