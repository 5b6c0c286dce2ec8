"""The fleet side of a test: a persistent QoS 1 session that keeps every message it is sent, by envelope id."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def persistent_subscriber(host: str, port: int, topic: str, client_id: str, on_message) -> mqtt.Client:
    """A running client with a persistent session (what it misses while away is kept), subscribed at QoS 1."""
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    client.connect(host, port, clean_start=False, properties=properties)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client


class Recorder:
    def __init__(self, host: str, port: int, topic: str, client_id: str):
        self.received: list[tuple[str, dict, bytes]] = []  # (topic, body, payload)
        self._lock = threading.Lock()
        self.client = persistent_subscriber(host, port, topic, client_id, self._on_message)

    def _on_message(self, client, userdata, message) -> None:
        payload = bytes(message.payload)
        with self._lock:
            self.received.append((message.topic, json.loads(payload), payload))

    def bodies(self) -> list[dict]:
        with self._lock:
            return [body for _, body, _ in self.received]

    def ids(self) -> set[str]:
        return {body["id"] for body in self.bodies()}

    def payloads_by_id(self) -> dict[str, set[bytes]]:
        by_id: dict[str, set[bytes]] = {}
        with self._lock:
            for _, body, payload in self.received:
                by_id.setdefault(body["id"], set()).add(payload)
        return by_id

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
