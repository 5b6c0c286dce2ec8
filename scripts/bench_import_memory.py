#!/usr/bin/env python3
"""Where the agent's resident memory goes before it does anything: RSS added by importing each library it loads
and by building its config records, each measured in a fresh interpreter (so one's cost is not hidden in another's).

Usage: .venv/bin/python scripts/bench_import_memory.py [--runs 3]

Each row imports its modules on top of what the rows above it imported (in this order), in a new process, and
prints the VmRSS it added (median of --runs). The last row is the agent's whole process as the daemon imports it
(simulated premises, camera and MQTT included) with nothing started.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, statements run after the previous rows' statements)
STEPS = [
    ("the config records (edge_agent.config with edge_agent.schema, validated once)",
     "import edge_agent.config as c; c.AgentConfig.model_validate({})"),
    ("numpy", "import numpy"),
    ("paho-mqtt and psutil", "import paho.mqtt.client, psutil"),
    ("the agent's own modules (daemon, simulated premises, camera)",
     "import edge_agent.agent.daemon, edge_agent.sim.runner, edge_agent.camera.replay, "
     "edge_agent.detectors.camera_health"),
]

PROBE = """
import json, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before_steps, step = {before!r}, {step!r}
for statement in before_steps:
    exec(statement)
start = rss()
exec(step)
print(json.dumps({{"start": start, "added": rss() - start}}))
"""


def measure(before: list[str], step: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE.format(before=before, step=step)], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print("| what is imported | RSS added, MiB (median) |\n|---|---|")
    done: list[str] = []
    total = None
    for label, step in STEPS:
        results = [measure(done, step) for _ in range(runs)]
        if total is None:
            total = statistics.median(r["start"] for r in results)
            print(f"| the interpreter itself | {total:.1f} |")
        added = statistics.median(r["added"] for r in results)
        total += added
        print(f"| {label} | {added:.1f} |")
        done.append(step)
    print(f"| **all of it** | **{total:.1f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
