"""The real agent under the unit's task limit (a pids cgroup, TasksMax=32) while its control socket is flooded."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_process import Daemon
from cgroup_limits import Limits, cgroup_v1_available

TASKS_MAX = 32  # systemd/edge-agent.service
IDLE_CONNECTIONS = 80  # more than the task limit and more than the server's connection cap

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(not cgroup_v1_available("pids"), reason="needs root and a cgroup v1 pids controller"),
]


@pytest.fixture
def task_limit() -> Iterator[Limits]:
    limits = Limits(max_tasks=TASKS_MAX)
    try:
        yield limits
    finally:
        limits.close()  # the agent was killed and reaped before this


@pytest.fixture
def limited_agent(short_tmp: Path, task_limit: Limits) -> Iterator[Daemon]:
    """The agent started inside the cgroup (it joins before it starts)."""
    daemon = Daemon(short_tmp, prefix=task_limit.prefix())
    daemon.start()
    try:
        daemon.wait_notify("READY=1", timeout_s=20)
        yield daemon
    finally:
        daemon.stop()


def open_idle(path: Path, count: int) -> list[socket.socket]:
    idle = []
    for _ in range(count):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(5)
        try:
            client.connect(str(path))
        except BlockingIOError:  # the listen backlog is full: that connection is refused, the flood goes on
            client.close()
            continue
        idle.append(client)
    return idle


def agent_threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


@pytest.mark.timeout(90)
def test_status_is_answered_and_the_agent_lives_while_idle_clients_flood_its_socket(limited_agent, task_limit):
    # The agent is inside the limit (a short-lived child, such as ldconfig behind ctypes' find_library, may be too).
    assert str(limited_agent.proc.pid) in (task_limit.pids / "cgroup.procs").read_text().split()
    threads_before = agent_threads(limited_agent.proc.pid)
    idle = open_idle(limited_agent.sock, IDLE_CONNECTIONS)
    try:
        assert len(idle) > TASKS_MAX
        status = limited_agent.ask_json("status")
        assert status["device_id"] == "itest-gw"
        assert agent_threads(limited_agent.proc.pid) <= threads_before
        # Keep the flood open while the agent goes on working: no thread of its own may fail to start.
        second = limited_agent.ask_json("status")
        assert second["uptime_s"] > status["uptime_s"]
    finally:
        for client in idle:
            client.close()
    assert limited_agent.proc.poll() is None, limited_agent.log_text()
    log = limited_agent.log_text()
    assert "can't start new thread" not in log
    assert "Traceback" not in log
