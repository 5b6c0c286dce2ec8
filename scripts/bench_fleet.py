#!/usr/bin/env python3
"""Fleet-side throughput: the watcher's own work in process, and a fleet of simulated devices through mosquitto into
a PostgreSQL fleet store with 1, 2 and 4 shared-subscription watchers.

Usage: .venv/bin/python scripts/bench_fleet.py [--devices 1000] [--windows 10] [--watchers 1 2 4] [--rate R]
       [--durable]

1. In process: FleetState.ingest on pre-built messages (v2 telemetry, status, issue stories): validation, dedup
   and aggregation without the network. Median of --repeats.
2. Through mosquitto into PostgreSQL: --devices lightweight devices, each its own MQTT connection (a raw MQTT 3.1.1
   client, QoS 1, its device id as client id), spread over two publisher processes; each sends its birth, --windows
   v2 telemetry windows and, for every fourth device, one issue story (with its actions), as fast as PUBACKs come
   back or paced at --rate messages/s in all, and 1 % of its messages a second time (a device resending after a
   lost PUBACK). N `edge-agent fleet watch --share bench --store postgresql://... --json` processes share the
   subscription. A throwaway PostgreSQL cluster (own port, temp dir, stopped by PID; fsync on with --durable) gets
   a fresh database per run. Reported per run: messages/s stored (all watchers, and per watcher), end-to-end lag
   (a telemetry message's publish time → committed in the store: median, p99, max), loss (unique messages sent − stored)
   and duplicates (stored twice: impossible by the primary key, so checked as telemetry rows against series sent
   and the watchers' stored counts against the unique messages), and the report from the store against the fleet's
   known issue outcomes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import selectors
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from edge_agent.fleet.report import report_from_store
from edge_agent.fleet.state import FleetState
from edge_agent.fleet.synthetic import STORIES, SyntheticIssue, story_messages, telemetry_message
from edge_agent.reporting.envelope import SCHEMA_STATUS, EnvelopeFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
from conftest import Broker, mosquitto_binary  # noqa: E402
from postgres_cluster import PostgresCluster, why_no_postgres  # noqa: E402

PUBLISHERS = 2
RESEND_EVERY = 100  # 1 % of messages are sent twice
SERIES_PER_WINDOW = 2  # synthetic.telemetry_message(v2=True) carries two subjects


# A device: its messages as (topic, payload) built when sent, so `ts` is the publish time.

def device_messages(number: int, windows: int, story_of: dict[int, str]) -> list[tuple[str, dict]]:
    device_id = f"bench-{number:05d}"
    factory = EnvelopeFactory(device_id, "bench", lambda: True)
    now = time.time()
    out = [("status", factory.wrap_presence(SCHEMA_STATUS, {"state": "online", "reason": "connected", "session": 1},
                                            now, 0.0))]
    out += [telemetry_message(factory, now + n, v2=True) for n in range(windows)]
    if number in story_of:
        issue = SyntheticIssue(factory, "dns_slow", now)
        out += story_messages(story_of[number], issue)
    return [(f"edge/v1/{device_id}/{topic}", message) for topic, message in out]


def stories(devices: int) -> dict[int, str]:
    names = sorted(STORIES)
    return {n: names[(n // 4) % len(names)] for n in range(0, devices, 4)}


# A raw MQTT 3.1.1 client: one socket per device, QoS 1, PUBACKs counted, nothing else.

def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str) -> bytes:
    body = _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 600) + _string(client_id)
    return b"\x10" + _length(len(body)) + body


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    body = _string(topic) + struct.pack("!H", packet_id) + payload
    return b"\x32" + _length(len(body)) + body


def publisher(port: int, numbers: list[int], windows: int, story_of: dict[int, str], start: multiprocessing.Event,
              results: multiprocessing.Queue, rate: float) -> None:
    """Connect every device, wait for the start, then publish each device's messages round-robin (at `rate`
    messages/s from this process, or as fast as possible with 0) and count the PUBACKs; put (unique messages
    sent, messages sent, telemetry series sent, PUBACKs, end time) on `results`."""
    sockets = {}
    for number in numbers:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(connect_packet(f"bench-{number:05d}"))
        if sock.recv(4)[:2] != b"\x20\x02":
            raise RuntimeError("no CONNACK")
        sock.setblocking(False)
        sockets[number] = sock
    plans = {n: device_messages(n, windows, story_of) for n in numbers}
    selector = selectors.DefaultSelector()
    for sock in sockets.values():
        selector.register(sock, selectors.EVENT_READ)
    start.wait()
    began = time.time()
    sent = unique = series = 0
    acked = 0
    step = 0
    while any(step < len(plan) for plan in plans.values()):
        for number, plan in plans.items():
            if step >= len(plan):
                continue
            topic, message = plan[step]
            if rate and (ahead := began + unique / rate - time.time()) > 0:
                time.sleep(ahead)
            if "series" in message:  # telemetry: its publish time, the lag is measured from here (events keep
                message["ts"] = round(time.time(), 3)  # their story's own clock, which the outcomes depend on)
            payload = json.dumps(message).encode()
            copies = 2 if (number + step) % RESEND_EVERY == 0 else 1
            for copy in range(copies):
                packet_id = (2 * step + copy) % 65535 + 1
                sockets[number].setblocking(True)
                sockets[number].sendall(publish_packet(topic, payload, packet_id))
                sockets[number].setblocking(False)
            sent += copies
            unique += 1
            series += len(message.get("series", ()))
        step += 1
        acked += _read_acks(selector, 0)
    deadline = time.monotonic() + 120
    while acked < sent and time.monotonic() < deadline:
        acked += _read_acks(selector, 0.5)
    for sock in sockets.values():
        sock.setblocking(True)
        sock.sendall(b"\xe0\x00")  # DISCONNECT
        sock.close()
    results.put((unique, sent, series, acked, time.time()))


def _read_acks(selector: selectors.BaseSelector, timeout: float) -> int:
    acks = 0
    for key, _ in selector.select(timeout):
        try:
            data = key.fileobj.recv(65536)
        except BlockingIOError:
            continue
        acks += len(data) // 4  # PUBACK is 4 bytes; nothing else comes to a publisher
    return acks


# The watchers and the store.

class Watcher:
    def __init__(self, port: int, url: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "fleet", "watch", "--broker", f"127.0.0.1:{port}", "--share",
             "bench", "--json", "--store", url, "--duration", "900"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        if not line.startswith("edge-agent: watching"):
            raise RuntimeError(f"watcher did not start: {line}{self.process.stderr.read()}")
        self.events = 0
        self.last = ""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.events += 1
            self.last = line

    def stop(self) -> dict:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        return json.loads(self.last)["summary"]


def fresh_database(cluster: PostgresCluster) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


def store_timing(url: str) -> tuple[int, int, float, list[float]]:
    import psycopg

    with psycopg.connect(url) as db:
        messages, telemetry = (db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("messages", "telemetry"))
        last = db.execute("SELECT MAX(stored_ts) FROM messages").fetchone()[0]
        lags = [row[0] for row in db.execute("SELECT stored_ts - ts FROM messages WHERE topic LIKE 'telemetry/%'")]
    return messages, telemetry, last, lags


def run(port: int, cluster: PostgresCluster, devices: int, windows: int, watchers: int, rate: float) -> dict:
    url = fresh_database(cluster)
    story_of = stories(devices)
    watching = [Watcher(port, url) for _ in range(watchers)]
    start = multiprocessing.Event()
    results: multiprocessing.Queue = multiprocessing.Queue()
    numbers = list(range(devices))
    procs = [multiprocessing.Process(target=publisher, args=(port, numbers[n::PUBLISHERS], windows, story_of, start,
                                                             results, rate / PUBLISHERS)) for n in range(PUBLISHERS)]
    for proc in procs:
        proc.start()
    time.sleep(2.0 + devices / 500)  # every device connected
    began = time.time()
    start.set()
    totals = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join()
    unique, sent, series, acked = (sum(t[i] for t in totals) for i in range(4))
    published = max(t[4] for t in totals) - began
    deadline = time.monotonic() + 120
    while store_timing(url)[0] < unique and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(1.0)
    summaries = [w.stop() for w in watching]
    stored, telemetry_rows, last, lags = store_timing(url)
    elapsed = last - began
    kpis = report_from_store(url).kpis()
    truth = Counter(STORIES[s][0] for s in story_of.values())
    lags.sort()
    return {
        "devices": devices, "watchers": watchers, "offered_msg_per_s": rate or "max",
        "load_average_1m": round(os.getloadavg()[0], 1), "unique": unique, "sent": sent, "acked": acked,
        "stored": stored, "lost": unique - stored,
        "stored_by_watchers": [s["stored"] for s in summaries],
        "duplicates_stored": sum(s["stored"] for s in summaries) - stored,
        "telemetry_rows": telemetry_rows, "series_sent": series,
        "publish_s": round(published, 2), "seconds": round(elapsed, 2), "msg_per_s": round(stored / elapsed),
        "msg_per_s_per_watcher": round(stored / elapsed / watchers),
        "lag_ms": {"median": round(1000 * statistics.median(lags)), "p99": round(1000 * lags[int(len(lags) * 0.99)]),
                   "max": round(1000 * lags[-1])},
        "report_matches_truth": kpis["outcomes"] == {c: truth[c] for c in kpis["outcomes"]},
    }


def in_process(devices: int, windows: int, repeats: int) -> tuple[int, float]:
    story_of = stories(devices)
    messages = [(topic, json.dumps(m).encode()) for n in range(devices)
                for topic, m in device_messages(n, windows, story_of)]
    rates = []
    for _ in range(repeats):
        state = FleetState()
        start = time.perf_counter()
        for topic, payload in messages:
            state.ingest(topic, payload, 0.0)
        rates.append(len(messages) / (time.perf_counter() - start))
        assert state.invalid == 0, state.last_invalid
    return len(messages), statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--windows", type=int, default=10, help="v2 telemetry windows per device")
    parser.add_argument("--watchers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--durable", action="store_true", help="PostgreSQL with fsync and synchronous commit on")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offered load in messages/s over all devices (default: as fast as PUBACKs allow)")
    args = parser.parse_args()
    count, rate = in_process(args.devices, args.windows, args.repeats)
    print(f"in process (validate + dedup + aggregate), {count} messages: {rate:,.0f} msg/s")
    reason = why_no_postgres()
    binary = mosquitto_binary()
    if reason or binary is None:
        print(f"skipping the broker and store runs: {reason or 'mosquitto is not installed'}")
        return
    root = Path(tempfile.mkdtemp(prefix="ea-fleet-bench-", dir="/tmp"))
    # The tests' broker launcher: its own port and config, stopped by PID. Unlimited queues: a watcher that
    # falls behind must not make the broker drop messages (QoS 1).
    broker = Broker(binary, root, ["allow_anonymous true", "persistence false", "max_queued_messages 0",
                                   "max_inflight_messages 100"])
    cluster = PostgresCluster(durable=args.durable)
    broker.start()
    try:
        cluster.start()
        print(f"PostgreSQL {'durable (fsync on)' if args.durable else 'fsync off'}; {args.devices} devices, "
              f"{PUBLISHERS} publisher processes, each device its own MQTT connection")
        for watchers in args.watchers:
            print(json.dumps(run(broker.port, cluster, args.devices, args.windows, watchers, args.rate)), flush=True)
    finally:
        cluster.stop()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
