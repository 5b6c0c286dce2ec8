"""The agent's loop without the process around it: collector failures, reloads, control handlers."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from edge_agent.agent.daemon import Agent
from edge_agent.clock import ManualClock, SystemClock
from edge_agent.config import load_config
from edge_agent.model import Sample


def write_config(path: Path, root: Path, wifi_interval: str = "1") -> None:
    path.write_text(
        f"""
[agent]
device_id = "unit-gw"
state_dir = "{root / 'state'}"
[control]
socket_path = "{root / 'ctl.sock'}"
[collectors.wifi]
interval_s = {wifi_interval}
[collectors.connectivity]
interval_s = 1
[collectors.system]
enabled = false
[collectors.interfaces]
enabled = false
[camera]
enabled = false
"""
    )


@pytest.fixture
def agent(short_tmp: Path) -> Agent:
    path = short_tmp / "agent.toml"
    write_config(path, short_tmp)
    return Agent(load_config(path), path, mode="simulated", clock=ManualClock(), env={})


class ExplodingCollector:
    name = "exploding"
    interval_s = 1.0

    def __init__(self):
        self.calls = 0

    def collect(self, mono: float, ts: float) -> list[Sample]:
        self.calls += 1
        raise RuntimeError("sensor fell off")


def test_a_failing_collector_is_counted_backed_off_and_does_not_stop_the_others(agent: Agent):
    clock: ManualClock = agent.clock
    exploding = ExplodingCollector()
    agent.collectors[exploding.name] = exploding
    agent.schedule.add(exploding.name, exploding.interval_s, clock.monotonic())

    for _ in range(8):
        agent.run_due_collectors()
        clock.advance(1.0)

    task = agent.schedule.tasks["exploding"]
    assert task.total_failures == exploding.calls
    assert task.last_error == "RuntimeError: sensor fell off"
    # Backoff 1, 2, 4 s: within 8 s it is tried at t=0, 1, 3, 7 — not eight times.
    assert exploding.calls == 4
    assert agent.schedule.tasks["wifi"].runs == 8
    assert agent.schedule.tasks["wifi"].total_failures == 0


def test_reload_with_a_bad_config_keeps_the_running_one(agent: Agent):
    agent.config_path.write_text("[collectors.wifi]\ninterval_s = 'often'\n")
    assert agent.reload() is False
    assert agent.reload_failures == 1
    assert agent.config.collectors.wifi.interval_s == 1
    assert agent.schedule.tasks["wifi"].interval_s == 1


def test_reload_with_a_good_config_changes_intervals_and_keeps_issue_state(agent: Agent, short_tmp: Path):
    clock: ManualClock = agent.clock
    for _ in range(3):
        agent.run_due_collectors()
        clock.advance(1.0)
    runs_before = agent.schedule.tasks["wifi"].runs
    write_config(agent.config_path, short_tmp, wifi_interval="7")

    assert agent.reload() is True
    assert agent.schedule.tasks["wifi"].interval_s == 7
    assert agent.schedule.tasks["wifi"].runs == runs_before


def test_reload_applies_a_new_remediation_policy_to_the_engine_and_the_actions(agent: Agent, short_tmp: Path):
    write_config(agent.config_path, short_tmp)
    with agent.config_path.open("a") as f:
        f.write('[remediation]\ndefault_mode = "auto"\n[remediation.channel]\nmin_dwell_s = 120\n')
    assert agent.reload() is True
    assert agent.remediation.settings.default_mode == "auto"
    assert agent.backends.actions.settings.default_mode == "auto"
    assert agent.backends.actions.channel_mover.policy.min_dwell_s == 120


def test_status_handler_reports_collectors_and_latest_samples(agent: Agent):
    agent.run_due_collectors()
    status = agent._status({})
    assert status["device_id"] == "unit-gw"
    assert status["premises"] == "simulated"
    assert {c["name"] for c in status["collectors"]} == {"wifi", "connectivity", "agent"}
    assert {s["stream"] for s in status["latest"]} == {
        "wifi.radio", "wifi.station", "connectivity.gateway", "connectivity.dns", "connectivity.uplink", "agent"
    }


def test_agent_health_reports_collector_failures_and_open_issues(agent: Agent):
    exploding = ExplodingCollector()
    agent.collectors[exploding.name] = exploding
    agent.schedule.add(exploding.name, exploding.interval_s, agent.clock.monotonic())
    agent.run_due_collectors()  # the agent collector ran before the failure was counted
    agent.clock.advance(agent.config.reporting.agent_health_interval_s)
    agent.run_due_collectors()
    [health] = [s for s in agent.pipeline.latest_samples() if s["stream"] == "agent"]
    assert health["subject"] == "unit-gw"
    assert health["metrics"]["collector_failures"] >= 1
    assert health["metrics"]["open_issues"] == 0


class HangingCollector:
    """Blocks in collect() until released: a probe stuck on a dead socket."""

    name = "hanging"
    interval_s = 0.05

    def __init__(self):
        self.hang = threading.Event()
        self.release = threading.Event()

    def collect(self, mono: float, ts: float) -> list[Sample]:
        if self.hang.is_set():
            self.release.wait(timeout=10)
        return []


def watchdog_pings(listener: socket.socket, seconds: float) -> list[float]:
    pings, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        listener.settimeout(left)
        try:
            message = listener.recv(4096)
        except TimeoutError:
            break
        if b"WATCHDOG=1" in message:
            pings.append(time.monotonic())
    return pings


def watched_agent(root: Path) -> tuple[Agent, socket.socket]:
    """An agent on the real clock whose sd_notify messages (a watchdog ping every 0.1 s) arrive on the socket."""
    config_path = root / "agent.toml"
    write_config(config_path, root)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(root / "notify.sock"))
    env = {"NOTIFY_SOCKET": str(root / "notify.sock"), "WATCHDOG_USEC": "200000"}
    return Agent(load_config(config_path), config_path, mode="simulated", clock=SystemClock(), env=env), listener


def test_watchdog_pings_stop_while_a_collector_hangs_and_resume_after(short_tmp: Path):
    agent, listener = watched_agent(short_tmp)
    hanging = HangingCollector()
    agent.collectors[hanging.name] = hanging
    agent.schedule.add(hanging.name, hanging.interval_s, agent.clock.monotonic())
    loop = threading.Thread(target=agent._loop, daemon=True)
    loop.start()
    try:
        assert len(watchdog_pings(listener, 0.5)) >= 3  # healthy: about five in half a second
        hanging.hang.set()
        time.sleep(0.2)  # let the loop enter the hanging collector
        watchdog_pings(listener, 0.05)  # drop pings sent before it did
        assert watchdog_pings(listener, 0.8) == []
        hanging.hang.clear()
        hanging.release.set()
        assert len(watchdog_pings(listener, 0.5)) >= 3
    finally:
        hanging.release.set()
        agent.request_stop()
        loop.join(timeout=5)
        listener.close()


def test_a_long_queue_of_commands_does_not_starve_the_watchdog(short_tmp: Path):
    agent, listener = watched_agent(short_tmp)
    for _ in range(40):
        agent.run_in_loop(lambda: time.sleep(0.025))  # one second of queued work, 25 ms a piece
    try:
        started = time.monotonic()
        agent._run_pending_work()
        assert time.monotonic() - started >= 1.0
        assert len(watchdog_pings(listener, 0.05)) >= 8  # every 0.1 s between items, not once at the end
    finally:
        listener.close()


def test_an_error_in_one_unit_of_the_loop_is_contained_and_counted(agent: Agent, monkeypatch, caplog):
    def tick_fails() -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(agent, "tick_remediation", tick_fails)
    loop = threading.Thread(target=agent._loop, daemon=True)
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while agent.loop_errors.get("remediation", 0) < 3 and time.monotonic() < deadline:
            agent._wake.set()
            time.sleep(0.01)
        assert agent.loop_errors["remediation"] >= 3 and loop.is_alive()
        assert sum("Traceback" in (r.exc_text or "") or r.exc_info is not None for r in caplog.records) == 1
    finally:
        agent.request_stop()
        loop.join(timeout=5)


def test_a_dead_reporting_thread_ends_the_agent_non_zero_for_systemd_to_restart(agent: Agent, monkeypatch):
    class DeadPublisher:
        def alive(self) -> bool:
            return False

    class Sink:
        publisher = DeadPublisher()

    monkeypatch.setattr(agent, "mqtt", Sink())
    agent._check_threads()
    assert agent._stop.is_set() and agent.exit_code == 70


def test_reload_survives_an_unexpected_error_and_keeps_the_running_config(agent: Agent, monkeypatch):
    import edge_agent.agent.daemon as daemon

    def explode(path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(daemon, "load_config", explode)
    before = agent.config
    assert agent.reload() is False
    assert agent.config is before and agent.reload_failures == 1


def test_a_dead_control_thread_ends_the_agent_non_zero(agent: Agent, monkeypatch):
    monkeypatch.setattr(agent.control, "alive", lambda: False)
    agent._check_threads()
    assert agent._stop.is_set() and agent.exit_code == 70


def test_the_issues_flap_damping_comes_from_the_config_and_a_reload(agent: Agent):
    assert (agent.tracker.hold_down_s, agent.tracker.hold_down_max_s) == (30.0, 600.0)
    agent.config_path.write_text(agent.config_path.read_text() + "[issues]\nhold_down_s = 0\nhold_down_max_s = 60\n")
    assert agent.reload() is True
    assert (agent.tracker.hold_down_s, agent.tracker.hold_down_max_s) == (0.0, 60.0)


def test_a_slow_broker_connection_is_not_taken_for_a_dead_reporting_thread():
    from edge_agent.reporting.mqtt import LOOP_STALL_S

    # glibc's resolver alone may take 5 s x 2 attempts x 3 nameservers while DNS is down: no restart for that.
    assert LOOP_STALL_S >= 5 * 2 * 3 * 4


def test_the_uplink_probe_seeing_the_broker_again_wakes_the_publisher_once(agent: Agent, monkeypatch):
    hints = []

    class Publisher:
        def path_seen_up(self) -> None:
            hints.append(True)

    class Sink:
        publisher = Publisher()

    monkeypatch.setattr(agent, "mqtt", Sink())
    broker = f"{agent.config.mqtt.host}:{agent.config.mqtt.port}"

    def round_with(ok: bool) -> list[Sample]:
        return [Sample("connectivity.uplink", broker, {"ok": ok, "connect_ms": None, "error": None}, 0.0, 0.0),
                Sample("connectivity.gateway", "10.0.0.1", {"loss_pct": 0.0}, 0.0, 0.0)]

    for ok in (True, False, False, True, True):
        agent._hint_broker_path(round_with(ok))
    agent._hint_broker_path([Sample("system", "host", {"cpu_percent": 1.0}, 0.0, 0.0)])  # no uplink round
    assert hints == [True]  # only the return after the outage, not every healthy round
