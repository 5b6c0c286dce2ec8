"""Building the on-device models from config: what loads runs, what fails is disabled and reported, and the
agent keeps running either way."""

from __future__ import annotations

import shutil
from pathlib import Path

from edge_agent.agent.daemon import Agent
from edge_agent.agent.status import meta_card, status_report
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig
from edge_agent.detectors.ml_catalog import build_ml_components, models_directory
from edge_agent.views import render_status

from ..ml.shipped import MODELS_DIR, VISION_MODEL, WINDOW_MODEL


def config(tmp_path, **sections) -> AgentConfig:
    return AgentConfig.model_validate({"agent": {"state_dir": str(tmp_path / "state")},
                                       "control": {"socket_path": str(tmp_path / "ctl.sock")}, **sections})


def test_the_checkout_models_are_found_by_default(tmp_path):
    assert models_directory(config(tmp_path).models, env={}) == MODELS_DIR
    assert models_directory(config(tmp_path).models, env={"EDGE_AGENT_MODELS_DIR": "/srv/m"}).as_posix() == "/srv/m"


def test_the_window_classifier_is_off_by_default_and_nothing_heavy_loads_without_a_camera(tmp_path):
    components = build_ml_components(config(tmp_path, camera={"enabled": False}), scene=None)
    assert components.detectors == [] and components.models == []


def test_with_no_camera_only_the_window_classifier_runs(tmp_path):
    components = build_ml_components(config(tmp_path, camera={"enabled": False}, models={"window": {"enabled": True}}),
                                     scene=None)
    assert [d.name for d in components.detectors] == ["ml.window"]
    assert components.collectors == []
    assert [(m.name, m.loaded) for m in components.models] == [("connectivity-window", True)]


def test_a_gateway_without_a_camera_loads_no_camera_model_and_no_interpreter_for_them(tmp_path, monkeypatch):
    import edge_agent.detectors.ml_catalog as catalog

    asked = []
    monkeypatch.setattr(catalog, "source_from_config", lambda *args: None)  # enabled, but no camera found
    monkeypatch.setattr(catalog, "_runtime", lambda models: asked.append(models) or "none here")
    components = build_ml_components(config(tmp_path, models={"window": {"enabled": False},
                                                              "vision": {"enabled": True}}), scene=None)
    assert components.models == [] and components.collectors == [] and asked == []
    assert any("no camera found" in note for note in components.notes)


def test_a_missing_model_is_disabled_with_its_reason_and_the_others_still_load(tmp_path, caplog):
    models = tmp_path / "models"
    models.mkdir()
    for path in (WINDOW_MODEL, WINDOW_MODEL.with_suffix(".json")):
        shutil.copy(path, models)
    photos = Path(__file__).parents[2] / "data" / "photos" / "scenes"  # a camera to run the models on
    components = build_ml_components(config(tmp_path, models={"directory": str(models), "vision": {"enabled": True},
                                                              "window": {"enabled": True}},
                                            camera={"source": "replay", "path": str(photos)}), scene=None)
    status = {m.kind: m for m in components.models}
    assert status["window"].loaded
    assert not status["vision"].loaded and "not found" in status["vision"].error
    assert "model gateway_vision" in caplog.text and "disabled" in caplog.text


def test_an_agent_whose_models_are_broken_runs_and_says_so_in_status(tmp_path):
    broken = tmp_path / "models"
    broken.mkdir()
    (broken / "connectivity_window.tflite").write_bytes(b"garbage")
    shutil.copy(WINDOW_MODEL.with_suffix(".json"), broken)
    clock = ManualClock()
    agent = Agent(config(tmp_path, models={"directory": str(broken), "window": {"enabled": True}}), None,
                  mode="simulated", clock=clock)
    for _ in range(3):
        agent.run_due_collectors()
        clock.advance(5)
    status = status_report(agent)
    models = {m["kind"]: m for m in status["models"]}
    assert not models["window"]["loaded"] and "corrupt or replaced" in models["window"]["error"]
    assert "camera" in [c["name"] for c in status["collectors"]]
    assert "DISABLED: " in render_status(status)
    assert {"name": "connectivity-window", "version": None, "loaded": False,
            "runtime": models["window"]["runtime"]} in meta_card(agent)["models"]


def test_the_simulated_premises_camera_feeds_the_vision_model_in_the_agent(tmp_path):
    clock = ManualClock()
    faults = [{"kind": "led_off", "start_s": 0, "end_s": 100}]
    agent = Agent(config(tmp_path, simulation={"faults": faults, "cycle_s": None},
                         models={"vision": {"enabled": True}}), None, mode="simulated", clock=clock)
    for _ in range(4):
        agent.run_due_collectors()
        clock.advance(2)
    assert VISION_MODEL.exists()
    [issue] = [i for i in agent.tracker.active() if i.type.startswith("gateway_")]
    assert issue.type == "gateway_leds_off" and issue.severity.value == "info"


def test_the_gateway_vision_model_is_off_unless_the_config_turns_it_on(tmp_path):
    components = build_ml_components(config(tmp_path), scene=None)
    assert "vision" not in [m.kind for m in components.models]
    assert "ml.vision" not in [d.name for d in components.detectors]
