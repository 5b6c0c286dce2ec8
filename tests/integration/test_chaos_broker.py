"""A malicious broker or fleet: a 100 MB retained command and a 10,000-command flood against the real agent under
the unit's memory and task limits. The agent must stay up, keep pinging the watchdog and keep publishing.

The numbers this prints are recorded in docs/BENCHMARKS.md; reproduce them with
`.venv/bin/python -m pytest tests/integration/test_chaos_broker.py -s`.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from agent_process import Daemon
from cgroup_limits import Limits, cgroup_v1_available
from fleet_client import DEVICE, FleetClient, request

MEMORY_MAX = 128 * 1024 * 1024  # systemd/edge-agent.service: MemoryMax=128M
TASKS_MAX = 64
FLOOD = 10_000
FLOOD_SECONDS = 10.0


class NotifyRecorder:
    """Timestamps of every WATCHDOG=1 the agent sends while the flood runs."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.watchdog: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                message = self.sock.recv(4096).decode()
            except (TimeoutError, OSError):
                continue
            if "WATCHDOG=1" in message:
                self.watchdog.append(time.monotonic())

    def longest_gap(self, start: float, end: float) -> float:
        pings = [start] + [t for t in self.watchdog if start <= t <= end] + [end]
        return max(b - a for a, b in itertools.pairwise(pings))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def vm_hwm_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def test_a_huge_retained_command_and_a_command_flood_neither_kill_nor_mute_the_agent(short_tmp: Path, mosquitto):
    limits = Limits(MEMORY_MAX, TASKS_MAX) if cgroup_v1_available("memory") and cgroup_v1_available("pids") else None
    extra = f'\n[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n'
    extra += "[reporting]\nreport_interval_s = 1\n"  # telemetry every second (v2 batches it), to see it go on
    daemon = Daemon(short_tmp, extra, prefix=limits.prefix() if limits else ())
    client = FleetClient(mosquitto.host, mosquitto.port)
    telemetry: list[float] = []
    client.client.message_callback_add(f"{DEVICE}/telemetry/#", lambda c, u, m: telemetry.append(time.monotonic()))
    client.client.subscribe(f"{DEVICE}/telemetry/#", qos=0)
    attacker = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    attacker.connect(mosquitto.host, mosquitto.port)
    attacker.loop_start()
    daemon.start()
    recorder = None
    try:
        client.wait_online()
        pid = daemon.proc.pid
        huge = b'{"request_id": "huge", "args": {"x": "' + b"a" * 100_000_000 + b'"}}'
        attacker.publish(f"{DEVICE}/cmd/ping", huge, qos=1, retain=True).wait_for_publish(60)
        attacker.publish(f"{DEVICE}/cmd/diagnose", huge, qos=1).wait_for_publish(60)
        del huge
        recorder = NotifyRecorder(daemon.notify)

        start = time.monotonic()
        for n in range(FLOOD):
            command = "diagnose" if n % 7 == 0 else "ping"
            attacker.publish(f"{DEVICE}/cmd/{command}", request(f"flood-{n}"), qos=1)
            time.sleep(max(0.0, start + (n + 1) * FLOOD_SECONDS / FLOOD - time.monotonic()))
        end = time.monotonic()
        time.sleep(3)  # the tail of the flood drains

        assert daemon.proc.poll() is None, daemon.log_text()[-3000:]
        gap = recorder.longest_gap(start, time.monotonic())
        telemetry_during = [t for t in telemetry if start <= t <= end]
        late_telemetry = [t for t in telemetry if t > end - 3]
        peak = limits.peak_memory_bytes() if limits else vm_hwm_bytes(pid)
        status = daemon.ask_json("status")["reporting"]["mqtt"]
        print(f"\nchaos broker: {FLOOD} commands in {end - start:.1f} s; longest watchdog gap {gap:.2f} s; "
              f"telemetry messages during the flood {len(telemetry_during)}; peak memory {peak / 2**20:.1f} MiB"
              f" ({'cgroup' if limits else 'VmHWM'}); commands {status['commands']}")
        assert gap < 5.0  # WATCHDOG_USEC is 1 s in this test; systemd's own WatchdogSec is 30 s
        assert late_telemetry, "telemetry stopped during the flood"
        assert peak < MEMORY_MAX
        assert status["connected"] is True and status["commands"]["accepted"] < 200
        time.sleep(5)  # the ping bucket refills
        client.send("ping", request("after-the-flood"))
        assert client.replies_until({"succeeded", "failed"}, timeout_s=20)[-1][1]["state"] == "succeeded"
    finally:
        if recorder is not None:
            recorder.close()
        attacker.loop_stop()
        attacker.disconnect()
        client.close()
        daemon.stop()
        if limits is not None:
            limits.close()

