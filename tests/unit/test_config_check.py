"""`edge-agent config check`: every file the config names is checked (exit 78 naming the path), demo values in a
production config are a warning, and the shipped production and demo files pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.config import AgentConfig
from edge_agent.config_check import demo_value_warnings, model_file_problems
from edge_agent.exit_codes import EX_CONFIG

REPO = Path(__file__).resolve().parents[2]
EX_OK = 0


@pytest.fixture(autouse=True)
def no_config_from_the_environment(monkeypatch):
    for var in ("EDGE_AGENT_CONFIG", "EDGE_AGENT_MQTT_USERNAME", "EDGE_AGENT_MQTT_PASSWORD",
                "EDGE_AGENT_MQTT_CA_FILE", "EDGE_AGENT_MQTT_CERT_FILE", "EDGE_AGENT_MQTT_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EDGE_AGENT_MODELS_DIR", str(REPO / "models"))


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge-agent.toml"
    path.write_text(text)
    return path


def check(path: Path, capsys) -> tuple[int, list[str]]:
    status = main(["config", "check", str(path)])
    return status, capsys.readouterr().err.splitlines()


def test_the_production_config_passes_without_a_warning(capsys):
    path = REPO / "config" / "edge-agent.toml"
    assert check(path, capsys) == (EX_OK, [f"edge-agent: {path} is valid"])


def test_the_demo_config_passes_without_a_warning_because_it_is_simulated(capsys):
    path = REPO / "config" / "demo.toml"
    assert check(path, capsys) == (EX_OK, [f"edge-agent: {path} is valid"])


def test_demo_values_in_a_hardware_config_are_warned_about_but_still_valid(tmp_path, capsys):
    demo = (REPO / "config" / "demo.toml").read_text().replace('mode = "simulated"', 'mode = "hardware"')
    path = write_toml(tmp_path, demo)
    status, lines = check(path, capsys)
    assert status == EX_OK and lines[-1] == f"edge-agent: {path} is valid"
    warnings = [line for line in lines if line.startswith(f"edge-agent: warning: {path}: ")]
    assert len(warnings) == 4
    text = "\n".join(warnings)
    assert "agent.device_id = 'gw-demo-0001'" in text and "agent.site_id = 'demo-site'" in text
    assert "[simulation] scripts 4 faults" in text and "remediation.default_mode = 'auto'" in text


def test_the_default_faults_are_not_a_warning_when_the_file_has_no_simulation_section():
    assert demo_value_warnings(AgentConfig(), {}) == []


def test_a_missing_ca_file_fails_the_check_naming_the_path(tmp_path, capsys):
    path = write_toml(tmp_path, "[mqtt]\nhost = 'broker.example.com'\nca_file = '/nonexistent/ca.pem'\n")
    assert check(path, capsys) == (EX_CONFIG, [f"edge-agent: config error in {path}: mqtt.ca_file = "
                                               "'/nonexistent/ca.pem': file not found"])


def test_a_garbage_ca_file_fails_the_check_even_with_mqtt_off(tmp_path, capsys):
    ca = tmp_path / "ca.pem"
    ca.write_text("garbage\n")
    status, [line] = check(write_toml(tmp_path, f"[mqtt]\nca_file = '{ca}'\n"), capsys)
    assert status == EX_CONFIG and f"mqtt.ca_file = '{ca}': not a PEM CA certificate" in line


def test_a_password_in_clear_text_to_another_machine_fails_the_check(tmp_path, capsys):
    path = write_toml(tmp_path, "[mqtt]\nenabled = true\nhost = 'broker.example.com'\ntls = false\n"
                                "username = 'gw'\npassword = 'hunter2'\n")
    path.chmod(0o600)
    status, [line] = check(path, capsys)
    assert status == EX_CONFIG and "in clear text" in line and "hunter2" not in line


def test_a_missing_model_file_fails_the_check_naming_the_path(tmp_path, capsys):
    path = write_toml(tmp_path, f"[models]\ndirectory = '{tmp_path}'\n[models.window]\nenabled = true\n")
    status, lines = check(path, capsys)
    assert status == EX_CONFIG
    assert f"models.window.file = 'connectivity_window.tflite' ({tmp_path}/connectivity_window.tflite): " \
           "file not found" in lines[0]


def test_a_model_file_that_is_not_tflite_is_named(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    (models / "gateway_vision.tflite").write_bytes(b"<html>not found</html>")
    config = AgentConfig.model_validate({"models": {"directory": str(models), "vision": {"enabled": True}}})
    assert model_file_problems(config) == [f"models.vision.file = 'gateway_vision.tflite' "
                                           f"({models}/gateway_vision.tflite): not a TFLite model (no TFL3 identifier)"]


def test_a_model_without_its_metadata_is_named(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(REPO / "models", models)
    (models / "connectivity_window.json").unlink()
    [problem] = model_file_problems(AgentConfig.model_validate({"models": {"directory": str(models),
                                                                           "window": {"enabled": True}}}))
    assert problem.startswith("models.window.file = 'connectivity_window.tflite': metadata file")


def test_disabled_models_and_a_disabled_camera_are_not_checked(tmp_path):
    config = AgentConfig.model_validate({"models": {"directory": str(tmp_path), "window": {"enabled": False}},
                                         "camera": {"enabled": False}})
    assert model_file_problems(config) == []


def test_a_missing_custom_model_is_named(tmp_path):
    custom = {"name": "smoke", "path": "/nonexistent/smoke.tflite", "kind": "classifier", "labels": ["smoke"]}
    config = AgentConfig.model_validate({"models": {"directory": str(REPO / "models"), "custom": [custom]}})
    assert model_file_problems(config) == ["models.custom.0.path = '/nonexistent/smoke.tflite': file not found"]


@pytest.mark.timeout(120)
def test_a_custom_model_that_would_crash_the_interpreter_is_named(tmp_path):
    content = bytearray((REPO / "tests" / "data" / "models" / "tiny_classifier.tflite").read_bytes())
    content[1210] = 0x75  # the byte tests/unit/ml/test_model_trial.py corrupts: tflite-runtime dies with SIGSEGV
    model = tmp_path / "shelf.tflite"
    model.write_bytes(bytes(content))
    custom = {"name": "shelf", "path": str(model), "kind": "classifier", "labels": ["empty", "full"]}
    config = AgentConfig.model_validate({"models": {"runtime": "tflite-runtime", "custom": [custom]}})
    [problem] = model_file_problems(config)
    assert problem.startswith(f"models.custom.0.path = '{model}': ") and "corrupt" in problem


@pytest.mark.timeout(20)
def test_a_log_file_that_is_not_a_regular_file_fails_the_check(tmp_path, capsys):
    import os

    os.mkfifo(tmp_path / "agent.log")
    path = write_toml(tmp_path, f"[agent]\nlog_file = '{tmp_path / 'agent.log'}'\n")
    status, lines = check(path, capsys)
    assert status == EX_CONFIG
    assert lines[-1].endswith(f"agent.log_file = '{tmp_path / 'agent.log'}': not a regular file")


def test_a_missing_replay_source_fails_the_check(tmp_path, capsys):
    path = write_toml(tmp_path, "[camera]\nsource = 'replay'\npath = '/nonexistent/replay.y4m'\n")
    status, [line] = check(path, capsys)
    assert status == EX_CONFIG and line.endswith("camera.path = '/nonexistent/replay.y4m': not found")
