"""Test doubles and helpers shared by several unit test modules."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edge_agent.agent.control import ControlServer


@contextmanager
def short_socket_dir(mode: int = 0o700) -> Iterator[Path]:
    """A directory under /tmp short enough for AF_UNIX paths (108 bytes at most), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="ea-", dir="/tmp"))
    try:
        path.chmod(mode)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def shared_tmp():
    """A stand-in for /tmp (root's, world-writable and sticky) where other users may make what they like."""
    return short_socket_dir(mode=0o1777)


@contextmanager
def serving(path: Path, handlers: Mapping[str, Any]) -> Iterator[ControlServer]:
    """A real control server on `path`, stopped afterwards (stopping waits out serve_forever's 0.5 s poll)."""
    control = ControlServer(path, handlers)
    control.start()
    try:
        yield control
    finally:
        control.stop()


class RecordingSink:
    """A reporting sink that keeps every (topic, message, durable) it is given."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any], bool]] = []
        self.closed = False

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        self.published.append((topic, message, durable))

    def topics(self) -> list[str]:
        return [topic for topic, _, _ in self.published]

    def close(self) -> None:
        self.closed = True


def example_status(**overrides: Any) -> dict[str, Any]:
    """A status answer as the running agent gives it, for views and CLI tests."""
    base = {
        "agent_version": "0.1.0",
        "device_id": "gw-7",
        "site_id": "site-3",
        "premises": "simulated",
        "uptime_s": 7500.0,
        "open_issues": 1,
        "issue_counters": {"detected": 4, "resolved": 3, "flaps_prevented": 2},
        "config_path": None,
        "reloads": 0,
        "reload_failures": 0,
        "collectors": [
            {"name": "wifi", "interval_s": 5.0, "runs": 10, "failures": 0, "last_run_age_s": 2.0, "last_error": None},
            {"name": "system", "interval_s": 10.0, "runs": 0, "failures": 0, "last_run_age_s": None,
             "last_error": None},
        ],
        "detectors": [{"name": "rules.wifi", "runs": 10, "failures": 1, "last_error": "KeyError: 'x'"}],
        "latest": [{"stream": "wifi.radio", "subject": "wlan0", "metrics": {"channel": 6, "noise_dbm": None}}],
    }
    return {**base, **overrides}


def example_issue(state: str, subject: str, guidance: str) -> dict[str, Any]:
    """One issue as the agent's `issues` request lists it."""
    return {
        "state": state,
        "severity": "warning",
        "type": "wifi_interference",
        "subject": subject,
        "opened_ts": 1_700_000_000.0,
        "resolved_ts": 1_700_000_100.0 if state == "resolved" else None,
        "summary": f"busy_ratio on {subject} is 0.8, limit 0.6",
        "guidance": guidance,
    }


def example_kpis() -> dict[str, Any]:
    return {"detected": 4, "resolved": 3, "auto_resolved": 2, "resolved_before_outage": 1, "escalated": 1,
            "flaps_prevented": 5, "actions": {"restart_service": {"fixed": 2}}}
