"""`edge-agent fleet watch --json` in its own process, its lines read as they come (a full pipe would stall it),
stopped by SIGTERM when the test says so rather than at a fixed --duration that could cut off messages still on
their way."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time


class WatchProcess:
    def __init__(self, broker, *args: str, duration_s: float = 180.0):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "fleet", "watch", "--broker", f"{broker.host}:{broker.port}",
             "--json", "--duration", str(duration_s), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Returned once subscribed: shared subscriptions get no retained messages, so a watcher that subscribed
        # late would miss the births the others saw.
        self.announcement = self.process.stderr.readline()
        assert self.announcement.startswith("edge-agent: watching"), self.announcement
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def stop(self) -> tuple[list[dict], dict]:
        """SIGTERM: the watcher takes what already arrived, prints its summary last and exits 0; returns the
        events and the summary."""
        self.process.terminate()
        self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        assert self.process.returncode == 0, self.process.stderr.read()
        *events, summary = [json.loads(line) for line in self.lines]
        return events, summary["summary"]

    def kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_until_quiet(watchers: list[WatchProcess], quiet_s: float = 3.0, timeout_s: float = 60.0) -> None:
    """Until no watcher has printed anything new for `quiet_s`."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        printed = sum(len(w.lines) for w in watchers)
        if printed != last:
            last, since = printed, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.2)
    raise AssertionError(f"the watchers were still printing after {timeout_s:.0f} s")


def wait_for_lines(watchers: list[WatchProcess], count: int, timeout_s: float = 60.0) -> None:
    """Until the watchers together have printed `count` lines: every message that was sent has arrived, however
    slowly a loaded machine delivers it."""
    deadline = time.monotonic() + timeout_s
    while sum(len(w.lines) for w in watchers) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{sum(len(w.lines) for w in watchers)} of {count} lines after {timeout_s:.0f} s")
        time.sleep(0.1)
