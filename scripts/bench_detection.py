#!/usr/bin/env python3
"""Detection latency per fault in the namespace test bed, and the CPU cost of one probe round. Needs root.

Usage: sudo .venv/bin/python scripts/bench_detection.py [--runs 10] [--interval 1.0]

The agent runs in the "cpe" namespace with the shipped default hysteresis; for each fault, each run waits
until everything is healthy, injects the fault, and measures the time until the issue is open (from the
agent's own opened_ts, same host clock), then repairs it and waits for the resolution.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))  # the test bed is shared with the tests

from agent_process import Daemon, wait_for  # noqa: E402
from netns import PremisesNetwork, can_build_test_bed  # noqa: E402

CONFIG = """
[agent]
device_id = "bench-gw"
state_dir = "{{state}}"
[control]
socket_path = "{{sock}}"
[premises]
mode = "hardware"
[collectors.system]
enabled = false
[collectors.interfaces]
enabled = false
[collectors.connectivity]
interval_s = {interval}
resolvers = ["{isp_ip}"]
dns_query = "{dns_name}"
uplink_endpoints = ["{uplink}"]
"""

CPU_PER_ROUND = """
import json, time, statistics
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes.network import NetworkProbes
probes = NetworkProbes(ConnectivityCollectorConfig(resolvers=["{isp_ip}"], dns_query="{dns_name}",
                                                   uplink_endpoints=["{uplink}"]))
probes.probe()  # warm: imports, sockets
cpu, wall = [], []
for _ in range({rounds}):
    c, w = time.process_time(), time.perf_counter()
    probes.probe()
    cpu.append(time.process_time() - c); wall.append(time.perf_counter() - w)
print(json.dumps({{"cpu_ms": statistics.median(cpu) * 1000, "wall_ms": statistics.median(wall) * 1000}}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def open_issue(daemon: Daemon, issue_type: str) -> dict | None:
    return next((i for i in daemon.ask_json("issues") if i["type"] == issue_type and i["state"] != "resolved"), None)


def healthy(daemon: Daemon) -> bool:
    return not [i for i in daemon.ask_json("issues") if i["state"] != "resolved"]


def measure(daemon: Daemon, inject, repair, issue_type: str, runs: int, interval: float) -> list[float]:
    latencies = []
    phase = random.Random(7)
    for _ in range(runs):
        wait_for(lambda: healthy(daemon), timeout_s=60, what="a healthy premises")
        time.sleep(phase.uniform(0, interval))  # land the fault anywhere in the probe cycle
        injected = time.time()
        inject()
        try:
            issue = wait_for(lambda: open_issue(daemon, issue_type), timeout_s=60, what=f"{issue_type} to open")
        finally:
            repair()
        latencies.append(issue["opened_ts"] - injected)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    reason = can_build_test_bed()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="ea-bench-", dir="/tmp"))
    bed = PremisesNetwork(root)
    bed.setup()
    try:
        cpu = json.loads(subprocess.run(
            bed.in_cpe(sys.executable, "-c", CPU_PER_ROUND.format(isp_ip=bed.isp_ip, dns_name=bed.dns_name,
                                                                  uplink=bed.uplink, rounds=50)),
            capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        config = CONFIG.format(interval=args.interval, isp_ip=bed.isp_ip, dns_name=bed.dns_name, uplink=bed.uplink)
        daemon = Daemon(root, config_text=config, prefix=tuple(bed.in_cpe()))
        daemon.start()
        faults = [
            ("link down", bed.link_down, bed.link_up, "gateway_unreachable"),
            ("gateway silent", bed.gateway_silent, bed.gateway_answers, "gateway_unreachable"),
            ("DNS frozen", bed.dns_freeze, bed.dns_thaw, "dns_failure"),
            ("uplink blocked", lambda: bed.tcp_blocked(53), bed.clear_firewall, "uplink_down"),
        ]
        try:
            daemon.wait_notify("READY=1", timeout_s=15)
            print(f"probe interval {args.interval:g} s, {args.runs} runs per fault, default hysteresis")
            print(f"{'fault':<16} {'issue':<20} {'median':>8} {'p95':>8} {'p95 / interval':>15}")
            for name, inject, repair, issue_type in faults:
                latencies = measure(daemon, inject, repair, issue_type, args.runs, args.interval)
                median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
                print(f"{name:<16} {issue_type:<20} {median:>7.2f}s {p95:>7.2f}s {p95 / args.interval:>15.2f}")
        finally:
            daemon.stop()
        print(f"one probe round (ICMP x5, ARP, DNS, TCP): {cpu['cpu_ms']:.2f} ms CPU, {cpu['wall_ms']:.2f} ms wall "
              "(median of 50, healthy premises)")
    finally:
        bed.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
