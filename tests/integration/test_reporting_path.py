"""The reporting path against a real mosquitto through a forwarder that can black-hole or cut the connection:
telemetry written into a connection that then broke is sent again instead of lost, the stall and the lost
connection are measured, and the publisher reconnects at once when the agent's probes see the path come back."""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import wait_for
from tcp_proxy import TcpProxy

from edge_agent.config import MqttSection
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.mqtt import MqttPublisher, OutboxSink
from edge_agent.reporting.outbox import Outbox
from edge_agent.reporting.path_health import PathHealthMonitor


def make_publisher(tmp: Path, port: int, device: str) -> tuple[MqttPublisher, OutboxSink, EnvelopeFactory]:
    envelopes = EnvelopeFactory(device, "site", lambda: True)
    outbox = Outbox(tmp / f"{device}.sqlite", 50_000_000, "normal")
    config = MqttSection(enabled=True, host="127.0.0.1", port=port, keepalive_s=5)
    publisher = MqttPublisher(config, envelopes, outbox, lambda: (time.monotonic(), time.time()),
                              tmp / f"{device}.session", meta=dict)
    return publisher, OutboxSink(outbox, publisher), envelopes


def subscriber(broker, topic: str) -> tuple[mqtt.Client, queue.Queue]:
    received: queue.Queue = queue.Queue()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, msg: received.put(msg.payload)
    client.connect(broker.host, broker.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client, received


def test_telemetry_swallowed_by_a_black_hole_is_sent_again_and_the_stall_is_measured(mosquitto, short_tmp: Path):
    proxy = TcpProxy(mosquitto.host, mosquitto.port)
    publisher, sink, envelopes = make_publisher(short_tmp, proxy.port, "path-gw")
    publisher.path = PathHealthMonitor(stall_s=2.0)
    watcher, received = subscriber(mosquitto, "edge/v1/path-gw/telemetry/#")
    seen: set[int] = set()

    def drain(until: set[int], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not until <= seen and time.monotonic() < deadline:
            try:
                seen.add(json.loads(received.get(timeout=0.2))["i"])
            except queue.Empty:
                pass

    def telemetry(numbers: range) -> None:
        for i in numbers:
            sink.publish("telemetry/system", envelopes.wrap("edge.telemetry/1", {"i": i}, time.time(), 0.0), False)

    publisher.start()
    try:
        wait_for(publisher.connected.is_set, timeout_s=10, what="the publisher to connect")
        telemetry(range(40))
        drain(set(range(40)), 10)
        assert seen == set(range(40))
        proxy.blackhole.set()
        telemetry(range(40, 70))  # written into the socket and swallowed on the way
        sink.publish("event/issue", envelopes.wrap("edge.issue/1", {"n": 1}, time.time(), 0.0), True)
        wait_for(lambda: proxy.swallowed_bytes > 0 and publisher.path.total_stalls >= 1, timeout_s=10,
                 what="the swallowed event to count as a stalled session")
        assert publisher.path_verdict().degraded
        wait_for(lambda: publisher.path.total_losses >= 1, timeout_s=20,
                 what="the keepalive to give up on the black-holed connection")
        proxy.blackhole.clear()
        drain(set(range(70)), 30)
        assert seen == set(range(70)), f"lost for good: {sorted(set(range(70)) - seen)}"
        assert publisher.path.total_resent >= 30  # the 30 swallowed telemetry messages and the event went again
        wait_for(lambda: publisher.outbox.stats().queued_events == 0 and publisher.outbox.stats().queued_telemetry == 0,
                 timeout_s=10, what="the outbox to empty once everything is proven delivered")
    finally:
        publisher.close()
        watcher.loop_stop()
        watcher.disconnect()
        proxy.close()


def test_the_publisher_tries_at_once_when_the_probes_see_the_broker_path_come_back(mosquitto, short_tmp: Path):
    mosquitto.stop()
    publisher, _, _ = make_publisher(short_tmp, mosquitto.port, "hint-gw")
    publisher._attempt = 10  # deep in its backoff, as after a long outage: the next try is 30-60 s away
    publisher.start()
    try:
        wait_for(lambda: publisher._attempt >= 11, timeout_s=10, what="a failed attempt")
        mosquitto.start()
        time.sleep(3)
        assert not publisher.connected.is_set()  # the backoff alone would wait on
        publisher.path_seen_up()
        wait_for(publisher.connected.is_set, timeout_s=5, what="the connection right after the hint")
    finally:
        publisher.close()


def test_the_running_agent_opens_reporting_degraded_on_a_reconnect_storm_and_reports_it(mosquitto, short_tmp: Path):
    from agent_process import Daemon
    from mqtt_recorder import persistent_subscriber

    proxy = TcpProxy(mosquitto.host, mosquitto.port)
    issues: queue.Queue = queue.Queue()
    fleet = persistent_subscriber(mosquitto.host, mosquitto.port, "edge/v1/itest-gw/event/issue", "path-fleet",
                                  lambda c, u, msg: issues.put(json.loads(msg.payload)))
    extra = (f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {proxy.port}\nkeepalive_s = 5\n'
             "[reporting]\nagent_health_interval_s = 1\n")
    daemon = Daemon(short_tmp, extra)
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=30)

        def connects() -> int:
            return daemon.ask_json("status")["reporting"]["mqtt"]["connects"]

        wait_for(lambda: connects() >= 1, timeout_s=20, what="the agent's first connection")
        for cut in range(3):
            proxy.cut()
            wait_for(lambda n=cut: connects() >= n + 2, timeout_s=20, what="a reconnection after the cut")
        path = daemon.ask_json("status")["reporting"]["mqtt"]["path"]
        assert path["degraded"] and path["connection_losses"] == 3, path

        def reported() -> dict | None:
            while not issues.empty():
                body = issues.get()
                if body.get("type") == "reporting_degraded" and body.get("change") == "opened":
                    return body
            return None

        event = wait_for(reported, timeout_s=20, what="the reporting_degraded issue on the broker")
        assert "3 lost connections" in json.dumps(event)
    finally:
        daemon.stop()
        fleet.disconnect()
        fleet.loop_stop()
        proxy.close()
