"""The publisher alone against a real mosquitto: a long stream of QoS 0 telemetry mixed with QoS 1 events, across
a broker restart, must all leave the outbox (a regression: paho reports QoS 0 writes from inside publish(), and
tracking those as in flight once stalled the publisher after INFLIGHT_WINDOW telemetry messages)."""

from __future__ import annotations

import queue
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import wait_for
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.config import MqttSection
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.mqtt import INFLIGHT_WINDOW, MqttPublisher, OutboxSink
from edge_agent.reporting.outbox import Outbox


def test_telemetry_beyond_the_inflight_window_and_a_broker_restart_never_stall_the_outbox(mosquitto, short_tmp: Path):
    envelopes = EnvelopeFactory("pub-gw", "site", lambda: True)
    outbox = Outbox(short_tmp / "outbox.sqlite", 50_000_000, "normal")
    publisher = MqttPublisher(MqttSection(enabled=True, host=mosquitto.host, port=mosquitto.port), envelopes,
                              outbox, lambda: (time.monotonic(), time.time()), short_tmp / "session", meta=dict)
    sink = OutboxSink(outbox, publisher)
    events: queue.Queue = queue.Queue()
    # A persistent session, as a fleet manager's: the broker keeps its subscription across the restart.
    watcher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="pub-watcher",
                          protocol=mqtt.MQTTv5)
    watcher.on_message = lambda client, userdata, msg: events.put(msg.topic)
    session = Properties(PacketTypes.CONNECT)
    session.SessionExpiryInterval = 300
    watcher.connect(mosquitto.host, mosquitto.port, clean_start=False, properties=session)
    watcher.subscribe("edge/v1/pub-gw/event/#", qos=1)
    watcher.loop_start()

    def burst(count: int) -> None:
        for i in range(count):
            sink.publish("telemetry/system", envelopes.wrap("edge.telemetry/1", {"i": i}, time.time(), 0.0), False)
        sink.publish("event/issue", envelopes.wrap("edge.issue/1", {"n": count}, time.time(), 0.0), True)

    publisher.start()
    try:
        wait_for(publisher.connected.is_set, timeout_s=10, what="the publisher to connect")
        burst(INFLIGHT_WINDOW * 3)
        wait_for(lambda: outbox.stats().queued_telemetry == 0, timeout_s=20, what="the first burst to drain")
        mosquitto.stop()
        burst(INFLIGHT_WINDOW)  # queued while the broker is down
        mosquitto.start()
        burst(INFLIGHT_WINDOW)
        wait_for(lambda: outbox.stats().queued_events == 0 and outbox.stats().queued_telemetry == 0,
                 timeout_s=30, what="the outbox to drain after the restart")
        assert publisher.published == 5 * INFLIGHT_WINDOW + 3
        got = [events.get(timeout=10) for _ in range(3)]
        assert got == ["edge/v1/pub-gw/event/issue"] * 3
    finally:
        publisher.close()
        watcher.loop_stop()
        watcher.disconnect()


def test_while_a_black_hole_is_open_the_broker_connection_lets_routers_fragment_then_sets_df_again(
        mosquitto, short_tmp: Path):
    from edge_agent.reporting.fragmentation import IP_PMTUDISC_DONT, path_mtu_mode

    publisher = MqttPublisher(MqttSection(enabled=True, host=mosquitto.host, port=mosquitto.port),
                              EnvelopeFactory("df-gw", "site", lambda: True),
                              Outbox(short_tmp / "outbox.sqlite", 5_000_000, "normal"),
                              lambda: (time.monotonic(), time.time()), short_tmp / "session", meta=dict)
    publisher.start()
    try:
        wait_for(publisher.connected.is_set, timeout_s=10, what="the publisher to connect")
        default = path_mtu_mode(publisher.client.socket())
        assert default is not None and default != IP_PMTUDISC_DONT  # Linux TCP sets DF: it wants path MTU discovery
        publisher.let_routers_fragment(True)  # on the live connection at once
        assert path_mtu_mode(publisher.client.socket()) == IP_PMTUDISC_DONT
        mosquitto.stop()
        wait_for(lambda: not publisher.connected.is_set(), timeout_s=10, what="the connection to drop")
        mosquitto.start()
        wait_for(publisher.connected.is_set, timeout_s=30, what="the publisher to reconnect")
        assert path_mtu_mode(publisher.client.socket()) == IP_PMTUDISC_DONT  # and on every new one
        publisher.let_routers_fragment(False)
        assert path_mtu_mode(publisher.client.socket()) == default
    finally:
        publisher.close()
