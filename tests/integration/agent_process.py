"""The agent as a real subprocess with its own config, control socket and sd_notify socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    def __init__(
        self, root: Path, extra_config: str = "", config_text: str | None = None, prefix: tuple[str, ...] = ()
    ):
        """`config_text` replaces the simulated-premises config; `prefix` wraps the command (ip netns exec)."""
        self.root = root
        self.prefix = prefix
        self.simulate = config_text is None
        self.config = root / "agent.toml"
        self.sock = root / "ctl.sock"
        self.notify_path = root / "notify.sock"
        self.log = root / "agent.log"
        base = CONFIG if config_text is None else config_text
        self.config.write_text(base.format(state=root / "state", sock=self.sock) + extra_config)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.messages: list[str] = []
        self.extra_env: dict[str, str] = {}
        self.speed = SPEED
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path), WATCHDOG_USEC="1000000", **self.extra_env)
        env.pop("WATCHDOG_PID", None)
        simulation = ["--simulate", "--speed", str(self.speed)] if self.simulate else []
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "edge_agent", "run", *simulation, "--config", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env,
        )

    def exit_status(self, timeout_s: float = 20) -> int:
        """Start the agent and wait for it to exit by itself (a refusal at start): its exit status."""
        self.start()
        try:
            return self.proc.wait(timeout=timeout_s)
        finally:
            self.stop()

    def wait_notify(self, needle: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.notify.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.notify.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append(message)
            if needle in message:
                return message
        raise AssertionError(
            f"no {needle!r} from the agent within {timeout_s} s; got {self.messages}\n{self.log_text()}"
        )

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


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")
