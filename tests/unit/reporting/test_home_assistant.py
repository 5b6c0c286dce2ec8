"""Home Assistant discovery payloads checked against the options Home Assistant documents for MQTT sensors and
binary sensors (home-assistant.io/integrations/sensor.mqtt, binary_sensor.mqtt, mqtt#discovery-payload)."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from edge_agent.reporting.contract import HomeAssistantState
from edge_agent.reporting.home_assistant import (
    HIDDEN_CLIENT,
    MAC_ADDRESS,
    STATE_TOPIC,
    discovery_configs,
    node_id,
    state_payload,
)

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
                                                    "severity": "critical"}], "wifi_clients": 2,
                     "wifi_busy_pct": 73.4, "weakest_station_dbm": -79.5, "gateway_rtt_ms": 1.8,
                     "last_action": "restart_service:dnsmasq fixed"}
    HomeAssistantState.model_validate(state)


def test_node_id_keeps_only_what_home_assistant_allows():
    assert node_id("gw.demo 01/x") == "gw_demo_01_x"


CLIENTS = ["aa:bb:cc:dd:ee:01", "AA-BB-CC-DD-EE-02", "aabb.ccdd.ee03"]
STATIONS = [{"stream": "wifi.station", "subject": mac, "metrics": {"signal_dbm": -70.0}} for mac in CLIENTS]


def client_issues() -> list[dict]:
    return [{"type": "wifi_weak_station", "subject": CLIENTS[0], "severity": "warning"},
            {"type": "wifi_high_retries", "subject": f"wlan0/{CLIENTS[1]}", "severity": "warning"},
            {"type": "dns_failure", "subject": "192.168.1.1", "severity": "critical"}]


def test_the_state_counts_wifi_clients_and_names_none_of_them_by_default():
    action = {"name": "disconnect_station", "target": CLIENTS[2], "outcome": "fixed"}
    state = state_payload(STATIONS, client_issues(), action)
    text = json.dumps(state)
    assert not any(mac.lower() in text.lower() for mac in CLIENTS)
    assert state["wifi_clients"] == 3
    assert [i["subject"] for i in state["issues"]] == [HIDDEN_CLIENT, f"wlan0/{HIDDEN_CLIENT}", "192.168.1.1"]
    assert state["last_action"] == f"disconnect_station:{HIDDEN_CLIENT} fixed"
    HomeAssistantState.model_validate(state)


def test_client_details_when_configured_keep_the_mac_addresses():
    state = state_payload(STATIONS, client_issues(), None, client_details=True)
    assert [i["subject"] for i in state["issues"]][:2] == [CLIENTS[0], f"wlan0/{CLIENTS[1]}"]


@given(st.lists(st.integers(0, 255), min_size=6, max_size=6), st.sampled_from([":", "-"]), st.booleans(),
       st.text(alphabet="wlan0/ -abcdef:", max_size=8), st.text(alphabet="/ -:abcdef0", max_size=4))
def test_no_mac_address_in_any_spelling_or_company_reaches_the_state(octets, separator, upper, before, after):
    mac = separator.join(f"{o:02X}" if upper else f"{o:02x}" for o in octets)
    issue = {"type": "wifi_weak_station", "subject": before + mac + after, "severity": "warning"}
    state = state_payload([], [issue], {"name": "x", "target": mac, "outcome": "fixed"})
    text = json.dumps(state)
    assert mac not in text
    assert MAC_ADDRESS.search(text) is None
