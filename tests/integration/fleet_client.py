"""A fleet tool's side of cloud commands over a real broker: send a command, collect every reply with its v5
properties, check each message against the contract."""

from __future__ import annotations

import json
import queue
import uuid

import paho.mqtt.client as mqtt
from contract_validation import assert_valid
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

DEVICE = "edge/v1/itest-gw"


class FleetClient:
    """Sends commands the way a fleet tool would, and collects every reply with its v5 properties."""

    def __init__(self, host: str, port: int):
        self.replies: queue.Queue = queue.Queue()
        self.online: queue.Queue = queue.Queue()
        self.contract_violations: list[str] = []
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.subscribe(f"{DEVICE}/res/#", qos=1)
        self.client.subscribe(f"{DEVICE}/status", qos=1)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        body = json.loads(msg.payload)
        try:
            assert_valid(msg.topic, body)
        except AssertionError as exc:
            self.contract_violations.append(str(exc))
        if msg.topic.endswith("/status"):
            self.online.put(body)
            return
        correlation = getattr(msg.properties, "CorrelationData", None)
        self.replies.put((msg.topic, body, correlation))

    def wait_online(self) -> None:
        while self.online.get(timeout=15)["state"] != "online":
            pass

    def send(self, name: str, payload: bytes, response_topic: str | None = None, correlation: bytes | None = None):
        properties = Properties(PacketTypes.PUBLISH)
        if response_topic:
            properties.ResponseTopic = response_topic
        if correlation:
            properties.CorrelationData = correlation
        self.client.publish(f"{DEVICE}/cmd/{name}", payload, qos=1, properties=properties).wait_for_publish(5)

    def replies_until(self, final_states: set[str], timeout_s: float = 15) -> list[tuple[str, dict, bytes | None]]:
        got = []
        while True:
            topic, body, correlation = self.replies.get(timeout=timeout_s)
            got.append((topic, body, correlation))
            if body["state"] in final_states:
                return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def request(request_id: str | None = None, **fields) -> bytes:
    return json.dumps({"request_id": request_id or uuid.uuid4().hex, **fields}).encode()
