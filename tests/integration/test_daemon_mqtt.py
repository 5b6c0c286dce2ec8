"""The real daemon reporting to a real mosquitto: presence (birth, will, clean offline) and issue events."""

from __future__ import annotations

import json
import queue
import signal
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from agent_process import Daemon


class Subscriber:
    def __init__(self, host: str, port: int, topic: str):
        self.host, self.port = host, port
        self.messages: queue.Queue = queue.Queue()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, msg: self.messages.put((msg.topic, msg.retain, json.loads(msg.payload)))
        self.client.connect(host, port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def next_matching(self, predicate, timeout_s: float):
        seen = []
        while True:
            try:
                item = self.messages.get(timeout=timeout_s)
            except queue.Empty:
                summary = [(topic, body.get("change") or body.get("state")) for topic, _, body in seen]
                raise AssertionError(f"no matching message within {timeout_s} s; saw {summary}") from None
            seen.append(item)
            if predicate(*item):
                return item

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_daemon(short_tmp: Path, mosquitto):
    extra = f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\nkeepalive_s = 5\n'
    daemon = Daemon(short_tmp, extra)
    subscriber = Subscriber(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/#")
    daemon.start()
    try:
        yield daemon, subscriber
    finally:
        subscriber.close()
        daemon.stop()


def is_status(state: str, reason: str):
    def matches(topic, retain, body):
        return topic == "edge/v1/itest-gw/status" and body["state"] == state and body["reason"] == reason

    return matches


def test_agent_announces_itself_reports_issues_and_says_offline_on_shutdown(mqtt_daemon):
    daemon, sub = mqtt_daemon
    _, _, online = sub.next_matching(is_status("online", "connected"), timeout_s=15)
    assert online["schema"] == "edge.status/1" and online["device_id"] == "itest-gw"

    _, _, opened = sub.next_matching(
        lambda t, r, b: t.endswith("/event/issue") and b["change"] == "opened" and b["type"] == "wifi_interference",
        timeout_s=30,
    )
    _, _, resolved = sub.next_matching(
        lambda t, r, b: t.endswith("/event/issue") and b["change"] == "resolved" and b["type"] == "wifi_interference",
        timeout_s=30,
    )
    assert opened["issue_id"] == resolved["issue_id"]
    assert opened["boot_id"] == resolved["boot_id"] and opened["seq"] < resolved["seq"]
    for field in ("schema", "id", "device_id", "site_id", "agent_version", "boot_id", "seq", "ts", "mono_ms",
                  "clock_synced", "evidence", "guidance", "severity", "state"):
        assert field in opened, field

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=5) == 0
    _, _, offline = sub.next_matching(is_status("offline", "shutdown"), timeout_s=5)
    assert offline["seq"] > resolved["seq"]

    # A fleet manager who subscribes later still sees the device as offline: the status is retained.
    late = Subscriber(sub.host, sub.port, "edge/v1/itest-gw/status")
    try:
        _, retained, status = late.next_matching(lambda t, r, b: True, timeout_s=5)
        assert retained and status["state"] == "offline" and status["id"] == offline["id"]
    finally:
        late.close()


def test_broker_publishes_the_last_will_when_the_agent_dies(mqtt_daemon):
    daemon, sub = mqtt_daemon
    sub.next_matching(is_status("online", "connected"), timeout_s=15)
    daemon.proc.kill()
    daemon.proc.wait(timeout=5)
    sub.next_matching(is_status("offline", "connection lost"), timeout_s=10)
