"""The real daemon as a subprocess on simulated premises: sd_notify, CLI queries, SIGHUP, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SPEED = 10  # simulated seconds per real second

CONFIG = """
[agent]
device_id = "itest-gw"
site_id = "itest"
state_dir = "{state}"
[control]
socket_path = "{sock}"
[issues]
open_after = 3
resolve_after = 3
[collectors.wifi]
interval_s = 1
[collectors.connectivity]
interval_s = 1
[collectors.system]
interval_s = 2
[simulation]
seed = 7
# a single pass: interference from 5 s to 20 s of simulated time, then healthy
[[simulation.faults]]
kind = "interference"
channel = 6
start_s = 5
end_s = 20
level = 0.6
"""


class Daemon:
    def __init__(self, root: Path):
        self.root = root
        self.config = root / "agent.toml"
        self.sock = root / "ctl.sock"
        self.notify_path = root / "notify.sock"
        self.log = root / "agent.log"
        self.config.write_text(CONFIG.format(state=root / "state", sock=self.sock))
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.messages: list[str] = []
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path), WATCHDOG_USEC="1000000")
        env.pop("WATCHDOG_PID", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "run", "--simulate", "--speed", str(SPEED),
             "--config", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env,
        )

    def wait_notify(self, needle: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.notify.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.notify.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append(message)
            if needle in message:
                return message
        raise AssertionError(f"no {needle!r} from the agent within {timeout_s} s; got {self.messages}\n{self.log_text()}")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "edge_agent", *args, "--config", str(self.config)],
            capture_output=True, text=True, timeout=20,
        )

    def ask_json(self, *args: str):
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.notify.close()


@pytest.fixture
def daemon(short_tmp: Path):
    d = Daemon(short_tmp)
    d.start()
    try:
        yield d
    finally:
        d.stop()


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


def test_daemon_detects_and_resolves_the_scripted_fault_and_shuts_down_cleanly(daemon: Daemon):
    ready = daemon.wait_notify("READY=1", timeout_s=15)
    assert "STATUS=" in ready and f"MAINPID={daemon.proc.pid}" in ready

    status = daemon.ask_json("status")
    assert status["device_id"] == "itest-gw"
    assert status["premises"] == "simulated"
    assert {c["name"] for c in status["collectors"]} == {"system", "interfaces", "wifi", "connectivity"}

    def interference_resolved():
        issues = daemon.ask_json("issues")
        return [i for i in issues if i["type"] == "wifi_interference" and i["state"] == "resolved"]

    # 20 simulated seconds of fault + hysteresis, at SPEED: a few real seconds.
    [issue] = wait_for(interference_resolved, timeout_s=30, what="the interference issue to open and resolve")
    assert [t["state"] for t in issue["transitions"]] == ["open", "resolved"]
    assert issue["subject"] == "wlan0"
    assert issue["evidence"]["channel"] == 6
    assert "quieter channel" in issue["guidance"]

    table = daemon.cli("issues")
    assert table.returncode == 0
    assert "wifi_interference" in table.stdout and "resolved" in table.stdout

    journal = [json.loads(line) for line in (daemon.root / "state" / "events.jsonl").read_text().splitlines()]
    changes = [(e["change"], e["type"]) for e in journal if e["topic"] == "event/issue"]
    assert ("opened", "wifi_interference") in changes and ("resolved", "wifi_interference") in changes
    seqs = [e["seq"] for e in journal]
    assert seqs == sorted(seqs) and all(e["device_id"] == "itest-gw" for e in journal)

    daemon.wait_notify("WATCHDOG=1", timeout_s=5)

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=5) == 0
    daemon.wait_notify("STOPPING=1", timeout_s=2)
    assert not daemon.sock.exists()
    gone = daemon.cli("status")
    assert gone.returncode == 69
    assert "not running" in gone.stderr and "Traceback" not in gone.stderr


def test_sighup_with_a_bad_config_keeps_the_old_one_and_a_good_one_applies(daemon: Daemon):
    daemon.wait_notify("READY=1", timeout_s=15)
    good_config = daemon.config.read_text()

    daemon.config.write_text(good_config.replace("interval_s = 1\n[collectors.connectivity]", "interval_s = -1\n[collectors.connectivity]"))
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_notify("reload failed", timeout_s=10)
    assert "collectors.wifi.interval_s = -1" in daemon.log_text()
    assert "keeping the previous config" in daemon.log_text()
    status = daemon.ask_json("status")
    assert status["reload_failures"] == 1 and status["reloads"] == 0
    wifi = next(c for c in status["collectors"] if c["name"] == "wifi")
    assert wifi["interval_s"] == 1

    daemon.config.write_text(good_config.replace("interval_s = 1\n[collectors.connectivity]", "interval_s = 2\n[collectors.connectivity]"))
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: daemon.ask_json("status")["reloads"] == 1, timeout_s=10, what="the reload to apply")
    wifi = next(c for c in daemon.ask_json("status")["collectors"] if c["name"] == "wifi")
    assert wifi["interval_s"] == 2

    daemon.proc.send_signal(signal.SIGINT)
    assert daemon.proc.wait(timeout=5) == 0


def test_a_broken_config_exits_78_with_one_line_naming_the_key(short_tmp: Path):
    bad = short_tmp / "bad.toml"
    bad.write_text("[issues]\nopen_after = 0\n")
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(bad)], capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "issues.open_after = 0" in lines[0] and "greater than or equal to 1" in lines[0]
