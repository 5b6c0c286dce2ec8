#!/usr/bin/env python3
"""How the shipped loss and uplink rules judge simulated fault episodes: how often an issue opens for loss below
the limit, and how often one episode near the limit becomes two issues (resolved mid-fault, opened again).

Usage: .venv/bin/python scripts/bench_loss_episodes.py [--episodes 200]

Each episode: 60 clean rounds, the fault for 120 rounds (gateway: 5 pings a round, each lost with the rate;
uplink: 240 rounds, one connection a round failing with the rate), 60 clean rounds; probes every second, the
shipped thresholds, open_after = resolve_after = 3 and a 30 s hold-down. Pure simulation (seeded), no network:
the namespace bed's grid is scripts/bench_fault_variants.py.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from edge_agent.config import ConnectivityThresholds  # noqa: E402
from edge_agent.detectors.connectivity import ConnectivityRules  # noqa: E402
from edge_agent.detectors.gateway_quality import GatewayQuality  # noqa: E402
from edge_agent.issues import IssueTracker  # noqa: E402
from edge_agent.model import Sample  # noqa: E402


def opened(detector, samples: list[Sample]) -> list[str]:
    tracker = IssueTracker(open_after=3, resolve_after=3, hold_down_s=30)
    return [e.body["type"] for s in samples for f in detector.evaluate(s)
            for e in tracker.observe(f, s.mono, s.ts) if e.change == "opened"]


def gateway_episode(rate: float, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for i in range(240):
        lost = sum(rng.random() < rate for _ in range(5)) if 60 <= i < 180 else 0
        metrics = {"sent": 5, "received": max(1, 5 - lost), "rtt_ms": 2.0, "jitter_ms": 0.2}
        samples.append(Sample("connectivity.gateway", "gw", metrics, float(i), float(i)))
    return samples


def uplink_episode(rate: float, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for i in range(360):
        failed = 60 <= i < 300 and rng.random() < rate
        metrics = {"ok": not failed, "connect_ms": None if failed else 20.0, "error": "timeout" if failed else None}
        samples.append(Sample("connectivity.uplink", "broker:8883", metrics, float(i), float(i)))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    n = parser.parse_args().episodes
    t = ConnectivityThresholds()
    print(f"{n} episodes each; gateway loss limit {t.gateway_loss_pct_max:g} %, uplink failure limit "
          f"{t.uplink_failure_pct_max:g} %")
    print("| fault | rate | packet_loss opened | any issue | two issues or more |\n|---|---|---|---|---|")
    for rate in (0.03, 0.05, 0.08, 0.10, 0.15, 0.25, 0.40):
        runs = [opened(GatewayQuality(t), gateway_episode(rate, seed)) for seed in range(n)]
        print(f"| gateway loss | {rate:.0%} | {sum('gateway_packet_loss' in r for r in runs) / n:.1%} | "
              f"{sum(bool(r) for r in runs) / n:.1%} | {sum(len(r) > 1 for r in runs) / n:.1%} |")
    for rate in (0.10, 0.15, 0.20):
        runs = [opened(ConnectivityRules(t), uplink_episode(rate, seed)) for seed in range(n)]
        print(f"| uplink failures | {rate:.0%} | – | {sum(bool(r) for r in runs) / n:.1%} | "
              f"{sum(len(r) > 1 for r in runs) / n:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
