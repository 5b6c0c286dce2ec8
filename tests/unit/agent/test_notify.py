"""sd_notify over a real datagram socket: what systemd would receive, and when the watchdog is asked for."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.agent.notify import SystemdNotifier


@pytest.fixture
def notify_socket(short_tmp: Path) -> Iterator[tuple[socket.socket, str]]:
    """Where systemd would listen: an AF_UNIX datagram socket bound to a path."""
    path = str(short_tmp / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(2)
    try:
        yield listener, path
    finally:
        listener.close()


@pytest.fixture
def notifier(notify_socket) -> Iterator[SystemdNotifier]:
    _, path = notify_socket
    n = SystemdNotifier({"NOTIFY_SOCKET": path})
    try:
        yield n
    finally:
        n.close()


def received(notify_socket) -> list[str]:
    listener, _ = notify_socket
    return listener.recv(4096).decode().split("\n")


def test_ready_sends_ready_status_and_main_pid(notifier, notify_socket):
    notifier.ready("2 open issues")
    assert received(notify_socket) == ["READY=1", "STATUS=2 open issues", f"MAINPID={os.getpid()}"]


def test_watchdog_sends_watchdog_1(notifier, notify_socket):
    notifier.watchdog()
    assert received(notify_socket) == ["WATCHDOG=1"]


def test_stopping_sends_stopping_with_a_status(notifier, notify_socket):
    notifier.stopping("shutting down")
    assert received(notify_socket) == ["STOPPING=1", "STATUS=shutting down"]


def test_reloading_sends_reloading_1(notifier, notify_socket):
    notifier.reloading()
    assert received(notify_socket) == ["RELOADING=1"]


def test_status_sends_only_the_status(notifier, notify_socket):
    notifier.status("collecting")
    assert received(notify_socket) == ["STATUS=collecting"]


def test_each_notification_is_its_own_datagram_in_order(notifier, notify_socket):
    notifier.ready("up")
    notifier.watchdog()
    assert received(notify_socket)[0] == "READY=1"
    assert received(notify_socket) == ["WATCHDOG=1"]


def test_notify_socket_in_the_abstract_namespace_is_reached():
    name = f"edge-agent-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(b"\0" + name.encode())
        listener.settimeout(2)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": "@" + name})
        notifier.watchdog()
        notifier.close()
        assert listener.recv(4096) == b"WATCHDOG=1"


def test_without_notify_socket_the_notifier_is_disabled_and_sending_is_harmless():
    notifier = SystemdNotifier({})
    notifier.ready("up")
    assert notifier.enabled is False


def test_sending_to_a_socket_that_is_gone_logs_a_warning_instead_of_raising(short_tmp, caplog):
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(short_tmp / "gone.sock")})
    with caplog.at_level(logging.WARNING, logger="edge_agent.agent.notify"):
        notifier.watchdog()
    notifier.close()
    assert "sd_notify" in caplog.text


def test_watchdog_interval_is_half_of_watchdog_usec():
    assert SystemdNotifier({"WATCHDOG_USEC": "3000000"}).watchdog_interval_s == 1.5


def test_watchdog_meant_for_another_pid_is_not_used():
    env = {"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert SystemdNotifier(env).watchdog_interval_s is None


def test_watchdog_meant_for_this_pid_is_used():
    env = {"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid())}
    assert SystemdNotifier(env).watchdog_interval_s == 1.5


def test_no_watchdog_usec_means_no_watchdog():
    assert SystemdNotifier({"NOTIFY_SOCKET": "/run/systemd/notify"}).watchdog_interval_s is None


def test_malformed_watchdog_usec_is_ignored():
    assert SystemdNotifier({"WATCHDOG_USEC": "3s"}).watchdog_interval_s is None


def test_a_notify_socket_nobody_reads_never_blocks_the_agent(short_tmp):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(short_tmp / "notify.sock"))
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(short_tmp / "notify.sock")})
    try:
        done = threading.Event()

        def flood():
            for _ in range(5000):  # far more than a datagram socket buffers
                notifier.status("x" * 200)
            done.set()

        threading.Thread(target=flood, daemon=True).start()
        assert done.wait(timeout=10), "sd_notify blocked on a full socket"
    finally:
        notifier.close()
        listener.close()


@pytest.mark.parametrize("usec", ["0", "-5", "-3000000"])
def test_a_watchdog_interval_that_is_not_positive_is_ignored_not_a_busy_loop(usec, caplog):
    assert SystemdNotifier({"WATCHDOG_USEC": usec}).watchdog_interval_s is None
    assert "not a positive number of microseconds" in caplog.text
