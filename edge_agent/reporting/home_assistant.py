"""Home Assistant MQTT discovery (opt-in): retained configs that make a hub running Home Assistant show the
agent's health without setup, and the small retained state message those entities read. Pure: data in, messages
out; the publisher sends the configs at every connect and the agent the state as it changes.

Entities: online (from the presence topic the broker also uses for the Last Will), problem, open issues,
Wi-Fi channel busy, weakest station signal, gateway round-trip time, last action. The state carries how many
Wi-Fi devices are connected, not which (their MAC addresses only when configured).
"""

from __future__ import annotations

import re
from typing import Any

STATE_TOPIC = "ha/state"  # relative to the device's subtree, like every other topic of ours


def node_id(device_id: str) -> str:
    """Home Assistant's node_id allows [a-zA-Z0-9_-] only."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", device_id)


def discovery_configs(device_id: str, base_topic: str, prefix: str, version: str) -> list[tuple[str, dict[str, Any]]]:
    """(topic, config) for each entity; publish retained, QoS 1."""
    node = node_id(device_id)
    status_topic = f"{base_topic}/status"
    state_topic = f"{base_topic}/{STATE_TOPIC}"
    device = {"identifiers": [f"edge_agent_{node}"], "name": f"Gateway {device_id}", "manufacturer": "edge-agent",
              "model": "edge-agent", "sw_version": version}
    availability = [{"topic": status_topic, "value_template": "{{ value_json.state }}",
                     "payload_available": "online", "payload_not_available": "offline"}]

    def entity(component: str, object_id: str, name: str, **options: Any) -> tuple[str, dict[str, Any]]:
        config = {"name": name, "unique_id": f"edge_agent_{node}_{object_id}", "device": device, "qos": 1,
                  **options}
        if options.get("state_topic") == state_topic:
            config["availability"] = availability  # the state says nothing while the agent is offline
        return f"{prefix}/{component}/{node}/{object_id}/config", config

    return [
        entity("binary_sensor", "online", "Agent online", state_topic=status_topic,
               value_template="{{ value_json.state }}", payload_on="online", payload_off="offline",
               device_class="connectivity", entity_category="diagnostic"),
        entity("binary_sensor", "problem", "Problem on the premises", state_topic=state_topic,
               value_template="{{ 'ON' if value_json.open_issues > 0 else 'OFF' }}", device_class="problem",
               json_attributes_topic=state_topic, json_attributes_template="{{ value_json.issues | tojson }}"),
        entity("sensor", "open_issues", "Open issues", state_topic=state_topic,
               value_template="{{ value_json.open_issues }}", state_class="measurement", icon="mdi:alert-circle"),
        entity("sensor", "wifi_busy", "Wi-Fi channel busy", state_topic=state_topic,
               value_template="{{ value_json.wifi_busy_pct }}", unit_of_measurement="%", state_class="measurement",
               icon="mdi:wifi"),
        entity("sensor", "weakest_station", "Weakest Wi-Fi device", state_topic=state_topic,
               value_template="{{ value_json.weakest_station_dbm }}", device_class="signal_strength",
               unit_of_measurement="dBm", state_class="measurement"),
        entity("sensor", "gateway_rtt", "Gateway round trip", state_topic=state_topic,
               value_template="{{ value_json.gateway_rtt_ms }}", device_class="duration",
               unit_of_measurement="ms", state_class="measurement"),
        entity("sensor", "last_action", "Last repair", state_topic=state_topic,
               value_template="{{ value_json.last_action }}", icon="mdi:wrench"),
    ]


def state_payload(latest: list[dict[str, Any]], open_issues: list[dict[str, Any]],
                  last_action: dict[str, Any] | None, client_details: bool = False) -> dict[str, Any]:
    """The state the entities read: from the latest samples, the open issues and the last audited action.

    Every subscriber of the hub's broker reads it, so Wi-Fi clients are a count and any MAC address in an issue
    or action is replaced, unless `client_details` ([mqtt] home_assistant_client_details) asks for them."""
    shown = (lambda text: text) if client_details else hide_macs
    radio = next((s["metrics"] for s in latest if s["stream"] == "wifi.radio"), {})
    stations = [s["metrics"].get("signal_dbm") for s in latest if s["stream"] == "wifi.station"]
    signals = [v for v in stations if isinstance(v, (int, float))]
    gateway = next((s["metrics"] for s in latest if s["stream"] == "connectivity.gateway"), {})
    busy = radio.get("busy_ratio")
    action = None
    if last_action is not None:
        ref = last_action["name"] + (f":{last_action['target']}" if last_action.get("target") else "")
        action = f"{ref} {last_action['outcome']}"
    return {
        "open_issues": len(open_issues),
        "issues": [{"type": i["type"], "subject": shown(i["subject"]), "severity": i["severity"]}
                   for i in open_issues],
        "wifi_clients": len(stations),
        "wifi_busy_pct": None if busy is None else round(100 * busy, 1),
        "weakest_station_dbm": min(signals) if signals else None,
        "gateway_rtt_ms": gateway.get("rtt_ms"),
        "last_action": shown(action or "none"),
    }


# A hardware address as hostapd and iw print it (aa:bb:cc:dd:ee:ff), with dashes, or in Cisco's dotted form;
# wherever it sits in the text (hiding a little too much is the safe mistake).
MAC_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}")
HIDDEN_CLIENT = "a Wi-Fi device"


def hide_macs(text: str) -> str:
    return MAC_ADDRESS.sub(HIDDEN_CLIENT, text)
