"""Config loading: every problem is one line naming the key, the value and what was expected; secrets stay hidden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge_agent.config import AgentConfig, AgentSection, ConfigError, load_config, read_toml, secret_file_problems

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge-agent.toml"
    path.write_text(text)
    return path


def problems_in(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path, env or {})
    return raised.value.problems


def test_the_production_config_is_valid_and_safe_to_install():
    config = load_config(REPO_ROOT / "config" / "edge-agent.toml", env={})
    assert config.remediation.default_mode == "dry-run"
    assert config.premises.mode == "hardware"
    assert config.agent.device_id == AgentSection().device_id  # derived from the machine, not written in
    assert "simulation" not in read_toml(REPO_ROOT / "config" / "edge-agent.toml")


def test_the_demo_config_is_valid_and_runs_the_simulated_premises_with_faults_and_auto_remediation():
    config = load_config(REPO_ROOT / "config" / "demo.toml", env={})
    assert config.premises.mode == "simulated"
    assert config.agent.device_id == "gw-demo-0001"
    assert {fault.kind for fault in config.simulation.faults} >= {"interference", "dns_down", "cable_unplugged"}
    assert config.remediation.default_mode == "auto"


def test_no_file_gives_the_built_in_defaults():
    assert load_config(None, env={}) == AgentConfig()


def test_unknown_key_is_named_with_the_keys_allowed_in_its_section(tmp_path):
    problems = problems_in(write_toml(tmp_path, "[mqtt]\nprot = 8883\n"))
    assert len(problems) == 1
    assert problems[0].startswith("mqtt.prot: unknown key")
    assert "port" in problems[0] and "host" in problems[0] and "topic_prefix" in problems[0]


def test_unknown_section_is_named_with_the_sections_allowed_at_top_level(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[mqqt]\nhost = 'broker'\n"))
    assert problem.startswith("mqqt: unknown key")
    assert "mqtt" in problem and "issues" in problem


def test_unknown_key_inside_a_fault_lists_the_fault_keys(tmp_path):
    text = "[[simulation.faults]]\nkind = 'dns_down'\nstart_s = 1\nend_s = 2\nduration = 5\n"
    [problem] = problems_in(write_toml(tmp_path, text))
    assert problem.startswith("simulation.faults.0.duration: unknown key")
    assert "start_s" in problem and "end_s" in problem


def test_wrong_type_names_the_key_the_value_and_the_expected_type(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[issues]\nopen_after = 'three'\n"))
    assert problem.startswith("issues.open_after = 'three':")
    assert "integer" in problem


def test_out_of_range_value_names_the_key_the_value_and_the_limit(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[mqtt]\nport = 70000\n"))
    assert problem.startswith("mqtt.port = 70000:")
    assert "65535" in problem


def test_value_not_matching_its_pattern_is_refused_naming_the_key(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[agent]\ndevice_id = 'gw 1'\n"))
    assert problem.startswith("agent.device_id = 'gw 1':")


def test_fault_ending_before_it_starts_is_refused_naming_the_fault_and_both_times(tmp_path):
    text = "[[simulation.faults]]\nkind = 'interference'\nstart_s = 50\nend_s = 40\n"
    [problem] = problems_in(write_toml(tmp_path, text))
    assert problem.startswith("simulation.faults.0:")
    assert "end_s (40.0)" in problem and "start_s (50.0)" in problem


def test_fault_ending_after_the_cycle_is_refused_naming_the_fault_and_cycle_s(tmp_path):
    text = "[simulation]\ncycle_s = 100\n[[simulation.faults]]\nkind = 'dns_down'\nstart_s = 50\nend_s = 140\n"
    [problem] = problems_in(write_toml(tmp_path, text))
    assert problem.startswith("simulation:")
    assert "dns_down" in problem and "140" in problem and "cycle_s (100.0 s)" in problem


def test_each_problem_is_reported_on_its_own_line(tmp_path):
    text = "[issues]\nopen_after = 0\nresolve_after = 0\n"
    problems = problems_in(write_toml(tmp_path, text))
    assert sorted(p.split(" =")[0] for p in problems) == ["issues.open_after", "issues.resolve_after"]


def test_toml_syntax_error_is_one_problem_with_its_position(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[agent\ndevice_id = 'x'\n"))
    assert problem.startswith("not valid TOML:")
    assert "line 1" in problem


def test_missing_file_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert raised.value.source == str(path)
    assert raised.value.problems == ["file not found"]


def test_config_error_message_starts_with_the_file_it_is_about(tmp_path):
    path = write_toml(tmp_path, "[issues]\nopen_after = 0\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert str(raised.value).startswith(f"{path}: issues.open_after")


def test_password_from_the_environment_overrides_the_file(tmp_path):
    path = write_toml(tmp_path, "[mqtt]\npassword = 'from-file'\n")
    config = load_config(path, env={"EDGE_AGENT_MQTT_PASSWORD": "from-env"})
    assert config.mqtt.password.get_secret_value() == "from-env"


def test_mqtt_secrets_from_the_environment_apply_without_an_mqtt_section(tmp_path):
    env = {
        "EDGE_AGENT_MQTT_USERNAME": "gw-7",
        "EDGE_AGENT_MQTT_PASSWORD": "s3cret",
        "EDGE_AGENT_MQTT_CA_FILE": "/etc/edge-agent/ca.pem",
        "EDGE_AGENT_MQTT_CERT_FILE": "/etc/edge-agent/gw.pem",
        "EDGE_AGENT_MQTT_KEY_FILE": "/etc/edge-agent/gw.key",
    }
    config = load_config(write_toml(tmp_path, "[issues]\nopen_after = 2\n"), env=env)
    assert config.mqtt.username == "gw-7"
    assert config.mqtt.password.get_secret_value() == "s3cret"
    assert config.mqtt.ca_file == Path("/etc/edge-agent/ca.pem")
    assert config.mqtt.cert_file == Path("/etc/edge-agent/gw.pem")
    assert config.mqtt.key_file == Path("/etc/edge-agent/gw.key")


def test_process_environment_is_read_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("EDGE_AGENT_MQTT_USERNAME", "from-process-env")
    assert load_config(None).mqtt.username == "from-process-env"


def test_environment_variables_other_than_the_secrets_do_not_override():
    config = load_config(None, env={"EDGE_AGENT_MQTT_HOST": "evil.example"})
    assert config.mqtt.host == "localhost"


def test_password_of_the_wrong_type_is_not_printed_in_the_error(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(write_toml(tmp_path, "[mqtt]\npassword = 73915468\n"), env={})
    assert "73915468" not in str(raised.value)
    assert raised.value.problems[0].startswith("mqtt.password = ***:")


def test_password_from_the_environment_is_not_printed_when_another_key_is_wrong(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(write_toml(tmp_path, "[mqtt]\nport = 0\n"), env={"EDGE_AGENT_MQTT_PASSWORD": "hunter2"})
    assert "hunter2" not in str(raised.value)


def test_masked_dict_hides_the_password_but_shows_that_one_is_set():
    config = load_config(None, env={"EDGE_AGENT_MQTT_PASSWORD": "hunter2"})
    masked = config.masked_dict()
    assert "hunter2" not in json.dumps(masked)
    assert masked["mqtt"]["password"]


def test_masked_dict_shows_the_other_effective_values(tmp_path):
    config = load_config(write_toml(tmp_path, "[mqtt]\nhost = 'broker.example'\n"), env={})
    assert config.masked_dict()["mqtt"]["host"] == "broker.example"


def test_loaded_config_cannot_be_changed_in_place():
    config = load_config(None, env={})
    with pytest.raises(ValidationError):
        config.issues.open_after = 9


def test_per_type_hysteresis_for_one_type_keeps_the_shipped_defaults_for_the_others():
    config = AgentConfig.model_validate({"issues": {"per_type": {"dns_failure": {"open_after": 5}}}})
    assert config.issues.per_type["dns_failure"].open_after == 5
    assert config.issues.per_type["gateway_mac_changed"].open_after == 1
    assert config.issues.per_type["gateway_unreachable"].open_after == 1


def test_a_key_file_every_user_can_read_is_a_problem_naming_key_and_mode(tmp_path):
    key = tmp_path / "gw.key"
    key.write_text("-----BEGIN EC PRIVATE KEY-----\n")
    key.chmod(0o644)
    config = AgentConfig.model_validate({"mqtt": {"key_file": str(key)}})
    [problem] = secret_file_problems(config, None, env={})
    assert problem.startswith(f"mqtt.key_file = '{key}': readable by every user (mode 644)")
    key.chmod(0o600)
    assert secret_file_problems(config, None, env={}) == []


def test_a_missing_key_file_is_a_problem():
    config = AgentConfig.model_validate({"mqtt": {"key_file": "/nonexistent/gw.key"}})
    assert secret_file_problems(config, None, env={}) == ["mqtt.key_file = '/nonexistent/gw.key': file not found"]


def test_a_password_in_a_world_readable_config_is_a_problem_unless_it_comes_from_the_environment(tmp_path):
    path = write_toml(tmp_path, "[mqtt]\npassword = 'in-file'\n")
    path.chmod(0o644)
    config = load_config(path, env={})
    assert "every user can read" in secret_file_problems(config, path, env={})[0]
    path.chmod(0o640)
    assert secret_file_problems(config, path, env={}) == []
    path.chmod(0o644)
    env = {"EDGE_AGENT_MQTT_PASSWORD": "from-env"}
    assert secret_file_problems(load_config(path, env=env), path, env=env) == []


def test_a_file_without_a_version_is_read_as_version_1(tmp_path):
    assert load_config(write_toml(tmp_path, "[issues]\nopen_after = 2\n"), env={}).version == 1


def test_a_file_for_a_newer_agent_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_config(write_toml(tmp_path, "version = 7\n"), env={})
    [problem] = raised.value.problems
    assert problem.startswith("version = 7: written for a newer edge-agent") and "upgrade the agent" in problem


def test_older_versions_pass_through_every_migration_step(tmp_path, monkeypatch):
    import edge_agent.config as config_module

    # A made-up format change: version 1 called the section [hysteresis], version 2 calls it [issues].
    monkeypatch.setattr(config_module, "CONFIG_VERSION", 2)
    monkeypatch.setattr(config_module, "MIGRATIONS", {1: lambda raw: {
        **{k: v for k, v in raw.items() if k != "hysteresis"}, "issues": raw.get("hysteresis", {})}})
    raw = config_module.migrate({"version": 1, "hysteresis": {"open_after": 4}}, "test.toml")
    assert raw == {"version": 2, "issues": {"open_after": 4}}
