#!/usr/bin/env python3
"""Start-up cost: wall time of `edge-agent --help`, of the daemon from exec to sd_notify READY=1, and of
validating the default config (the first time, which resolves the records' type hints, and after).

Usage: .venv/bin/python scripts/bench_startup.py [--runs 5]
Prints medians (and min/max) in milliseconds; the daemon runs on simulated premises with a private
state dir and control socket, and is stopped with SIGTERM after READY.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "edge_agent", "--help"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_ready(root: Path) -> float:
    config = root / "agent.toml"
    config.write_text(f'[agent]\nstate_dir = "{root / "state"}"\n[control]\nsocket_path = "{root / "ctl.sock"}"\n')
    notify_path = root / "notify.sock"
    notify_path.unlink(missing_ok=True)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_path))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", "--simulate", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        while b"READY=1" not in notify.recv(4096):
            pass
        elapsed = time.perf_counter() - start
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        notify.close()
    return elapsed


CONFIG_TIMES = """
import json, time
start = time.perf_counter()
from edge_agent.config import load_config
imported = time.perf_counter()
load_config(None, env={})
first = time.perf_counter()
again = []
for _ in range(50):
    before = time.perf_counter()
    load_config(None, env={})
    again.append(time.perf_counter() - before)
print(json.dumps({"first": first - imported, "again": sorted(again)[len(again) // 2]}))
"""


def time_config_validation() -> dict[str, float]:
    """In a fresh interpreter: the first validation of the default config, and the median of 50 after it."""
    done = subprocess.run([sys.executable, "-c", CONFIG_TIMES], check=True, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout)


def report(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    median = statistics.median(ms)
    print(f"{name:<28} median {median:7.1f} ms   min {min(ms):7.1f}   max {max(ms):7.1f}   (n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ea-bench-", dir="/tmp"))
    try:
        time_help()  # warm the page cache and .pyc files; the first run measures the disk, not us
        report("edge-agent --help", [time_help() for _ in range(args.runs)])
        report("daemon exec -> READY=1", [time_ready(root) for _ in range(args.runs)])
        validations = [time_config_validation() for _ in range(args.runs)]
        report("config: first validation", [v["first"] for v in validations])
        report("config: validation after", [v["again"] for v in validations])
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
