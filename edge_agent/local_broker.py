"""A mosquitto of our own on 127.0.0.1 and a free port, stopped by PID: for `edge-agent demo`, the tests and the
benchmarks, which must never share a broker with another run on the same machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


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


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


class LocalBroker:
    """mosquitto with the given settings (by default: anonymous, with persistence so sessions survive a
    restart, no broker-side drops); it can be stopped and started again on the same port."""

    host = "127.0.0.1"

    def __init__(self, binary: str, root: Path, settings: list[str] | None = None, name: str = "mosquitto"):
        self.binary = binary
        self.port = free_port()
        self.log = root / f"{name}.log"
        self.conf = root / f"{name}.conf"
        if settings is None:
            settings = [
                "allow_anonymous true",
                "persistence true",
                "max_queued_messages 0",  # no broker-side drops: every message counts
                f"persistence_location {root}/",
            ]
        lines = [f"listener {self.port} {self.host}", *settings, f"log_dest file {self.log}", "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")  # otherwise it drops to user mosquitto and cannot write here
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.host, self.port, timeout_s=5)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions and queued messages before it exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
