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
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from edge_agent.config import ConnectivityThresholds  # noqa: E402
from edge_agent.detectors.connectivity import ConnectivityRules  # noqa: E402
from edge_agent.detectors.gateway_quality import GatewayQuality  # noqa: E402
from edge_agent.issues import IssueTracker  # noqa: E402
from edge_agent.model import Sample  # noqa: E402


def changes(detector, samples: list[Sample]) -> list[tuple[str, str, float]]:
    """Every issue event of the episode: (change, type, mono)."""
    tracker = IssueTracker(open_after=3, resolve_after=3, hold_down_s=30)
    return [(e.change, e.body["type"], s.mono) for s in samples for f in detector.evaluate(s)
            for e in tracker.observe(f, s.mono, s.ts)]


def opened(detector, samples: list[Sample]) -> list[str]:
    return [kind for change, kind, _ in changes(detector, samples) if change == "opened"]


def repair_rounds(events: list[tuple[str, str, float]], repaired_at: float) -> float | None:
    """Rounds from the repair to the all-clear of the issue still open then (None: nothing was open)."""
    after = [mono for change, _, mono in events if change == "resolved" and mono >= repaired_at]
    return after[0] - repaired_at + 1 if after else None


def gateway_episode(rate: float, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for i in range(240):
        lost = sum(rng.random() < rate for _ in range(5)) if 60 <= i < 180 else 0
        metrics = {"sent": 5, "received": max(1, 5 - lost), "rtt_ms": 2.0, "jitter_ms": 0.2}
        samples.append(Sample("connectivity.gateway", "gw", metrics, float(i), float(i)))
    return samples


UPLINK_REPAIRED_AT = 300


def uplink_episode(rate: float, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    samples = []
    for i in range(360):
        failed = 60 <= i < UPLINK_REPAIRED_AT and rng.random() < rate
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
    print("\n| fault | rate | any issue | `uplink_unreliable` opened twice | `uplink_down` at the onset besides | "
          "rounds from repair to all-clear (median, max) |\n|---|---|---|---|---|---|")
    for rate in (0.10, 0.15, 0.20, 0.25, 0.40, 0.60):
        runs = [changes(ConnectivityRules(t), uplink_episode(rate, seed)) for seed in range(n)]
        kinds = [[kind for change, kind, _ in r if change == "opened"] for r in runs]
        repairs = [d for d in (repair_rounds(r, UPLINK_REPAIRED_AT) for r in runs) if d is not None]
        latency = f"{statistics.median(repairs):.0f}, {max(repairs):.0f}" if repairs else "–"
        print(f"| uplink failures | {rate:.0%} | {sum(bool(k) for k in kinds) / n:.1%} | "
              f"{sum(k.count('uplink_unreliable') > 1 for k in kinds) / n:.1%} | "
              f"{sum('uplink_down' in k for k in kinds) / n:.1%} | {latency} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
