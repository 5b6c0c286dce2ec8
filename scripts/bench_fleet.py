#!/usr/bin/env python3
"""Fleet-watch throughput: messages validated and aggregated per second, in process and through a broker.

Usage: .venv/bin/python scripts/bench_fleet.py [--devices 50] [--messages 20000] [--repeats 3]

1. In process: FleetState.ingest on pre-built messages of simulated devices (telemetry, status, issue events),
   the watcher's own work without the network. Median of --repeats.
2. Through mosquitto: 1, 2 and 4 `edge-agent fleet watch --share bench --json` processes; a publisher sends
   --messages messages as fast as QoS 1 allows; each watcher's count comes from its JSON lines. The rate is
   messages over the time from the first publish to the last message seen by any watcher.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from edge_agent.fleet.state import FleetState
from edge_agent.reporting.envelope import EnvelopeFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from conftest import Broker, mosquitto_binary  # noqa: E402


def build_messages(devices: int, count: int) -> list[tuple[str, bytes]]:
    factories = [EnvelopeFactory(f"sim-{d:04d}", "bench", lambda: True) for d in range(devices)]
    messages = []
    for n in range(count):
        device = n % devices
        factory, device_id = factories[device], f"sim-{device:04d}"
        if n % 50 == 0:
            body = {"change": "opened", "issue_id": f"i{n}", "type": "wifi_interference", "subject": "wlan0",
                    "severity": "warning", "state": "open", "summary": "busy", "evidence": {"busy_ratio": 0.7},
                    "guidance": "move channel", "detector": "rules.wifi", "opened_ts": 1.0, "updated_ts": 1.0,
                    "resolved_ts": None, "transitions": []}
            topic, message = "event/issue", factory.wrap("edge.issue/1", body, 1.0, 1.0)
        elif n % 50 == 1:
            topic = "status"
            message = factory.wrap("edge.status/1", {"state": "online", "reason": "connected", "session": 1}, 1.0, 1.0)
        else:
            body = {"stream": "wifi.radio", "subject": "wlan0",
                    "metrics": {"channel": 6, "busy_ratio": 0.2, "noise_dbm": -95.0, "station_count": 3}}
            topic, message = "telemetry/wifi", factory.wrap("edge.telemetry/1", body, 1.0, 1.0)
        messages.append((f"edge/v1/{device_id}/{topic}", json.dumps(message).encode()))
    return messages


def in_process(messages: list[tuple[str, bytes]], repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        state = FleetState()
        start = time.perf_counter()
        for topic, payload in messages:
            state.ingest(topic, payload, 0.0)
        rates.append(len(messages) / (time.perf_counter() - start))
        assert state.invalid == 0
    return statistics.median(rates)


def through_broker(messages: list[tuple[str, bytes]], port: int, watchers: int) -> tuple[float, list[int]]:
    procs = [subprocess.Popen([sys.executable, "-m", "edge_agent", "fleet", "watch", "--broker", f"127.0.0.1:{port}",
                               "--share", "bench", "--json", "--duration", "600"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for _ in range(watchers)]
    counts = [0] * watchers
    last_seen = [0.0]
    lock = threading.Lock()

    def count(index: int, proc: subprocess.Popen) -> None:
        for _ in proc.stdout:
            with lock:
                counts[index] += 1
                last_seen[0] = time.perf_counter()

    readers = [threading.Thread(target=count, args=(i, p), daemon=True) for i, p in enumerate(procs)]
    for reader in readers:
        reader.start()
    time.sleep(1.5)  # the watchers subscribe
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.max_inflight_messages_set(1000)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    start = time.perf_counter()
    pending = []
    for topic, payload in messages:
        if len(pending) >= 10_000:  # paho's message ids wrap at 65535
            pending.pop(0).wait_for_publish()
        pending.append(publisher.publish(topic, payload, qos=1))
    for info in pending:
        info.wait_for_publish()
    deadline = time.monotonic() + 120
    while sum(counts) < len(messages) and time.monotonic() < deadline:
        time.sleep(0.05)
    publisher.disconnect()
    publisher.loop_stop()
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)
    total = sum(counts)
    assert total == len(messages), f"watchers saw {total} of {len(messages)} messages"
    return total / (last_seen[0] - start), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    messages = build_messages(args.devices, args.messages)
    print(f"{args.messages} messages from {args.devices} simulated devices (96 % telemetry, 2 % status, 2 % issues)")
    print(f"in process (validate + dedup + aggregate): {in_process(messages, args.repeats):,.0f} msg/s")
    root = Path(tempfile.mkdtemp(prefix="ea-bench-", dir="/tmp"))
    # The tests' broker launcher: its own port and config, stopped by PID.
    broker = Broker(mosquitto_binary(), root, ["allow_anonymous true", "persistence false", "max_queued_messages 0"])
    broker.start()
    port = broker.port
    try:
        for watchers in (1, 2, 4):
            rate, counts = through_broker(messages, port, watchers)
            print(f"through mosquitto, {watchers} watcher(s) --share: {rate:,.0f} msg/s in all; per watcher {counts}")
    finally:
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
