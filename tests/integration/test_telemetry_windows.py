"""The real agent on a real broker with contract v2: events arrive as they happen while telemetry comes batched,
one message per stream family and report window, each valid against the published schema."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import SPEED, Daemon, wait_for
from contract_validation import assert_valid

DEVICE = "edge/v1/itest-gw"
REPORT_INTERVAL_S = 20  # simulated seconds: 2 s of real time at the test's speed


def test_events_arrive_at_once_while_telemetry_is_batched_per_window(mosquitto, short_tmp: Path):
    received: list[tuple[str, dict, float]] = []
    lock = threading.Lock()

    def on_message(client, userdata, msg) -> None:
        with lock:
            received.append((msg.topic.removeprefix(DEVICE + "/"), json.loads(msg.payload), time.time()))

    subscriber = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    subscriber.on_message = on_message
    subscriber.connect(mosquitto.host, mosquitto.port)
    subscriber.subscribe(f"{DEVICE}/#", qos=1)
    subscriber.loop_start()
    extra = (f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n'
             f"[reporting]\nreport_interval_s = {REPORT_INTERVAL_S}\n")
    daemon = Daemon(short_tmp, extra)
    daemon.start()
    try:
        # the scripted interference (5-20 s simulated) opens an issue; then two more windows of telemetry
        wait_for(lambda: any(t == "event/issue" for t, _, _ in received), 20, "an issue event")
        started = time.monotonic()
        wait_for(lambda: time.monotonic() - started > 2.5 * REPORT_INTERVAL_S / SPEED, 20, "two more windows")
    finally:
        daemon.stop()
        subscriber.loop_stop()
        subscriber.disconnect()
    with lock:
        messages = list(received)
    for topic, body, _ in messages:
        assert_valid(f"{DEVICE}/{topic}", body)

    events = [(body, arrived) for topic, body, arrived in messages if topic.startswith("event/")]
    delays = [arrived - body["ts"] for body, arrived in events]
    assert events and max(delays) < 1.0, delays  # far below one report window (2 s real): not held back

    telemetry = [(topic, body) for topic, body, _ in messages if topic.startswith("telemetry/")]
    assert telemetry and {body["schema"] for _, body in telemetry} == {"edge.telemetry/2"}
    per_family = defaultdict(list)
    for topic, body in telemetry:
        per_family[topic].append(body)
    run_s = (max(a for *_, a in messages) - min(a for *_, a in messages)) * SPEED
    for topic, bodies in per_family.items():
        assert len(bodies) <= run_s / REPORT_INTERVAL_S + 2, (topic, len(bodies))  # one message per window
    wifi = per_family["telemetry/wifi"]
    # wifi is sampled every simulated second: one window holds many samples of several subjects
    assert max(len(body["series"]) for body in wifi) >= 2
    assert max(series["n"] for body in wifi for series in body["series"]) >= 5  # (a loaded machine samples less)
