"""A real mosquitto broker per test, on its own port and config, stopped by PID; it can be stopped and restarted."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"mosquitto did not listen on {host}:{port} within {timeout_s} s")


class Broker:
    """mosquitto on 127.0.0.1:<free port>, with persistence so sessions survive a restart."""

    host = "127.0.0.1"

    def __init__(self, binary: str, root: Path):
        self.binary = binary
        self.port = free_port()
        self.log = root / "mosquitto.log"
        self.conf = root / "mosquitto.conf"
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence true",
            "max_queued_messages 0",  # no broker-side drops: the tests count every message
            f"persistence_location {root}/",
            f"log_dest file {self.log}",
            "log_type all",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise it drops to user mosquitto and cannot write here
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for_port(self.host, self.port, timeout_s=5)

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions and queued messages before it exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture
def mosquitto(short_tmp: Path) -> Broker:
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        pytest.skip("mosquitto is not installed (scripts/test.sh installs it when run as root)")
    broker = Broker(binary, short_tmp)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
