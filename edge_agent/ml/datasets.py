"""The generated data sets the models are trained and checked on, built the same way by the training script
and the tests (so a test can re-create a model's held-out set from the seed its metadata records)."""

from __future__ import annotations

import numpy as np

from edge_agent.camera.frames import resize
from edge_agent.ml.window_features import fill_gaps, scale_window
from edge_agent.sim.camera_scene import render_labelled
from edge_agent.sim.link_physics import generate_windows

CAMERA_RENDER_SIZE = (128, 96)  # a 4:3 camera; the pipeline resizes frames to the model's input


def window_dataset(count: int, steps: int, seed: int, profiles: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Scaled windows (count, steps, features) float32 and label indices (link_physics.LABELS)."""
    raw, labels = generate_windows(count, steps, seed, profiles)
    return np.stack([scale_window(fill_gaps(window)) for window in raw]), labels


def vision_dataset(count: int, seed: int, wall_styles: tuple[str, ...], input_size: tuple[int, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Frames rendered as a 4:3 camera sees them, resized to `input_size` (width, height) as the agent does;
    uint8 (count, height, width, 3) and label indices (camera_scene.VISION_LABELS)."""
    frames, labels = render_labelled(count, seed, CAMERA_RENDER_SIZE, wall_styles)
    return np.stack([resize(frame, *input_size) for frame in frames]), labels
