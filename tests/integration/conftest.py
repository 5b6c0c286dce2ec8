"""A real mosquitto broker per test, on its own port and config, stopped by PID."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Broker:
    host: str
    port: int
    log: Path


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


@pytest.fixture
def mosquitto(short_tmp: Path) -> Broker:
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        pytest.skip("mosquitto is not installed (scripts/test.sh installs it when run as root)")
    port = free_port()
    log = short_tmp / "mosquitto.log"
    conf = short_tmp / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false", f"log_dest file {log}",
             "log_type all"]
    if os.geteuid() == 0:
        lines.append("user root")  # otherwise it drops to user mosquitto and cannot write the log here
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, timeout_s=5)
        yield Broker("127.0.0.1", port, log)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
