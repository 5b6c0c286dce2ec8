"""Where the agent writes and what time it publishes: a simulation stays out of the system's directories and says
so on every message, the state directory is private whatever the umask, and a spoofed runtime directory stops
the agent before it listens there."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_agent.agent.daemon import Agent
from edge_agent.agent.status import status_report
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig
from edge_agent.exit_codes import EX_NOPERM
from edge_agent.local_broker import free_port
from edge_agent.model import Sample
from edge_agent.reporting.telemetry_records import telemetry_model
from edge_agent.views import render_status

from ..support import RecordingSink, shared_tmp

OTHER_UID = 65533
QUIET = {"collectors": {"system": {"enabled": False}, "interfaces": {"enabled": False}}, "camera": {"enabled": False}}


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


def test_a_simulated_agent_writes_nothing_to_the_system_state_or_runtime_directory(tmp_path):
    system_state, system_run, xdg = tmp_path / "var-lib", tmp_path / "run", tmp_path / "xdg"
    for d in (system_state, system_run, xdg):
        d.mkdir()
    env = {"STATE_DIRECTORY": str(system_state), "RUNTIME_DIRECTORY": str(system_run), "XDG_RUNTIME_DIR": str(xdg)}
    agent = Agent(AgentConfig.model_validate(QUIET), None, mode="simulated", clock=ManualClock(), env=env)
    for _ in range(20):
        agent.run_due_collectors()
        agent.clock.advance(1.0)
    agent.reporter.close()
    assert files_under(system_state) == set() and files_under(system_run) == set()
    assert agent.state_dir.is_relative_to(xdg) and agent.socket_path.is_relative_to(xdg)
    assert agent.paths.run_dir is not None and agent.paths.run_dir.parent == xdg


def test_a_hardware_agent_keeps_using_the_system_state_directory(tmp_path):
    env = {"STATE_DIRECTORY": str(tmp_path / "state"), "RUNTIME_DIRECTORY": str(tmp_path / "run")}
    config = AgentConfig.model_validate({**QUIET, "collectors": {**QUIET["collectors"], "wifi": {"enabled": False},
                                                                 "connectivity": {"enabled": False}}})
    agent = Agent(config, None, mode="hardware", clock=ManualClock(), env=env)
    agent.reporter.close()
    assert (agent.state_dir, agent.socket_path) == (tmp_path / "state", tmp_path / "run" / "control.sock")


def test_simulated_messages_carry_real_wall_time_as_ts_and_the_simulated_time_as_sim_ts(short_tmp):
    config = AgentConfig.model_validate({**QUIET, "agent": {"state_dir": str(short_tmp / "state")},
                                         "control": {"socket_path": str(short_tmp / "ctl.sock")}})
    clock = ManualClock(wall_start=time.time() + 86_400)  # a day ahead of the real clock, as at --speed
    agent = Agent(config, None, mode="simulated", clock=clock, env={})
    sink = RecordingSink()
    agent.reporter.sinks.append(sink)
    before = time.time()
    agent.run_due_collectors()
    agent.reporter.close()  # telemetry v2: the report window is sent at close, stamped with the real time then
    after = time.time()
    messages = [m for _, m, _ in sink.published]
    assert messages
    for message in messages:
        assert before - 0.001 <= message["ts"] <= after + 0.001
        assert message["sim_ts"] == pytest.approx(clock.wall(), abs=0.001)
    telemetry = [m for m in messages if str(m.get("schema", "")).startswith("edge.telemetry/")]
    assert telemetry
    for message in telemetry:
        telemetry_model(message).model_validate(message)


def test_hardware_messages_have_no_simulated_time(tmp_path):
    config = AgentConfig.model_validate({**QUIET, "agent": {"state_dir": str(tmp_path / "state")},
                                         "control": {"socket_path": str(tmp_path / "ctl.sock")}})
    agent = Agent(config, None, mode="hardware", clock=ManualClock(), env={})
    sink = RecordingSink()
    agent.reporter.sinks = [sink]
    agent.reporter.telemetry(Sample("system", "host", {"cpu_percent": 1.0}, 5.0, 1_700_000_005.0))
    agent.reporter.close()  # the report window is sent at close
    [(_, message, _)] = sink.published
    assert message["ts"] == 1_700_000_005.0 and "sim_ts" not in message


def agent_process(config: Path, *args: str, umask: int | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run", *args, "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a directory owned by another user")
def test_the_agent_refuses_to_start_in_a_runtime_directory_another_user_made():
    with shared_tmp() as shared:
        spoofed = shared / "edge-agent-0"
        spoofed.mkdir()
        spoofed.chmod(0o777)
        os.chown(spoofed, OTHER_UID, OTHER_UID)
        config = shared / "agent.toml"
        config.write_text(f'[agent]\nstate_dir = "{shared / "state"}"\n[control]\n'
                          f'socket_path = "{spoofed / "edge-agent" / "control.sock"}"\n')
        proc = agent_process(config, "--simulate")
        try:
            _, stderr = proc.communicate(timeout=30)
        finally:
            proc.kill()
        assert proc.returncode == EX_NOPERM, stderr
        assert str(spoofed) in stderr and f"uid {OTHER_UID}" in stderr
        assert list(spoofed.iterdir()) == []


def test_under_umask_000_the_state_directory_is_0750_and_every_file_in_it_0640(short_tmp):
    state = short_tmp / "state"
    config = short_tmp / "agent.toml"
    config.write_text(f'[agent]\nstate_dir = "{state}"\n[control]\nsocket_path = "{short_tmp / "ctl.sock"}"\n'
                      f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {free_port()}\n'
                      '[collectors.wifi]\ninterval_s = 1\n[camera]\nenabled = false\n')
    proc = agent_process(config, "--simulate", umask=0)
    try:
        deadline = time.monotonic() + 30
        while not (short_tmp / "ctl.sock").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # a round of collectors: telemetry into the outbox and its write-ahead log
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    files = [p for p in state.iterdir() if p.is_file()]
    assert any(p.name.startswith("outbox.sqlite") for p in files), files
    assert stat.S_IMODE(state.stat().st_mode) == 0o750
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode) & ~0o640) for p in files} == {p.name: "0o0" for p in files}


def test_status_of_a_wired_only_gateway_says_once_that_wifi_is_off_for_want_of_a_radio(tmp_path, monkeypatch):
    (tmp_path / "net" / "eth0").mkdir(parents=True)
    monkeypatch.setattr("edge_agent.backends.SYS_CLASS_NET", tmp_path / "net")
    config = AgentConfig.model_validate({**QUIET, "agent": {"state_dir": str(tmp_path / "state")},
                                         "control": {"socket_path": str(tmp_path / "ctl.sock")},
                                         "collectors": {**QUIET["collectors"], "connectivity": {"enabled": False},
                                                        "wifi": {"hostapd_ctrl_dir": str(tmp_path)}}})
    agent = Agent(config, None, mode="hardware", clock=ManualClock(), env={})
    agent.reporter.close()
    status = status_report(agent)
    assert status["premises"] == "hardware" and status["unavailable"]["wifi"].startswith("no radio")
    assert "wifi" not in {c["name"] for c in status["collectors"]}
    assert render_status(status).count("collector wifi off: no radio") == 1
