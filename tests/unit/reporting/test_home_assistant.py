"""Home Assistant discovery payloads checked against the options Home Assistant documents for MQTT sensors and
binary sensors (home-assistant.io/integrations/sensor.mqtt, binary_sensor.mqtt, mqtt#discovery-payload)."""

from __future__ import annotations

import re

from edge_agent.reporting.contract import HomeAssistantState
from edge_agent.reporting.home_assistant import STATE_TOPIC, discovery_configs, node_id, state_payload

COMMON = {"availability", "availability_mode", "availability_template", "availability_topic", "device",
          "device_class", "enabled_by_default", "encoding", "entity_category", "entity_picture", "expire_after",
          "force_update", "icon", "json_attributes_template", "json_attributes_topic", "name",
          "payload_available", "payload_not_available", "platform", "qos", "state_topic", "unique_id",
          "value_template", "default_entity_id"}
DOCUMENTED = {
    "sensor": COMMON | {"state_class", "unit_of_measurement", "suggested_display_precision",
                        "last_reset_value_template", "options"},
    "binary_sensor": COMMON | {"off_delay", "payload_on", "payload_off"},
}
DEVICE_KEYS = {"configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model", "model_id",
               "name", "serial_number", "suggested_area", "sw_version", "via_device"}
AVAILABILITY_KEYS = {"topic", "payload_available", "payload_not_available", "value_template"}
DEVICE_CLASSES = {"sensor": {"signal_strength": {"dB", "dBm"}, "duration": {"d", "h", "min", "s", "ms"}},
                  "binary_sensor": {"connectivity": None, "problem": None}}
BASE = "edge/v1/gw-1.lab"


def configs():
    return discovery_configs("gw-1.lab", BASE, "homeassistant", "0.1.0")


def test_every_option_is_one_home_assistant_documents_for_its_component():
    for topic, config in configs():
        prefix, component, node, object_id, last = topic.split("/")
        assert (prefix, node, last) == ("homeassistant", "gw-1_lab", "config")
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", object_id)
        assert set(config) <= DOCUMENTED[component], set(config) - DOCUMENTED[component]
        assert config["state_topic"].startswith(BASE + "/")  # required
        assert set(config["device"]) <= DEVICE_KEYS and config["device"]["identifiers"]
        for entry in config.get("availability", []):
            assert set(entry) <= AVAILABILITY_KEYS and entry["topic"] == f"{BASE}/status"
        if "device_class" in config:
            units = DEVICE_CLASSES[component][config["device_class"]]
            assert units is None or config["unit_of_measurement"] in units
        assert config.get("entity_category") in (None, "diagnostic", "config")
        assert config.get("state_class") in (None, "measurement", "total", "total_increasing")


def test_unique_ids_are_unique_and_stable_per_device():
    ids = [config["unique_id"] for _, config in configs()]
    assert len(ids) == len(set(ids)) == 7
    assert ids == [config["unique_id"] for _, config in configs()]
    other = [config["unique_id"] for _, config in discovery_configs("gw-2", "edge/v1/gw-2", "homeassistant", "0.1.0")]
    assert not set(ids) & set(other)


def test_every_template_reads_a_field_the_state_message_has():
    state = state_payload([], [], None)
    HomeAssistantState.model_validate(state)
    for _, config in configs():
        if config["state_topic"].endswith(STATE_TOPIC):
            for template in (config["value_template"], config.get("json_attributes_template", "")):
                for name in re.findall(r"value_json\.(\w+)", template):
                    assert name in state, (config["name"], name)


def test_state_is_taken_from_the_latest_samples_issues_and_last_action():
    latest = [
        {"stream": "wifi.radio", "subject": "wlan0", "metrics": {"busy_ratio": 0.734}},
        {"stream": "wifi.station", "subject": "a", "metrics": {"signal_dbm": -61.0}},
        {"stream": "wifi.station", "subject": "b", "metrics": {"signal_dbm": -79.5}},
        {"stream": "connectivity.gateway", "subject": "192.168.1.1", "metrics": {"rtt_ms": 1.8}},
    ]
    issue = {"type": "dns_failure", "subject": "192.168.1.1", "severity": "critical", "summary": "x"}
    action = {"name": "restart_service", "target": "dnsmasq", "outcome": "fixed"}
    state = state_payload(latest, [issue], action)
    assert state == {"open_issues": 1, "issues": [{"type": "dns_failure", "subject": "192.168.1.1",
                                                    "severity": "critical"}],
                     "wifi_busy_pct": 73.4, "weakest_station_dbm": -79.5, "gateway_rtt_ms": 1.8,
                     "last_action": "restart_service:dnsmasq fixed"}
    HomeAssistantState.model_validate(state)


def test_node_id_keeps_only_what_home_assistant_allows():
    assert node_id("gw.demo 01/x") == "gw_demo_01_x"
