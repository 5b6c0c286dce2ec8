"""A test service controller: starts, stops and checks one daemon by its PID file, as an init script does.

    service_ctl.py DIR start|stop|restart|is-active|hup

DIR/service.json holds {"argv": [...], "ready": [...], "ready_text": "..."}: the daemon's command line (it must stay
in the foreground) and a command whose output contains ready_text once the daemon serves. DIR/pid is its PID;
DIR/starts counts the starts, so a test can tell that a restart really happened.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def read_pid(directory: Path) -> int | None:
    try:
        return int((directory / "pid").read_text())
    except (OSError, ValueError):
        return None


def start(directory: Path, spec: dict) -> int:
    proc = subprocess.Popen(spec["argv"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    (directory / "pid").write_text(str(proc.pid))
    starts = directory / "starts"
    starts.write_text(str(int(starts.read_text()) + 1 if starts.exists() else 1))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        probe = subprocess.run(spec["ready"], capture_output=True, text=True)
        if spec["ready_text"] in probe.stdout:
            return 0
        time.sleep(0.05)
    print("the service did not become ready within 5 s", file=sys.stderr)
    return 1


def stop(directory: Path) -> int:
    pid = read_pid(directory)
    if pid is None or not alive(pid):
        return 0
    os.kill(pid, signal.SIGCONT)  # a frozen daemon cannot act on SIGTERM
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    return 0


def main(argv: list[str]) -> int:
    directory, verb = Path(argv[1]), argv[2]
    spec = json.loads((directory / "service.json").read_text())
    if verb == "start":
        return start(directory, spec)
    if verb == "stop":
        return stop(directory)
    if verb == "restart":
        stop(directory)
        return start(directory, spec)
    if verb == "is-active":
        pid = read_pid(directory)
        return 0 if pid is not None and alive(pid) else 3
    if verb == "hup":
        pid = read_pid(directory)
        if pid is None or not alive(pid):
            return 1
        os.kill(pid, signal.SIGHUP)  # dnsmasq empties its cache on SIGHUP
        return 0
    print(f"unknown verb {verb}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
