#!/usr/bin/env python3
"""Bytes per device per day on the broker: telemetry contract v1 and v2 side by side, in the same run.

Usage: .venv/bin/python scripts/bench_bandwidth.py [--hours 2] [--speed 40] [--report-interval S]

Two agents run at once on the simulated premises with the same seed, faults and (default) settings, one with
`[reporting] contract = "v1"`, one with "v2", both on one mosquitto of our own (a free port, a temp dir, stopped
by PID). Simulated time runs --speed times faster; the fault timeline (a two-hour cycle, healthy most of the
time: interference, a DNS outage, an unplugged cable, a weak station, uplink loss) repeats. A subscriber counts
every PUBLISH the broker delivers per device and stream, as bytes on the wire (fixed header, topic, packet id,
MQTT v5 property length and payload); per day is scaled from the simulated time the messages span. Events
(event/issue, event/action) are counted with their delay: arrival minus the real wall clock in their envelope.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from edge_agent.local_broker import LocalBroker, mosquitto_binary  # noqa: E402

DAY_S = 86_400
CONTRACTS = ("v1", "v2")

# The shipped defaults except what a bench on simulated premises needs: ids, places, the broker, a fault mix.
AGENT_CONFIG = """
[agent]
device_id = "bench-{contract}"
site_id = "bench"
state_dir = "{root}/state"
log_level = "warning"
[control]
socket_path = "{root}/ctl.sock"
[premises]
mode = "simulated"
[simulation]
seed = 7
cycle_s = 7200
{faults}
[remediation]
default_mode = "auto"
manual_mode = "auto"
[models.vision]
enabled = true
[reporting]
contract = "{contract}"
outbox_sync = "normal"
{reporting}
[mqtt]
enabled = true
host = "127.0.0.1"
port = {port}
"""

# (kind, start_s, end_s, extra) within each two-hour cycle: about 25 minutes of faults, the rest healthy.
FAULTS = [
    ("interference", 600, 900, "channel = 6\nlevel = 0.55"),
    ("dns_down", 2400, 2700, ""),
    ("cable_unplugged", 3600, 3720, ""),
    ("weak_station", 4800, 5100, ""),
    ("uplink_loss", 6000, 6300, "level = 0.3"),
]


def faults_toml() -> str:
    blocks = []
    for kind, start, end, extra in FAULTS:
        blocks.append(f'[[simulation.faults]]\nkind = "{kind}"\nstart_s = {start}\nend_s = {end}\n{extra}\n')
    return "\n".join(blocks)


def publish_size(topic: str, payload: bytes, qos: int) -> int:
    """An MQTT v5 PUBLISH packet without properties: what the message costs on the wire."""
    remaining = 2 + len(topic.encode()) + (2 if qos else 0) + 1 + len(payload)
    length_bytes = 1 if remaining < 128 else 2 if remaining < 16_384 else 3 if remaining < 2_097_152 else 4
    return 1 + length_bytes + remaining


class Tally:
    """What the broker delivered, per device and stream; events with their delay."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bytes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.messages: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.sim_span: dict[str, list[float]] = {}
        self.event_delays: dict[str, list[float]] = defaultdict(list)
        self.event_ids: dict[str, set[str]] = defaultdict(set)

    def on_message(self, client, userdata, msg) -> None:
        received = time.time()
        parts = msg.topic.split("/")
        if len(parts) < 4 or msg.retain:
            return  # retained presence from before this run
        device, stream = parts[2], "/".join(parts[3:5]) if parts[3] in ("telemetry", "event") else parts[3]
        body = json.loads(msg.payload)
        with self.lock:
            self.bytes[device][stream] += publish_size(msg.topic, msg.payload, msg.qos)
            self.messages[device][stream] += 1
            sim_ts = body.get("sim_ts")
            if sim_ts is not None:
                span = self.sim_span.setdefault(device, [sim_ts, sim_ts])
                span[0], span[1] = min(span[0], sim_ts), max(span[1], sim_ts)
            if stream.startswith("event/") and body["id"] not in self.event_ids[device]:
                self.event_ids[device].add(body["id"])
                self.event_delays[device].append(received - body["ts"])


def run(args: argparse.Namespace) -> dict:
    binary = mosquitto_binary()
    if binary is None:
        raise SystemExit("mosquitto is not installed (apt install mosquitto)")
    root = Path(tempfile.mkdtemp(prefix="ea-bw-", dir="/tmp"))
    broker = LocalBroker(binary, root, name="mosquitto-bw")
    broker.start()
    tally = Tally()
    subscriber = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bandwidth",
                             protocol=mqtt.MQTTv5)
    subscriber.on_message = tally.on_message
    subscriber.connect("127.0.0.1", broker.port)
    subscriber.subscribe("edge/v1/+/#", qos=1)
    subscriber.loop_start()
    agents: list[subprocess.Popen] = []
    reporting = f"report_interval_s = {args.report_interval}" if args.report_interval else ""
    try:
        for contract in CONTRACTS:
            agent_root = root / contract
            agent_root.mkdir()
            config = agent_root / "agent.toml"
            config.write_text(AGENT_CONFIG.format(contract=contract, root=agent_root, port=broker.port,
                                                  faults=faults_toml(), reporting=reporting))
            agents.append(subprocess.Popen(
                [sys.executable, "-m", "edge_agent", "run", "--simulate", "--config", str(config), "--speed",
                 str(args.speed)], stdout=subprocess.DEVNULL, stderr=open(agent_root / "stderr", "w")))
        deadline = time.monotonic() + args.hours * 3600 / args.speed
        while time.monotonic() < deadline:
            for contract, agent in zip(CONTRACTS, agents, strict=True):
                if agent.poll() is not None:
                    raise SystemExit(f"the {contract} agent exited early: "
                                     f"{(root / contract / 'stderr').read_text()[-2000:]}")
            time.sleep(1.0)
    finally:
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
        for agent in agents:
            try:
                agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                agent.kill()
        time.sleep(1.0)  # the last messages reach the subscriber
        subscriber.loop_stop()
        subscriber.disconnect()
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)
    return summarise(tally)


def summarise(tally: Tally) -> dict:
    result = {}
    for contract in CONTRACTS:
        device = f"bench-{contract}"
        low, high = tally.sim_span.get(device, [0.0, 0.0])
        span = max(high - low, 1.0)
        scale = DAY_S / span
        delays = sorted(tally.event_delays[device]) or [float("nan")]
        result[contract] = {
            "sim_hours": span / 3600,
            "streams": {stream: (tally.messages[device][stream] * scale, count * scale)
                        for stream, count in tally.bytes[device].items()},
            "bytes_per_day": sum(tally.bytes[device].values()) * scale,
            "messages_per_day": sum(tally.messages[device].values()) * scale,
            "events": len(tally.event_ids[device]),
            "event_delay_ms": {"median": 1000 * statistics.median(delays),
                               "p95": 1000 * delays[int(0.95 * (len(delays) - 1))], "max": 1000 * delays[-1]},
        }
    return result


def print_table(result: dict, args: argparse.Namespace) -> None:
    v1, v2 = result["v1"], result["v2"]
    print(f"{v1['sim_hours']:.2f} simulated hours (v1), {v2['sim_hours']:.2f} (v2), at {args.speed:g}x; scaled to "
          "one day. Bytes: MQTT PUBLISH packets as delivered by the broker.\n")
    print(f"{'stream':<24}{'v1 msgs/day':>13}{'v1 bytes/day':>15}{'v2 msgs/day':>13}{'v2 bytes/day':>15}")
    for stream in sorted(set(v1["streams"]) | set(v2["streams"])):
        a = v1["streams"].get(stream, (0, 0))
        b = v2["streams"].get(stream, (0, 0))
        print(f"{stream:<24}{a[0]:>13,.0f}{a[1]:>15,.0f}{b[0]:>13,.0f}{b[1]:>15,.0f}")
    print(f"{'total':<24}{v1['messages_per_day']:>13,.0f}{v1['bytes_per_day']:>15,.0f}"
          f"{v2['messages_per_day']:>13,.0f}{v2['bytes_per_day']:>15,.0f}")
    print(f"\nMB/day/device: v1 {v1['bytes_per_day'] / 1e6:.2f}, v2 {v2['bytes_per_day'] / 1e6:.2f} "
          f"({v1['bytes_per_day'] / max(v2['bytes_per_day'], 1):.0f}x less)")
    for contract in CONTRACTS:
        r = result[contract]
        d = r["event_delay_ms"]
        print(f"{contract}: {r['events']} events delivered, delay median {d['median']:.0f} ms, p95 {d['p95']:.0f} ms, "
              f"max {d['max']:.0f} ms (real time)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0, help="simulated hours (one fault cycle is 2)")
    parser.add_argument("--speed", type=float, default=10.0, help="simulated time x real time (at most 1000)")
    parser.add_argument("--report-interval", type=float, help="[reporting] report_interval_s (default: shipped)")
    parser.add_argument("--json", action="store_true", help="the result as JSON")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
