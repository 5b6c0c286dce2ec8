"""Config loading: every problem is one line naming the key, the value and what was expected; secrets stay hidden."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.config import AgentConfig, AgentSection, ConfigError, load_config, read_toml, secret_file_problems
from edge_agent.schema import ValidationError

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


# --- Any file content gives ConfigError, one line per problem (a SIGHUP reload keeps the old config) ---

def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "edge-agent.toml"
    path.write_bytes(data)
    return path


def test_a_config_saved_as_utf16_is_one_problem_saying_to_save_it_as_utf8(tmp_path):
    [problem] = problems_in(write_bytes(tmp_path, "[agent]\nsite_id = 'x'\n".encode("utf-16")))
    assert "UTF-16" in problem and "UTF-8" in problem


def test_bytes_that_are_not_utf8_are_one_problem_naming_the_offset(tmp_path):
    [problem] = problems_in(write_bytes(tmp_path, "[agent]\nsite_id = 'caf\xe9'\n".encode("latin-1")))
    assert problem.startswith("not UTF-8 text (byte 0xe9 at offset 22)")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = write_bytes(tmp_path, b"\xef\xbb\xbf[agent]\nsite_id = 'lab'\n")
    assert load_config(path, env={}).agent.site_id == "lab"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("nested", [
    b"a = " + b"[" * 5000 + b"]" * 5000,
    b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000,
    b"[agent]\nsite_id = " + b"[" * 20 + b"]" * 20,
], ids=["arrays", "inline-tables", "past-the-cap"])
def test_deep_nesting_is_one_problem_not_a_recursion_error(tmp_path, nested):
    assert problems_in(write_bytes(tmp_path, nested + b"\n")) == ["nested more than 16 levels deep"]


def test_a_file_larger_than_the_cap_is_refused_before_it_is_parsed(tmp_path):
    from edge_agent.config import MAX_CONFIG_BYTES

    [problem] = problems_in(write_bytes(tmp_path, b"#" * (MAX_CONFIG_BYTES + 1)))
    assert problem.startswith(f"larger than {MAX_CONFIG_BYTES} bytes")


def test_a_number_with_thousands_of_digits_is_a_config_error(tmp_path):
    [problem] = problems_in(write_bytes(tmp_path, b"[issues]\nopen_after = " + b"9" * 5000 + b"\n"))
    assert problem.startswith("not valid TOML")


def test_a_number_too_large_for_a_float_names_the_key(tmp_path):
    [problem] = problems_in(write_bytes(tmp_path, b"[collectors.system]\ninterval_s = " + b"9" * 400 + b"\n"))
    assert problem.startswith("collectors.system.interval_s = 999")


@pytest.mark.parametrize("section, key, value", [
    ("collectors.system", "interval_s", "nan"),
    ("detectors.connectivity", "gateway_rtt_ms_max", "inf"),
    ("detectors.interfaces", "errors_per_s_max", "+inf"),
    ("remediation", "min_disruptive_gap_s", "inf"),  # a section defined outside config.py
    ("remediation.channel", "min_dwell_s", "nan"),
    ("simulation", "speed", "-inf"),
])
def test_nan_and_infinity_are_refused_wherever_a_number_goes(tmp_path, section, key, value):
    [problem] = problems_in(write_toml(tmp_path, f"[{section}]\n{key} = {value}\n"))
    assert problem.startswith(f"{section}.{key} = ") and problem.endswith("expected a finite number")


def test_nan_inside_a_list_of_tables_names_its_index(tmp_path):
    text = "[[models.custom]]\nname = 'a'\npath = '/m.tflite'\nkind = 'classifier'\nlabels = ['x']\ninput_mean = nan\n"
    assert problems_in(write_toml(tmp_path, text)) == ["models.custom.0.input_mean = nan: expected a finite number"]


def test_a_directory_named_as_the_config_is_a_config_error(tmp_path):
    assert problems_in(tmp_path) == ["not a regular file"]


@pytest.mark.timeout(10)
def test_a_fifo_named_as_the_config_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    assert problems_in(fifo) == ["not a regular file"]


PATH_KEYS = [
    ("agent", "state_dir"), ("agent", "log_file"), ("control", "socket_path"), ("mqtt", "ca_file"),
    ("mqtt", "cert_file"), ("mqtt", "key_file"), ("models", "directory"), ("camera", "path"),
    ("collectors.wifi", "hostapd_ctrl_dir"),
]


@pytest.mark.parametrize("section, key", PATH_KEYS)
def test_an_empty_path_is_refused_naming_the_key(tmp_path, section, key):
    [problem] = problems_in(write_toml(tmp_path, f"[{section}]\n{key} = ''\n"))
    assert problem.startswith(f"{section}.{key} = '': must not be empty")


@pytest.mark.parametrize("section, key", PATH_KEYS)
def test_a_relative_path_is_refused_naming_the_key(tmp_path, section, key):
    [problem] = problems_in(write_toml(tmp_path, f"[{section}]\n{key} = 'var/agent'\n"))
    assert problem.startswith(f"{section}.{key} = 'var/agent': must be an absolute path")


def test_a_path_with_a_nul_character_is_refused(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, '[agent]\nlog_file = "/var/log/a\\u0000b"\n'))
    assert problem.startswith("agent.log_file = '/var/log/a\\x00b': must not contain a NUL character")


def test_a_control_socket_path_longer_than_a_socket_address_holds_is_refused_naming_the_key(tmp_path):
    long_path = "/run/" + "a" * 103  # 108 bytes: one more than sun_path holds with its NUL
    [problem] = problems_in(write_toml(tmp_path, f"[control]\nsocket_path = '{long_path}'\n"))
    assert problem.startswith("control.socket_path = ")
    assert "108 bytes long; a Unix socket's path holds at most 107" in problem
    fits = load_config(write_toml(tmp_path, f"[control]\nsocket_path = '{long_path[:-1]}'\n"), {})
    assert str(fits.control.socket_path) == long_path[:-1]


def test_a_disk_path_must_be_absolute(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[collectors.system]\ndisk_paths = ['/', 'data']\n"))
    assert problem.startswith("collectors.system.disk_paths.1 = 'data': must be an absolute path")


@pytest.mark.parametrize("section, key, value", [
    ("collectors.system", "interval_s", "1e-9"),
    ("collectors.interfaces", "interval_s", "0.1"),
    ("collectors.wifi", "interval_s", "0.001"),
    ("collectors.connectivity", "interval_s", "0.4"),
    ("collectors.connectivity", "timeout_s", "1e-6"),
    ("reporting", "agent_health_interval_s", "0.01"),
    ("simulation", "cycle_s", "0.5"),
    ("camera", "fps", "0.0"),
])
def test_intervals_below_their_floor_are_refused(tmp_path, section, key, value):
    [problem] = problems_in(write_toml(tmp_path, f"[{section}]\n{key} = {value}\n"))
    assert problem.startswith(f"{section}.{key} = ") and "greater than or equal to" in problem


def test_the_short_intervals_tests_and_scenarios_use_stay_valid(tmp_path):
    text = ("[collectors.wifi]\ninterval_s = 0.5\n[collectors.connectivity]\ninterval_s = 1\ntimeout_s = 0.05\n"
            "[camera]\nfps = 0.2\n[reporting]\nagent_health_interval_s = 1\n")
    config = load_config(write_toml(tmp_path, text), env={})
    assert config.collectors.wifi.interval_s == 0.5 and config.collectors.connectivity.timeout_s == 0.05


@pytest.mark.parametrize("text, key", [
    ("[simulation]\nseed = 99999999999999999999\n", "simulation.seed"),
    ("[reporting]\noutbox_max_bytes = 9223372036854775807\n", "reporting.outbox_max_bytes"),
    ("[collectors.system]\nwatched_processes = [" + ", ".join(["'p'"] * 65) + "]\n",
     "collectors.system.watched_processes"),
    ("[collectors.connectivity]\nuplink_endpoints = ['" + "h" * 300 + ":443']\n",
     "collectors.connectivity.uplink_endpoints.0"),
    ("[mqtt]\nhost = ''\n", "mqtt.host"),
    ("[control]\ngroup = 'bad group'\n", "control.group"),
])
def test_sizes_beyond_their_bounds_are_refused_naming_the_key(tmp_path, text, key):
    [problem] = problems_in(write_toml(tmp_path, text))
    assert problem.startswith(f"{key} = ")


def test_a_problem_stays_one_short_line_whatever_the_key_and_value(tmp_path):
    text = '[issues.per_type."a\\nb"]\nopen_after = "' + "x" * 5000 + '"\n'
    [problem] = problems_in(write_toml(tmp_path, text))
    assert "\n" not in problem and len(problem) <= 300
    assert problem.startswith('issues.per_type."a\\nb".open_after = ')


# --- device_id derived from the machine ---

@pytest.mark.parametrize("hostname, machine_id, expected", [
    ("gw-0042", "0123456789abcdef0123456789abcdef", "gw-0042"),
    ("gw-0042.lan", None, "gw-0042"),
    ("raspberrypi", "0123456789abcdef0123456789abcdef\n", "gw-0123456789ab"),
    ("localhost", "0123456789ABCDEF", "gw-0123456789ab"),
    ("", None, "gw-unnamed"),
    ("débian box", None, "d-bian-box"),
])
def test_device_id_is_the_host_name_unless_many_machines_share_it(hostname, machine_id, expected):
    from edge_agent.config import derive_device_id

    assert derive_device_id(hostname, machine_id) == expected


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=100)))
def test_a_derived_device_id_always_matches_the_pattern(hostname, machine_id):
    from edge_agent.config import DEVICE_ID, derive_device_id

    assert DEVICE_ID.match(derive_device_id(hostname, machine_id))


def test_the_default_device_id_is_valid_on_this_machine():
    AgentSection.model_validate({"device_id": AgentSection().device_id})


# --- [mqtt]: TLS by default off this machine, no password in clear text ---

def mqtt_section(**keys):
    return AgentConfig.model_validate({"mqtt": keys}).mqtt


@pytest.mark.parametrize("host", ["broker.example.com", "192.0.2.7", "2001:db8::1"])
def test_tls_is_on_for_a_broker_on_another_machine_without_any_tls_file(host):
    assert mqtt_section(host=host).uses_tls


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.3.2.1", "::1", "edge.localhost"])
def test_tls_stays_off_for_a_broker_on_this_machine_without_tls_files(host):
    assert not mqtt_section(host=host).uses_tls


def test_a_ca_file_turns_tls_on_for_a_loopback_broker():
    assert mqtt_section(host="127.0.0.1", ca_file="/etc/edge-agent/ca.pem").uses_tls


def test_tls_false_is_obeyed_without_a_password():
    assert not mqtt_section(host="broker.example.com", tls=False).uses_tls


def test_a_password_in_clear_text_to_another_machine_is_refused_naming_the_host(tmp_path):
    text = "[mqtt]\nhost = 'broker.example.com'\ntls = false\nusername = 'gw'\npassword = 'hunter2'\n"
    [problem] = problems_in(write_toml(tmp_path, text))
    assert problem.startswith("mqtt: tls = false would send the password to broker.example.com in clear text")
    assert "hunter2" not in problem and "allow_insecure" in problem


def test_a_password_from_the_environment_is_refused_the_same_way(tmp_path):
    path = write_toml(tmp_path, "[mqtt]\nhost = '192.0.2.7'\ntls = false\nusername = 'gw'\n")
    with pytest.raises(ConfigError):
        load_config(path, env={"EDGE_AGENT_MQTT_PASSWORD": "hunter2"})


def test_allow_insecure_lets_a_clear_text_password_through(tmp_path):
    text = "[mqtt]\nhost = '192.0.2.7'\ntls = false\nallow_insecure = true\nusername = 'gw'\npassword = 'pw'\n"
    assert not load_config(write_toml(tmp_path, text), env={}).mqtt.uses_tls


def test_a_password_to_a_loopback_broker_needs_no_tls(tmp_path):
    text = "[mqtt]\nhost = '127.0.0.1'\nport = 1883\nusername = 'gw'\npassword = 'pw'\n"
    assert not load_config(write_toml(tmp_path, text), env={}).mqtt.uses_tls


def test_tls_false_with_a_ca_file_is_a_contradiction(tmp_path):
    [problem] = problems_in(write_toml(tmp_path, "[mqtt]\ntls = false\nca_file = '/etc/edge-agent/ca.pem'\n"))
    assert problem.startswith("mqtt: tls = false, yet ca_file or cert_file is set")


# --- fuzz: nothing but ConfigError, whatever the file says ---

SECTION_KEYS = sorted({f"{section}.{key}" for section, field in AgentConfig.model_fields.items()
                       for key in getattr(field.annotation, "model_fields", {})} | set(AgentConfig.model_fields))
scalars = st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=20),
                    st.sampled_from(["", "/", "auto", "nan", "127.0.0.1", "restart_service:x", "1e-9"]))
keys = st.one_of(st.sampled_from(sorted({key for name in SECTION_KEYS for key in name.split(".")})),
                 st.text(max_size=8))
toml_values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)), max_leaves=25)


def toml_string(text: str) -> str:
    """A TOML basic string: control characters escaped, everything else as it is (json.dumps would split astral
    characters into surrogate escapes, which TOML refuses)."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c for c in text)
    return f'"{escaped}"'


def toml_literal(value) -> str:
    """An inline TOML rendering (floats as nan/inf where needed): enough for any structure hypothesis makes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value > 0 else "-inf") if abs(value) == float("inf") \
            else repr(value)
    if isinstance(value, (int, str)):
        return toml_string(value) if isinstance(value, str) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_literal(v)}" for k, v in value.items()) + "}"


def load_only_config_error(path: Path) -> None:
    try:
        load_config(path, env={})
    except ConfigError as exc:
        assert exc.problems and all("\n" not in problem for problem in exc.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_fuzz_any_bytes_give_a_config_or_a_config_error(tmp_path, data):
    load_only_config_error(write_bytes(tmp_path, data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables=st.dictionaries(st.sampled_from(sorted(AgentConfig.model_fields)),
                              st.dictionaries(keys, toml_values, max_size=5), max_size=4))
def test_fuzz_any_structure_under_the_real_section_names_gives_a_config_or_a_config_error(tmp_path, tables):
    text = "".join(f"{name} = {toml_literal(body)}\n" for name, body in tables.items())
    load_only_config_error(write_toml(tmp_path, text))


@pytest.mark.parametrize("authority", ["5", "[1]", "{ cli = 3 }", "'x'"])
def test_an_older_manual_mode_beside_an_authority_of_the_wrong_shape_is_one_clear_problem(tmp_path, authority):
    [problem] = problems_in(write_toml(tmp_path, f"[remediation]\nmanual_mode = 'auto'\nauthority = {authority}\n"))
    assert problem.startswith("remediation: ") and "authority and authority.cli must be tables" in problem


def test_a_validator_that_meets_an_unforeseen_shape_still_gives_one_problem_line(tmp_path, monkeypatch):
    def unforeseen(data):
        raise TypeError("'int' object is not iterable")

    monkeypatch.setattr(AgentConfig, "model_validate", unforeseen)
    [problem] = problems_in(write_toml(tmp_path, "[issues]\nopen_after = 2\n"))
    assert problem.startswith("the file could not be checked (TypeError: 'int' object is not iterable)")
