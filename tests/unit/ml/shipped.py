"""Where the shipped models are, and the runtimes installed here, for the ML tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edge_agent.ml.runtime import available_runtimes

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"
WINDOW_MODEL = MODELS_DIR / "connectivity_window.tflite"
VISION_MODEL = MODELS_DIR / "gateway_vision.tflite"
RUNTIMES = available_runtimes()
TEST_MODELS_DIR = Path(__file__).resolve().parents[2] / "data" / "models"


def copy_model(model: Path, directory: Path) -> Path:
    """The model and its metadata JSON, copied where a test may spoil them."""
    shutil.copy(model, directory / model.name)
    shutil.copy(model.with_suffix(".json"), directory / model.with_suffix(".json").name)
    return directory / model.name


def edit_metadata(model: Path, change) -> None:
    path = model.with_suffix(".json")
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))
