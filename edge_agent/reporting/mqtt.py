"""MQTT v5 sink (paho 2.x): presence on a retained `status` (also the Last Will), events at QoS 1, telemetry at QoS 0.

paho's own thread owns the connection and reconnects with backoff. Messages published while the broker is
unreachable wait in paho's RAM queue (events) or are dropped (telemetry); the durable outbox comes later.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from edge_agent.config import MqttSection
from edge_agent.reporting.envelope import SCHEMA_STATUS, EnvelopeFactory

log = logging.getLogger(__name__)

OFFLINE_PUBLISH_TIMEOUT_S = 2.0


class MqttSink:
    def __init__(
        self,
        config: MqttSection,
        envelopes: EnvelopeFactory,
        now: Callable[[], tuple[float, float]],
    ):
        """`now` returns (monotonic, wall) seconds from the agent's clock."""
        import paho.mqtt.client as mqtt  # heavy-ish: only when MQTT is enabled

        self._mqtt = mqtt
        self.config = config
        self.envelopes = envelopes
        self._now = now
        self.base_topic = f"{config.topic_prefix}/{envelopes.device_id}"
        self.connected = threading.Event()
        self.dropped_telemetry = 0

        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=envelopes.device_id,
            protocol=mqtt.MQTTv5,
        )
        if config.username:
            password = config.password.get_secret_value() if config.password else None
            client.username_pw_set(config.username, password)
        if config.ca_file or config.cert_file:
            client.tls_set(
                ca_certs=str(config.ca_file) if config.ca_file else None,
                certfile=str(config.cert_file) if config.cert_file else None,
                keyfile=str(config.key_file) if config.key_file else None,
            )
        client.will_set(self._topic("status"), self._status_payload("offline", "connection lost"), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=60)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self.client = client

    def start(self) -> None:
        self.client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
        self.client.loop_start()

    def _topic(self, relative: str) -> str:
        return f"{self.base_topic}/{relative}"

    def _status_payload(self, state: str, reason: str) -> str:
        mono, wall = self._now()
        message = self.envelopes.wrap(SCHEMA_STATUS, {"state": state, "reason": reason}, wall, mono)
        return json.dumps(message)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason_code)
            return
        log.info("MQTT connected to %s:%s", self.config.host, self.config.port)
        client.publish(self._topic("status"), self._status_payload("online", "connected"), qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self.connected.clear()
        if reason_code != 0:
            log.warning("MQTT connection lost (%s); paho reconnects with backoff", reason_code)

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        payload = json.dumps(message, separators=(",", ":"), default=str)
        if not durable and not self.connected.is_set():
            self.dropped_telemetry += 1
            return
        self.client.publish(self._topic(topic), payload, qos=1 if durable else 0)

    def close(self) -> None:
        """Say offline before a clean DISCONNECT (which suppresses the will), within a bounded time."""
        if self.connected.is_set():
            info = self.client.publish(
                self._topic("status"), self._status_payload("offline", "shutdown"), qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout=OFFLINE_PUBLISH_TIMEOUT_S)
            except (RuntimeError, ValueError) as exc:
                log.warning("MQTT offline status not delivered: %s", exc)
        # paho 2.x: disconnect before loop_stop, the other order costs about a second.
        self.client.disconnect()
        self.client.loop_stop()
