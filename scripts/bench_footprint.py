#!/usr/bin/env python3
"""Footprint of the whole agent against a Python floor and collectd, on the same broker, one after the other.

Usage (as root, so collectd can be installed and ping): .venv/bin/python scripts/bench_footprint.py [--seconds 60]
    [--warmup 15] [--only agent,baseline,collectd] [--profile FILE.prof]

Each subject runs alone for --warmup seconds (start-up excluded), then is measured for --seconds:
- CPU: utime + stime from /proc/<pid>/stat over the window, as percent of one core;
- RSS: VmRSS from /proc/<pid>/status every second, median and peak;
- messages/s: what the broker delivered from the subject to a subscriber during the window.
Subjects:
- agent: edge-agent on its simulated premises, every collector at 1 s, the window classifier every 10 probe
  rounds (10 s), the vision model at 1 frame/s on frames replayed from a Y4M file (as a camera delivers them;
  rendering the simulated scene live would cost ~12 ms a frame that no gateway pays), MQTT to the broker,
  remediation in dry-run;
- baseline: psutil sampling (cpu, memory, load, interfaces) and one paho publish every second, nothing else;
- collectd: cpu, memory, interface, load and ping plugins at Interval 1, written to the broker by its mqtt plugin.
--profile FILE runs the agent under cProfile and writes its statistics there (slower: for the analysis only).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from conftest import Broker, mosquitto_binary  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")

AGENT_CONFIG = """
[agent]
device_id = "bench-gw"
state_dir = "{root}/state"
log_level = "warning"
[control]
socket_path = "{root}/ctl.sock"
[collectors.system]
interval_s = 1
[collectors.interfaces]
interval_s = 1
[collectors.wifi]
interval_s = 1
[collectors.connectivity]
interval_s = 1
[models]
runtime = "{runtime}"
[models.window]
every_n_rounds = 10
[camera]
fps = 1
source = "replay"
path = "{root}/camera.y4m"
[simulation]
faults = []
[reporting]
agent_health_interval_s = 10
[mqtt]
enabled = true
host = "127.0.0.1"
port = {port}
"""

BASELINE = """
import json, sys, time
import paho.mqtt.client as mqtt
import psutil

client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="baseline")
client.connect("127.0.0.1", int(sys.argv[1]))
client.loop_start()
while True:
    net = psutil.net_io_counters(pernic=True)
    sample = {"cpu": psutil.cpu_percent(), "mem": psutil.virtual_memory().percent, "load": psutil.getloadavg(),
              "net": {name: [c.bytes_sent, c.bytes_recv] for name, c in net.items()}}
    client.publish("baseline/metrics", json.dumps(sample), qos=0)
    time.sleep(1.0 - time.time() % 1.0)
"""

COLLECTD_CONFIG = """
Interval 1
BaseDir "{root}"
PIDFile "{root}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin memory
LoadPlugin interface
LoadPlugin load
LoadPlugin ping
LoadPlugin mqtt
<Plugin ping>
  Host "127.0.0.1"
  Interval 1
</Plugin>
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port "{port}"
    ClientId "collectd"
    Prefix "collectd"
  </Publish>
</Plugin>
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def private_mib(pid: int) -> float:
    """USS: the memory only this process holds (what stopping it would free); RSS also counts the pages of
    shared libraries, which other processes (and the page cache) share."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / 1024


class MessageCounter:
    """Counts what the broker delivers under a topic filter."""

    def __init__(self, port: int, topic_filter: str):
        self.count = 0
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic_filter, qos=0)
        self.client.loop_start()
        self._lock = threading.Lock()

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.count += 1

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def measure(name: str, argv: list[str], port: int, topic_filter: str, warmup: float, seconds: float,
            env: dict | None = None) -> dict:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    counter = MessageCounter(port, topic_filter)
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early: {proc.stderr.read().decode()[-2000:]}")
        pid = proc.pid
        cpu0, count0, start = cpu_seconds(pid), counter.count, time.monotonic()
        rss, uss = [], []
        while time.monotonic() - start < seconds:
            rss.append(rss_mib(pid))
            uss.append(private_mib(pid))
            time.sleep(1.0)
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(pid) - cpu0
        messages = counter.count - count0
    finally:
        counter.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"name": name, "cpu_pct": 100 * cpu / elapsed, "rss_median": statistics.median(rss),
            "rss_peak": max(rss), "uss_median": statistics.median(uss), "msgs_per_s": messages / elapsed}


def write_camera_replay(path: Path, frames: int = 30) -> None:
    """A short video of the simulated gateway, at the detection size, for the camera to replay in a loop."""
    import numpy as np

    from edge_agent.camera.formats import write_y4m
    from edge_agent.sim.camera_scene import SceneState, jitter_layout, random_conditions, random_layout, render

    rng = np.random.default_rng(7)
    layout = random_layout(rng)
    write_y4m(path, [render(jitter_layout(layout, rng), SceneState(), random_conditions(rng), (192, 144), rng)
                     for _ in range(frames)])


def ensure_collectd() -> str | None:
    if not Path("/usr/sbin/collectd").exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "collectd-core", "liboping0"],
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)
    return "/usr/sbin/collectd" if Path("/usr/sbin/collectd").exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--only", default="agent,baseline,collectd")
    parser.add_argument("--runtime", default="auto", help="[models] runtime: auto, tflite-runtime or litert")
    parser.add_argument("--profile", type=Path, help="run the agent under cProfile, statistics to this file")
    args = parser.parse_args()
    wanted = args.only.split(",")
    root = Path(tempfile.mkdtemp(prefix="ea-bench-", dir="/tmp"))
    broker = Broker(mosquitto_binary(), root, name="mosquitto-bench")
    broker.start()
    results = []
    try:
        if "agent" in wanted:
            agent_root = root / "agent"
            agent_root.mkdir()
            config = agent_root / "agent.toml"
            config.write_text(AGENT_CONFIG.format(root=agent_root, port=broker.port, runtime=args.runtime))
            write_camera_replay(agent_root / "camera.y4m")
            run = [sys.executable, "-m", "edge_agent", "run", "--simulate", "--config", str(config)]
            if args.profile:
                run = [sys.executable, "-m", "cProfile", "-o", str(args.profile), *run[1:]]
            results.append(measure("edge-agent", run, broker.port, "edge/v1/bench-gw/#", args.warmup, args.seconds))
        if "baseline" in wanted:
            script = root / "baseline.py"
            script.write_text(BASELINE)
            results.append(measure("psutil + paho floor", [sys.executable, str(script), str(broker.port)],
                                   broker.port, "baseline/#", args.warmup, args.seconds))
        if "collectd" in wanted:
            binary = ensure_collectd()
            if binary is None:
                print("collectd is not installed (apt install collectd-core liboping0): skipped", file=sys.stderr)
            else:
                conf = root / "collectd.conf"
                conf.write_text(COLLECTD_CONFIG.format(root=root, port=broker.port))
                results.append(measure("collectd", [binary, "-f", "-C", str(conf)], broker.port, "collectd/#",
                                       args.warmup, args.seconds))
    finally:
        broker.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{args.seconds:g} s measured after {args.warmup:g} s of warm-up, one subject at a time, same broker\n")
    print(f"{'subject':<22}{'CPU % of a core':>16}{'RSS median MiB':>16}{'RSS peak MiB':>14}"
          f"{'USS median MiB':>16}{'msgs/s':>9}")
    for r in results:
        print(f"{r['name']:<22}{r['cpu_pct']:>16.2f}{r['rss_median']:>16.1f}{r['rss_peak']:>14.1f}"
              f"{r['uss_median']:>16.1f}{r['msgs_per_s']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
