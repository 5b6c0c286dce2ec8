"""Home Assistant discovery with a real broker: a hub that subscribes later still finds every entity's retained
config and the retained state they read, and sees the entities go unavailable when the agent stops."""

from __future__ import annotations

import json
import queue
import signal
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import Daemon, wait_for
from contract_validation import assert_valid


def retained(host: str, port: int, topic_filter: str, settle_s: float = 1.0) -> dict[str, dict]:
    """What a hub connecting now receives from the broker's retained store under `topic_filter`."""
    inbox: queue.Queue = queue.Queue()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, msg: inbox.put((msg.topic, msg.retain, msg.payload))
    client.connect(host, port)
    client.subscribe(topic_filter, qos=1)
    client.loop_start()
    time.sleep(settle_s)
    client.loop_stop()
    client.disconnect()
    found = {}
    while not inbox.empty():
        topic, was_retained, payload = inbox.get()
        if was_retained:
            found[topic] = json.loads(payload)
    return found


def test_a_hub_that_subscribes_later_finds_the_entities_and_their_state(short_tmp: Path, mosquitto):
    extra = (f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n'
             'home_assistant = true\n')
    daemon = Daemon(short_tmp, extra)
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=15)
        configs = wait_for(lambda: (found := retained(mosquitto.host, mosquitto.port, "homeassistant/#"))
                           and len(found) == 7 and found, timeout_s=20, what="seven retained discovery configs")
        assert {topic.split("/")[1] for topic in configs} == {"sensor", "binary_sensor"}
        state = wait_for(lambda: retained(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/ha/state")
                         .get("edge/v1/itest-gw/ha/state"), timeout_s=20, what="the retained ha/state")
        assert_valid("edge/v1/itest-gw/ha/state", state)
        assert state["wifi_busy_pct"] is not None and state["gateway_rtt_ms"] is not None
        for config in configs.values():
            assert config["state_topic"] in ("edge/v1/itest-gw/status", "edge/v1/itest-gw/ha/state")

        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=10) == 0
        status = retained(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/status")["edge/v1/itest-gw/status"]
        assert status["state"] == "offline"  # every entity's availability reads this: they show unavailable
    finally:
        daemon.stop()
