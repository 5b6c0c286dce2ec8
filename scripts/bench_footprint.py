#!/usr/bin/env python3
"""Footprint of the whole agent against a Python floor and collectd, on the same broker, one after the other.

Usage (as root: collectd may be installed, pings need it, and --premises hardware builds network namespaces):
    .venv/bin/python scripts/bench_footprint.py [--settings default|stress] [--premises simulated|hardware]
        [--seconds 180] [--warmup 30] [--runs 1] [--only agent,baseline,collectd] [--profile FILE.prof]

Each subject runs alone for --warmup seconds (start-up excluded), then is measured for --seconds:
- CPU: utime + stime from /proc/<pid>/stat over the window, as percent of one core (robust to other load);
- RSS: VmRSS from /proc/<pid>/status every second, median and peak; USS (Private_* of smaps_rollup), median;
- messages/s and bytes/s (topic + payload): what the broker delivered from the subject to a subscriber;
- for the agent, connectivity probe rounds in the window (from its control socket), and CPU ms per round.
--runs N repeats every subject N times and prints each run and the medians.

--settings:
- default: the shipped defaults (config/edge-agent.toml): system and interfaces every 10 s, Wi-Fi and the
  connectivity probes every 5 s, the window classifier every 3 rounds, DHCP and path-MTU checks every 30 s, the
  agent's own health every 60 s, telemetry contract v2 (sampled at those intervals, reported per 120 s window).
  On the simulated premises the camera runs at its default 0.5 frame/s with its health checks; the vision model
  is off, as shipped.
  The floor and collectd sample every 10 s (collectd pings every 5 s, like the agent's probe rounds).
- stress: every collector at 1 s, the window classifier every 10 rounds, the camera at 1 frame/s with the vision
  model on, agent health every 10 s (the earlier benchmark); the floor and collectd at 1 s.
--premises:
- simulated: the agent on its simulated premises (frames replayed from a Y4M file, as a camera delivers them;
  rendering the scene live would cost ~12 ms a frame that no gateway pays), the broker on 127.0.0.1.
- hardware: a namespace test bed as the integration tests build it (tests/integration/netns.py: a cpe
  namespace, a gateway with dnsmasq answering DNS and DHCP in an isp namespace, one veth). The agent runs in
  hardware mode in the cpe namespace and probes the real gateway, resolver and uplink (the broker, in the isp
  namespace behind the gateway, as a cloud broker would be; plain MQTT, the test broker has no TLS); no radio
  and no camera there, so Wi-Fi and the camera are off. The floor and collectd run in the cpe namespace too
  (collectd pings the gateway). Afterwards the probe cost is measured on its own, in a process of its own: CPU
  ms per connectivity round (ARP, ICMP echoes, DNS, TCP connect) and per DHCP and path-MTU check. Needs root;
  everything started is stopped by PID and the namespaces are removed.
The agent runs from bytecode compiled ahead (compileall over edge_agent/, into its __pycache__ directories), as
an installed agent does: pip compiles at install time. --compile-at-start skips that (where PYTHONDONTWRITEBYTECODE
is set the agent then compiles its sources at every start, ~1 MiB more RSS).
--no-camera turns the simulated camera off (its health checks cost ~10 ms a frame: the agent's own share shows).
--profile FILE runs the agent under cProfile and writes its statistics there (slower: for the analysis only).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from conftest import free_port, mosquitto_binary  # noqa: E402
from netns import PremisesNetwork, can_build_test_bed  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
TOPIC_PREFIX = "edge/v1"

# Per settings: the collectors' intervals and the cadences the floor and collectd are given to match.
SETTINGS = {
    "default": {"collectors": "", "window_every": 3, "fps": 0.5, "vision": "false", "health_s": 60, "floor_s": 10,
                "ping_s": 5},
    "stress": {"collectors": """
[collectors.system]
interval_s = 1
[collectors.interfaces]
interval_s = 1
[collectors.wifi]
interval_s = 1
[collectors.connectivity]
interval_s = 1
""", "window_every": 10, "fps": 1, "vision": "true", "health_s": 10, "floor_s": 1, "ping_s": 1},
}

AGENT_CONFIG = """
[agent]
device_id = "bench-gw"
state_dir = "{root}/state"
log_level = "warning"
[control]
socket_path = "{root}/ctl.sock"
[models]
runtime = "{runtime}"
[models.window]
every_n_rounds = {window_every}
[reporting]
agent_health_interval_s = {health_s}
[mqtt]
enabled = true
host = "{broker_host}"
port = {port}
tls = false
"""

SIMULATED_EXTRA = """
[premises]
mode = "simulated"
[camera]
enabled = {camera}
fps = {fps}
source = "replay"
path = "{root}/camera.y4m"
[models.vision]
enabled = {vision}
[simulation]
faults = []
"""

# Only what the test bed fixes (its resolver answers its own zone): every interval stays at its default.
HARDWARE_EXTRA = """
[premises]
mode = "hardware"
"""
HARDWARE_CONNECTIVITY = """
[collectors.connectivity]
dns_query = "{dns_name}"
"""

BASELINE = """
import json, sys, time
import paho.mqtt.client as mqtt
import psutil

host, port, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="baseline")
client.connect(host, port)
client.loop_start()
while True:
    net = psutil.net_io_counters(pernic=True)
    sample = {"cpu": psutil.cpu_percent(), "mem": psutil.virtual_memory().percent, "load": psutil.getloadavg(),
              "net": {name: [c.bytes_sent, c.bytes_recv] for name, c in net.items()}}
    client.publish("baseline/metrics", json.dumps(sample), qos=0)
    time.sleep(interval - time.time() % interval)
"""

# Runs beside the broker (in its namespace) and writes "messages bytes" to a file four times a second.
COUNTER = """
import sys, threading, time
import paho.mqtt.client as mqtt

host, port, topic, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
totals = [0, 0]
lock = threading.Lock()

def on_message(client, userdata, msg):
    with lock:
        totals[0] += 1
        totals[1] += len(msg.topic) + len(msg.payload)

def on_connect(client, userdata, flags, reason, properties):
    client.subscribe(topic, qos=0)

client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2)
client.on_message, client.on_connect = on_message, on_connect
client.connect(host, port)
client.loop_start()
while True:
    with lock:
        line = f"{totals[0]} {totals[1]}\\n"
    with open(out + ".tmp", "w") as f:
        f.write(line)
    import os
    os.replace(out + ".tmp", out)
    time.sleep(0.25)
"""

COLLECTD_CONFIG = """
Interval {interval}
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
  Host "{ping_host}"
  Interval {ping_interval}
</Plugin>
<Plugin mqtt>
  <Publish "bench">
    Host "{broker_host}"
    Port "{port}"
    ClientId "collectd"
    Prefix "collectd"
  </Publish>
</Plugin>
"""

# In the cpe namespace: the connectivity backend the agent uses, alone, its CPU time per round and per check.
PROBE_COST = """
import json, statistics, sys, time
from pathlib import Path
from edge_agent.config import load_config

config = load_config(Path(sys.argv[1]))
rounds = int(sys.argv[2])
cpu0 = time.process_time()
from edge_agent.probes.network import NetworkProbes
probes = NetworkProbes(config.collectors.connectivity, extra_uplinks=[f"{config.mqtt.host}:{config.mqtt.port}"])
probes._checks.dhcp.interval_s = probes._checks.pmtu.interval_s = 0  # timed apart, below
costs, walls, first = [], [], None
for i in range(rounds + 1):
    c, w = time.process_time(), time.monotonic()
    status = probes.probe()
    cost = (time.process_time() - c) * 1000
    if i == 0:
        first = (time.process_time() - cpu0) * 1000  # imports, sockets and the first round
    else:
        costs.append(cost)
        walls.append((time.monotonic() - w) * 1000)
    time.sleep(0.05)
assert status.gateway is not None and status.gateway.received > 0, status
assert all(d.ok for d in status.dns), status.dns
route = probes._route()
checks = {}
for name, run in (("dhcp", lambda: probes._checks._dhcp_check(route.interface)),
                  ("pmtu", lambda: probes._checks._pmtu_check(route.gateway, route.interface))):
    samples = []
    for _ in range(5):
        c = time.process_time()
        result = run()
        samples.append((time.process_time() - c) * 1000)
    checks[name] = {"cpu_ms_median": statistics.median(samples), "first_ms": samples[0], "result": repr(result)[:300]}
probes.close()
rss = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmRSS"))
print(json.dumps({"first_round_cpu_ms": first, "round_cpu_ms_median": statistics.median(costs),
                  "round_cpu_ms_p90": sorted(costs)[int(0.9 * len(costs))],
                  "round_wall_ms_median": statistics.median(walls),
                  "checks": checks, "rss_mib": rss, "scapy_loaded": "scapy" in sys.modules}))
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


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@dataclass
class Place:
    """Where the subjects and the broker run: the host itself, or the test bed's namespaces."""

    broker_host: str = "127.0.0.1"
    ping_host: str = "127.0.0.1"
    subject_prefix: list[str] = field(default_factory=list)  # e.g. ip netns exec <cpe>
    broker_prefix: list[str] = field(default_factory=list)
    bed: PremisesNetwork | None = None


class Broker:
    """mosquitto on its own port, in the broker's namespace; stopped by PID."""

    def __init__(self, root: Path, place: Place):
        self.place, self.port = place, free_port()
        self.conf = root / "mosquitto.conf"
        user = ["user root"] if os.geteuid() == 0 else []
        self.conf.write_text("\n".join([f"listener {self.port} {place.broker_host}", "allow_anonymous true",
                                        "persistence false", f"log_dest file {root}/mosquitto.log", *user]) + "\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise SystemExit("mosquitto is not installed (apt install mosquitto)")
        self.proc = subprocess.Popen([*self.place.broker_prefix, binary, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            probe = subprocess.run([*self.place.broker_prefix, "ss", "-lnt", f"sport = :{self.port}"],
                                   capture_output=True, text=True)
            if f":{self.port}" in probe.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        stop(self.proc)


class Counter:
    """Messages and bytes the broker delivers under a topic filter, counted by a subscriber beside the broker."""

    def __init__(self, root: Path, broker: Broker, topic_filter: str):
        self.out = root / f"counter-{topic_filter.split('/')[0]}.txt"
        script = root / "counter.py"
        script.write_text(COUNTER)
        self.proc = subprocess.Popen([*broker.place.broker_prefix, sys.executable, str(script),
                                      broker.place.broker_host, str(broker.port), topic_filter, str(self.out)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def read(self) -> tuple[int, int]:
        try:
            messages, size = self.out.read_text().split()
        except (OSError, ValueError):
            return 0, 0
        return int(messages), int(size)

    def close(self) -> None:
        stop(self.proc)


def probe_rounds(control_socket: Path | None) -> int | None:
    """How many connectivity rounds the agent has run, from its control socket's status."""
    if control_socket is None:
        return None
    from edge_agent.agent.control import ControlError, request

    try:
        status = request(control_socket, "status")
        return next(c["runs"] for c in status["collectors"] if c["name"] == "connectivity")
    except (ControlError, StopIteration, KeyError, TypeError):
        return None


def measure(name: str, argv: list[str], root: Path, broker: Broker, topic_filter: str, warmup: float,
            seconds: float, control_socket: Path | None = None) -> dict:
    counter = Counter(root, broker, topic_filter)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=lambda: os.nice(5))
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early: {proc.stderr.read().decode()[-2000:]}")
        pid = proc.pid  # ip netns exec execs the subject: the same PID
        cpu0, (count0, bytes0), rounds0, start = cpu_seconds(pid), counter.read(), probe_rounds(control_socket), \
            time.monotonic()
        rss, uss = [], []
        while time.monotonic() - start < seconds:
            rss.append(rss_mib(pid))
            uss.append(private_mib(pid))
            time.sleep(1.0)
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(pid) - cpu0
        count1, bytes1 = counter.read()
        rounds1 = probe_rounds(control_socket)
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited during the measurement: {proc.stderr.read().decode()[-2000:]}")
        if count1 == 0:  # not even the connect-time messages: it never reached the broker, the numbers would lie
            raise RuntimeError(f"{name} delivered nothing to the broker")
    finally:
        counter.close()
        stop(proc)
    rounds = rounds1 - rounds0 if rounds0 is not None and rounds1 is not None else None
    return {"name": name, "cpu_pct": 100 * cpu / elapsed, "rss_median": statistics.median(rss),
            "rss_peak": max(rss), "uss_median": statistics.median(uss), "msgs_per_s": (count1 - count0) / elapsed,
            "bytes_per_s": (bytes1 - bytes0) / elapsed, "rounds": rounds,
            "agent_cpu_ms_per_round": 1000 * cpu / rounds if rounds else None}


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


def agent_config(root: Path, place: Place, port: int, settings: str, runtime: str, no_camera: bool = False) -> str:
    chosen = SETTINGS[settings]
    text = AGENT_CONFIG.format(root=root, runtime=runtime, broker_host=place.broker_host, port=port,
                               window_every=chosen["window_every"], health_s=chosen["health_s"])
    connectivity = chosen["collectors"]
    if place.bed is None:
        text += SIMULATED_EXTRA.format(root=root, fps=chosen["fps"], vision=chosen["vision"],
                                       camera="false" if no_camera else "true")
    else:
        text += HARDWARE_EXTRA
        # one [collectors.connectivity] table: the stress interval and the bed's probe name together
        extra = HARDWARE_CONNECTIVITY.format(dns_name=place.bed.dns_name).strip().split("\n", 1)[1]
        if "[collectors.connectivity]" in connectivity:
            connectivity = connectivity.replace("[collectors.connectivity]", "[collectors.connectivity]\n" + extra)
        else:
            connectivity += "\n[collectors.connectivity]\n" + extra + "\n"
    return text + connectivity


def compile_agent() -> None:
    """The agent's bytecode, compiled ahead as an installed agent's is (pip compiles it at install time, and the
    unit's ProtectSystem=strict leaves the venv read-only). Without it, where PYTHONDONTWRITEBYTECODE is set
    (as in CI) the agent compiles its ~100 modules at every start and keeps ~1 MiB more of the compiler's
    leftovers, which no installed gateway pays."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "edge_agent")], check=True)


def run_subjects(args: argparse.Namespace, root: Path, place: Place) -> list[dict]:
    wanted = args.only.split(",")
    chosen = SETTINGS[args.settings]
    if "agent" in wanted and not args.compile_at_start:
        compile_agent()
    broker = Broker(root, place)
    broker.start()
    results = []
    try:
        for run in range(args.runs):
            if "agent" in wanted:
                agent_root = root / f"agent{run}"
                agent_root.mkdir()
                config = agent_root / "agent.toml"
                config.write_text(agent_config(agent_root, place, broker.port, args.settings, args.runtime,
                                               args.no_camera))
                command = ["run", "--config", str(config)]
                if place.bed is None:
                    write_camera_replay(agent_root / "camera.y4m")
                    command.insert(1, "--simulate")
                python = [sys.executable, "-m", "cProfile", "-o", str(args.profile)] if args.profile else \
                    [sys.executable]
                argv = [*place.subject_prefix, *python, "-m", "edge_agent", *command]
                results.append(measure("edge-agent", argv, root, broker, f"{TOPIC_PREFIX}/bench-gw/#", args.warmup,
                                       args.seconds, control_socket=agent_root / "ctl.sock"))
                print(_row(results[-1]), file=sys.stderr)
            if "baseline" in wanted:
                script = root / "baseline.py"
                script.write_text(BASELINE)
                argv = [*place.subject_prefix, sys.executable, str(script), place.broker_host, str(broker.port),
                        str(chosen["floor_s"])]
                results.append(measure("psutil + paho floor", argv, root, broker, "baseline/#", args.warmup,
                                       args.seconds))
                print(_row(results[-1]), file=sys.stderr)
            if "collectd" in wanted:
                binary = ensure_collectd()
                if binary is None:
                    print("collectd is not installed (apt install collectd-core liboping0): skipped", file=sys.stderr)
                else:
                    conf = root / "collectd.conf"
                    conf.write_text(COLLECTD_CONFIG.format(root=root, port=broker.port, broker_host=place.broker_host,
                                                           ping_host=place.ping_host, interval=chosen["floor_s"],
                                                           ping_interval=chosen["ping_s"]))
                    results.append(measure("collectd", [*place.subject_prefix, binary, "-f", "-C", str(conf)], root,
                                           broker, "collectd/#", args.warmup, args.seconds))
                    print(_row(results[-1]), file=sys.stderr)
        if place.bed is not None and "agent" in wanted and not args.no_probe_cost:
            results.append(probe_cost(root, place, broker.port, args))
    finally:
        broker.stop()
    return results


def probe_cost(root: Path, place: Place, port: int, args: argparse.Namespace) -> dict:
    config = root / "probe-cost.toml"
    config.write_text(agent_config(root / "probe-cost", place, port, "default", args.runtime))
    script = root / "probe_cost.py"
    script.write_text(PROBE_COST)
    result = subprocess.run([*place.subject_prefix, sys.executable, str(script), str(config), str(args.rounds)],
                            capture_output=True, text=True, timeout=600, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"probe cost run failed: {result.stderr[-2000:]}")
    return {"name": "probe cost", **json.loads(result.stdout)}


def _row(r: dict) -> str:
    per_round = f"{r['agent_cpu_ms_per_round']:>12.1f}" if r.get("agent_cpu_ms_per_round") else f"{'':>12}"
    return (f"{r['name']:<22}{r['cpu_pct']:>8.2f}{r['rss_median']:>10.1f}{r['rss_peak']:>10.1f}"
            f"{r['uss_median']:>10.1f}{r['msgs_per_s']:>9.2f}{r['bytes_per_s']:>10.0f}{per_round}")


HEADER = (f"{'subject':<22}{'CPU %':>8}{'RSS med':>10}{'RSS peak':>10}{'USS med':>10}{'msgs/s':>9}{'bytes/s':>10}"
          f"{'ms/round':>12}")


def report(args: argparse.Namespace, results: list[dict]) -> None:
    print(f"\n{args.premises} premises, {args.settings} settings: {args.seconds:g} s measured after {args.warmup:g} s "
          f"of warm-up, one subject at a time, same broker; CPU in % of one core, memory in MiB\n")
    print(HEADER)
    subjects = [r for r in results if r["name"] != "probe cost"]
    for r in subjects:
        print(_row(r))
    if args.runs > 1:
        print(f"\nmedians of {args.runs} runs")
        print(HEADER)
        for name in dict.fromkeys(r["name"] for r in subjects):
            runs = [r for r in subjects if r["name"] == name]
            median = {key: statistics.median(r[key] for r in runs) for key in
                      ("cpu_pct", "rss_median", "rss_peak", "uss_median", "msgs_per_s", "bytes_per_s")}
            per_round = [r["agent_cpu_ms_per_round"] for r in runs if r.get("agent_cpu_ms_per_round")]
            median["agent_cpu_ms_per_round"] = statistics.median(per_round) if per_round else None
            print(_row({"name": name, **median}))
    for r in results:
        if r["name"] == "probe cost":
            print(f"\nprobe cost (a process of its own in the cpe namespace, {args.rounds} rounds back to back): "
                  f"{r['round_cpu_ms_median']:.1f} ms CPU per round (median; p90 {r['round_cpu_ms_p90']:.1f}; "
                  f"wall {r['round_wall_ms_median']:.0f} ms), first round with imports "
                  f"{r['first_round_cpu_ms']:.0f} ms; DHCP check {r['checks']['dhcp']['cpu_ms_median']:.1f} ms, "
                  f"path-MTU check {r['checks']['pmtu']['cpu_ms_median']:.1f} ms; RSS after {r['rss_mib']:.1f} MiB; "
                  f"scapy loaded: {r['scapy_loaded']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", choices=sorted(SETTINGS), default="default")
    parser.add_argument("--premises", choices=["simulated", "hardware"], default="simulated")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", default="agent,baseline,collectd")
    parser.add_argument("--runtime", default="auto", help="[models] runtime: auto, tflite-runtime or litert")
    parser.add_argument("--rounds", type=int, default=50, help="hardware: probe rounds for the probe cost")
    parser.add_argument("--no-camera", action="store_true", help="simulated: the camera (and its models) off")
    parser.add_argument("--no-probe-cost", action="store_true", help="hardware: skip the probe cost run")
    parser.add_argument("--compile-at-start", action="store_true",
                        help="do not compile the agent's bytecode ahead (where PYTHONDONTWRITEBYTECODE is set, it "
                        "then compiles its modules at every start, as no installed agent does)")
    parser.add_argument("--profile", type=Path, help="run the agent under cProfile, statistics to this file")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: still stop the subjects and remove the bed
    root = Path(tempfile.mkdtemp(prefix="ea-bench-", dir="/tmp"))
    os.chmod(root, 0o755)
    try:
        if args.premises == "hardware":
            reason = can_build_test_bed()
            if reason is not None:
                raise SystemExit(f"--premises hardware {reason}")
            bed = PremisesNetwork(root / "bed")
            (root / "bed").mkdir()
            try:
                bed.setup()
                place = Place(broker_host=bed.isp_ip, ping_host=bed.isp_ip, subject_prefix=bed.in_cpe(),
                              broker_prefix=["ip", "netns", "exec", bed.isp], bed=bed)
                results = run_subjects(args, root, place)
            finally:
                bed.teardown()
        else:
            results = run_subjects(args, root, Place())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
