#!/usr/bin/env python3
"""Outbox drain rate against a bare paho QoS 1 loop, to a local mosquitto, in the same run.

Usage: .venv/bin/python scripts/bench_outbox.py [--sizes 1000,10000,100000] [--repeats 3]

For each N: (a) bare paho: publish N QoS 1 messages and wait for every PUBACK (no outbox: the ceiling);
(b) outbox: N events are queued while no broker connection exists, then the MqttPublisher starts and the
time until the outbox is empty is measured. A subscriber counts what arrives in both cases (zero loss check).
Prints medians in messages/s and the ratio outbox/bare.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import paho.mqtt.client as mqtt

from edge_agent.config import MqttSection
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.mqtt import MqttPublisher
from edge_agent.reporting.outbox import Outbox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from conftest import Broker, mosquitto_binary  # noqa: E402

PAYLOAD_BYTES = 400  # about the size of an issue event


class Counter:
    """Subscribes to a topic filter and counts distinct message ids."""

    def __init__(self, port: int, topic: str):
        self.ids: set[str] = set()
        self.lock = threading.Lock()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        time.sleep(0.2)

    def _on_message(self, client, userdata, msg) -> None:
        message_id = json.loads(msg.payload).get("id")
        with self.lock:
            self.ids.add(message_id)

    def wait_for(self, n: int, timeout_s: float = 120) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(self.ids) < n:
            time.sleep(0.01)
        return len(self.ids)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def payload(i: int) -> bytes:
    body = {"id": f"m{i:09d}", "schema": "edge.issue/1", "seq": i}
    text = json.dumps(body)
    return (text[:-1] + ', "pad": "' + "x" * (PAYLOAD_BYTES - len(text) - 11) + '"}').encode()


def bare_paho(port: int, n: int) -> float:
    counter = Counter(port, "bench/bare/#")
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(200)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    pending: deque = deque()
    for i in range(n):
        # paho's message ids wrap at 65535: keep fewer than that outstanding
        if len(pending) >= 10_000:
            pending.popleft().wait_for_publish()
        pending.append(client.publish("bench/bare/x", payload(i), qos=1))
    for info in pending:
        info.wait_for_publish()
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    received = counter.wait_for(n)
    counter.close()
    assert received == n, f"bare paho lost {n - received} of {n}"
    return n / elapsed


def outbox_drain(port: int, n: int, root: Path) -> float:
    path = root / f"outbox-{n}-{time.monotonic_ns()}.sqlite"
    filler = Outbox(path, max_bytes=10**10, sync="normal")
    filler._db.execute("BEGIN")  # queueing is not what is measured: fill in one transaction
    for i in range(n):
        filler.put("event", "event/issue", payload(i), qos=1)
    filler._db.execute("COMMIT")
    filler.close()

    counter = Counter(port, "bench/out/+/event/#")
    outbox = Outbox(path, max_bytes=10**10, sync="full")
    envelopes = EnvelopeFactory("dev1", "site", lambda: True)
    config = MqttSection(enabled=True, host="127.0.0.1", port=port, topic_prefix="bench/out", keepalive_s=60)
    publisher = MqttPublisher(config, envelopes, outbox, lambda: (time.monotonic(), time.time()), root / "session")
    start = time.perf_counter()
    publisher.start()
    while publisher.published < n:  # counts PUBACKed-and-deleted messages; cheaper to poll than the table
        time.sleep(0.005)
    elapsed = time.perf_counter() - start
    received = counter.wait_for(n)
    publisher.close()
    outbox.close()
    counter.close()
    assert received == n, f"outbox lost {n - received} of {n}"
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ea-bench-", dir="/tmp"))
    # The tests' broker launcher: its own port and config, stopped by PID.
    broker = Broker(mosquitto_binary(), root, ["allow_anonymous true", "persistence false", "max_queued_messages 0"])
    broker.start()
    port = broker.port
    try:
        print(f"{'N':>8}  {'bare paho msg/s':>16}  {'outbox msg/s':>13}  {'ratio':>6}  {'outbox time to empty':>20}")
        for n in (int(s) for s in args.sizes.split(",")):
            bare = [bare_paho(port, n) for _ in range(args.repeats)]
            drained = [outbox_drain(port, n, root) for _ in range(args.repeats)]
            b, o = statistics.median(bare), statistics.median(drained)
            print(f"{n:>8}  {b:>16,.0f}  {o:>13,.0f}  {o / b:>6.2f}  {n / o:>18.2f} s")
    finally:
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
