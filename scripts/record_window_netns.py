#!/usr/bin/env python3
"""Record real probe rounds for the window classifier in the namespace test bed (tests/integration/netns.py:
real kernel links, real dnsmasq): the agent's own connectivity probes every second through a sequence of
phases (healthy, 15 % loss on the link, a bufferbloated link, resolver frozen), written as JSON lines of what
the window classifier reads (time, gateway and DNS metrics, phase). Root only; everything is torn down.

    sudo nice .venv/bin/python scripts/record_window_netns.py --out tests/data/window_replay/netns_1s.jsonl

tests/unit/ml/test_window_replay.py replays the recording through the shipped model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from netns import PremisesNetwork, built, can_build_test_bed  # noqa: E402

PHASES = ("healthy", "loss_15pct", "congested", "dns_frozen")

# Runs in the cpe namespace: the agent's real probes, one round a second, one JSON line a round.
PROBER = """
import json, sys, time
from edge_agent.collectors.connectivity import ConnectivityCollector
from edge_agent.config import ConnectivityCollectorConfig
from edge_agent.probes.network import NetworkProbes
config = ConnectivityCollectorConfig(interval_s=1, resolvers=[sys.argv[1]], dns_query=sys.argv[2],
                                     uplink_endpoints=[sys.argv[3]], timeout_s=0.5, dhcp_check_interval_s=0)
collector = ConnectivityCollector(1, NetworkProbes(config))
start = time.monotonic()
while True:
    mono = time.monotonic()
    row = {"t": round(mono - start, 3)}
    for sample in collector.collect(mono, time.time()):
        if sample.stream in ("connectivity.gateway", "connectivity.dns"):
            keep = ("received", "loss_pct", "rtt_ms") if sample.stream.endswith("gateway") else ("ok", "latency_ms")
            row[sample.stream.split(".")[1]] = {k: sample.metrics.get(k) for k in keep}
    print(json.dumps(row), flush=True)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - mono)))
"""


def set_phase(bed: PremisesNetwork, phase: str) -> None:
    """No netem here (../shared/TESTBED.md): loss from iptables' statistic match on everything the gateway
    sends to the cpe (echo replies and DNS answers alike), latency from a full queue (bed.congested_uplink)."""
    iptables = ["ip", "netns", "exec", bed.isp, "iptables"]
    if phase == "loss_15pct":
        subprocess.run([*iptables, "-A", "OUTPUT", "-o", bed.isp_if, "-m", "statistic", "--mode", "random",
                        "--probability", "0.15", "-j", "DROP"], check=True)
    elif phase == "congested":
        subprocess.run([*iptables, "-F", "OUTPUT"], check=True)
        bed.congested_uplink()
    elif phase == "dns_frozen":
        bed.uncongested_uplink()
        bed.dns_freeze()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--phase-s", type=float, default=200.0)
    args = parser.parse_args()
    reason = can_build_test_bed()
    if reason:
        print(f"cannot record: {reason}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir, built(PremisesNetwork(Path(workdir))) as bed:
        prober = subprocess.Popen(
            bed.in_cpe(sys.executable, "-c", PROBER, bed.isp_ip, bed.dns_name, bed.uplink),
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/sbin:/usr/bin:/bin"})
        try:
            with args.out.open("w") as out:
                for phase in PHASES:
                    set_phase(bed, phase)
                    until = time.monotonic() + args.phase_s
                    while time.monotonic() < until:
                        line = prober.stdout.readline()
                        if not line:
                            raise RuntimeError("the prober stopped")
                        out.write(json.dumps({**json.loads(line), "phase": phase}) + "\n")
                    print(f"{phase}: done", flush=True)
        finally:
            prober.kill()
            prober.wait(timeout=5)
            bed.dns_thaw()
    return 0


if __name__ == "__main__":
    sys.exit(main())
