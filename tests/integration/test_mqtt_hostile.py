"""Hostile commands over a real mosquitto: nothing a sender publishes can crash, mute or misdirect the agent."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from agent_process import Daemon, wait_for
from fleet_client import DEVICE, FleetClient, request

from edge_agent.config import MqttSection
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.mqtt import MAX_INBOUND_PACKET_BYTES, MqttPublisher
from edge_agent.reporting.outbox import Outbox


def no_reply_for(client: FleetClient, request_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            _, body, _ = client.replies.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            return True
        if body["request_id"] == request_id:
            return False
    return True


def ping_succeeds(client: FleetClient, request_id: str) -> bool:
    client.send("ping", request(request_id))
    return client.replies_until({"succeeded", "failed"})[-1][1]["state"] == "succeeded"


def test_a_command_nested_32000_deep_is_rejected_and_the_device_keeps_answering(fleet):
    client, daemon = fleet
    client.send("ping", b'{"request_id":"deep","args":{"a":' + b"[" * 32_000 + b"]" * 32_000 + b"}}")
    _, body, _ = client.replies_until({"rejected", "succeeded", "failed"})[-1]
    assert body["state"] == "rejected" and "nested" in body["reason"]
    assert ping_succeeds(client, "after-deep")
    assert daemon.ask_json("status")["reporting"]["mqtt"]["connected"] is True


def test_a_reply_is_never_published_on_the_devices_own_status_or_event_topics(fleet):
    client, _ = fleet
    for target in (f"{DEVICE}/status", f"{DEVICE}/event/issue"):
        client.send("ping", request(f"misdirect-{target[-5:]}"), response_topic=target)
        replies = client.replies_until({"succeeded", "failed"})
        assert {topic for topic, _, _ in replies} == {f"{DEVICE}/res/misdirect-{target[-5:]}"}
    # The fixture checks that nothing but edge.status/1 ever arrived on status (contract validation).


def test_a_message_larger_than_the_maximum_packet_size_is_never_delivered_to_the_agent(fleet):
    client, daemon = fleet
    big = json.dumps({"request_id": "huge", "args": {"x": "a" * (2 * MAX_INBOUND_PACKET_BYTES)}}).encode()
    client.send("ping", big)
    # Delivered, it would be answered "rejected: payload exceeds"; the broker must not send it at all.
    assert no_reply_for(client, "huge", seconds=3)
    assert ping_succeeds(client, "after-huge")
    assert daemon.proc.poll() is None


def test_a_retained_command_waiting_on_the_broker_never_runs(short_tmp: Path, mosquitto):
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    publisher.publish(f"{DEVICE}/cmd/ping", request("retained-1"), qos=1, retain=True).wait_for_publish(5)
    publisher.loop_stop()
    publisher.disconnect()

    client = FleetClient(mosquitto.host, mosquitto.port)
    daemon = Daemon(short_tmp, f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n')
    daemon.start()
    try:
        client.wait_online()
        assert no_reply_for(client, "retained-1", seconds=3)
        assert ping_succeeds(client, "fresh-1")
    finally:
        client.close()
        daemon.stop()


@pytest.mark.parametrize("failure", [RecursionError("maximum recursion depth exceeded"),
                                     OSError(28, "No space left on device")])
def test_an_error_while_handling_a_command_leaves_the_mqtt_thread_listening(mosquitto, short_tmp: Path, failure):
    envelopes = EnvelopeFactory("hostile-gw", "site", lambda: True)
    outbox = Outbox(short_tmp / "outbox.sqlite", 5_000_000, "normal")
    publisher = MqttPublisher(MqttSection(enabled=True, host=mosquitto.host, port=mosquitto.port), envelopes,
                              outbox, lambda: (time.monotonic(), time.time()), short_tmp / "session", meta=dict)
    received: list[bytes] = []

    def on_command(topic, payload, response_topic, correlation, retained):
        received.append(payload)
        if len(received) == 1:
            raise failure

    publisher.on_command = on_command
    sender = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sender.connect(mosquitto.host, mosquitto.port)
    sender.loop_start()
    publisher.start()
    try:
        wait_for(publisher.link_up, timeout_s=10, what="the publisher to connect")
        for n in range(2):
            sender.publish("edge/v1/hostile-gw/cmd/ping", f"{n}".encode(), qos=1).wait_for_publish(5)
        wait_for(lambda: len(received) == 2, timeout_s=10, what="the second command after the failure")
        assert publisher.link_up() and publisher.loop_errors == 1
        time.sleep(1.0)
        assert len(received) == 2  # the first was acknowledged, not redelivered
    finally:
        sender.loop_stop()
        sender.disconnect()
        publisher.close()
        outbox.close()


def test_fleet_cmd_shows_a_hostile_reply_as_a_failure_not_a_traceback_or_a_hang(mosquitto):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    device = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def answer(client, userdata, message):  # a broken or hostile gateway: its reply nests 50,000 deep
        properties = Properties(PacketTypes.PUBLISH)
        properties.CorrelationData = message.properties.CorrelationData
        client.publish(message.properties.ResponseTopic, b"[" * 50_000 + b"]" * 50_000, qos=1,
                       properties=properties)

    device.on_message = answer
    device.connect(mosquitto.host, mosquitto.port)
    device.subscribe("edge/v1/evil-gw/cmd/#", qos=1)
    device.loop_start()
    try:
        time.sleep(0.5)
        result = subprocess.run(
            [sys.executable, "-m", "edge_agent", "fleet", "cmd", "evil-gw", "ping",
             "--broker", f"{mosquitto.host}:{mosquitto.port}", "--timeout", "10"],
            capture_output=True, text=True, timeout=30,
        )
    finally:
        device.loop_stop()
        device.disconnect()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unreadable reply" in result.stdout + result.stderr and "Traceback" not in result.stderr
