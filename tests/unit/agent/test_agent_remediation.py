"""The whole agent in process on simulated premises, stepped by a manual clock: detection → remediation →
verification → report, for the Wi-Fi channel switch (issue #5's done-when) and its flapping guard; and what the
cloud may ask of it (a read-only diagnosis, remediation only within its authority)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.agent.daemon import Agent
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig, load_config
from edge_agent.remediation.engine import RemediationRefused
from edge_agent.reporting.commands import CommandGate

CONFIG = """
[agent]
device_id = "unit-gw"
state_dir = "{root}/state"
[control]
socket_path = "{root}/ctl.sock"
[collectors.wifi]
interval_s = 2
[collectors.connectivity]
interval_s = 5
[collectors.system]
enabled = false
[collectors.interfaces]
enabled = false
[remediation]
default_mode = "auto"
verify_window_s = 20
min_disruptive_gap_s = 0
recurrence_window_s = {recurrence}
[remediation.channel]
min_dwell_s = {dwell}
[simulation]
channel = 6
{faults}
"""

# Interference that wanders: on 6, then on 11, then on 6 again, then on 11 ...
OSCILLATING = "cycle_s = 400\n" + "".join(
    f"[[simulation.faults]]\nkind = 'interference'\nchannel = {channel}\nstart_s = {start}\nend_s = {start + 90}\n"
    f"level = 0.6\n"
    for start, channel in ((10, 6), (100, 11), (190, 6), (280, 11))
)


def run_agent(root: Path, seconds: int, dwell: float, faults: str, recurrence: float = 3600) -> Agent:
    path = root / "agent.toml"
    path.write_text(CONFIG.format(root=root, dwell=dwell, faults=faults, recurrence=recurrence))
    agent = Agent(load_config(path), path, mode="simulated", clock=ManualClock(), env={})
    agent.remediation.run_async = lambda work: work()  # the action runs inline: each step is deterministic
    for _ in range(seconds):
        agent.run_due_collectors()
        agent.tick_remediation()
        agent.clock.advance(1.0)
    return agent


def actions(agent: Agent) -> list[dict]:
    return agent.audit.read()


def test_interference_on_the_current_channel_moves_the_ap_once_to_the_best_channel_and_is_verified(short_tmp):
    faults = "cycle_s = 300\n[[simulation.faults]]\nkind = 'interference'\nchannel = 6\nstart_s = 10\nend_s = 250\n" \
             "level = 0.6\n"
    agent = run_agent(short_tmp, 200, dwell=3600, faults=faults)
    entries = actions(agent)
    assert [(e["name"], e["outcome"]) for e in entries] == [("switch_channel", "attempted"),
                                                            ("switch_channel", "fixed")]
    attempted, fixed = entries
    assert attempted["details"]["from_channel"] == 6 and attempted["details"]["switch"]["to_channel"] == 11
    scores = {s["channel"]: s["score"] for s in attempted["details"]["scores"]}
    assert set(scores) == {1, 6, 11} and min(scores, key=scores.get) == 11
    assert fixed["evidence_before"]["busy_ratio"] > 0.6 > fixed["evidence_after"]["busy_ratio"]
    assert agent.backends.radio.channel == 11
    kpis = agent.kpi_snapshot()
    assert kpis["auto_resolved"] == 1 and kpis["resolved_before_outage"] == 1  # a warning, fixed before worse


def switches(agent: Agent) -> list[int]:
    return [e["details"]["switch"]["to_channel"] for e in actions(agent)
            if e["outcome"] == "attempted" and e["name"] == "switch_channel"]


def test_oscillating_interference_switches_once_the_fix_that_did_not_hold_is_not_repeated(short_tmp):
    agent = run_agent(short_tmp, 400, dwell=3600, faults=OSCILLATING)
    assert switches(agent) == [11]
    held = [e for e in actions(agent) if e["outcome"] == "skipped"]
    assert len(held) == 2 and all("came back: not repeating it" in e["reason"] for e in held)
    assert [e["outcome"] for e in actions(agent)].count("escalated") == 2
    assert agent.backends.radio.channel == 11


def test_the_dwell_time_holds_the_ap_even_when_the_engine_would_try_again(short_tmp):
    agent = run_agent(short_tmp, 400, dwell=3600, faults=OSCILLATING, recurrence=0)
    assert switches(agent) == [11]
    held = [e for e in actions(agent) if e["outcome"] == "failed" and "minimum dwell is 3600 s" in e["reason"]]
    assert held, [(e["outcome"], e["reason"]) for e in actions(agent)]
    assert held[0]["details"]["scores"]  # the scores that would have justified a move are still reported
    assert agent.backends.radio.channel == 11


def test_after_the_dwell_time_the_ap_may_move_again(short_tmp):
    agent = run_agent(short_tmp, 400, dwell=60, faults=OSCILLATING, recurrence=0)
    moves = switches(agent)
    assert len(moves) >= 2 and all(b != a for a, b in zip(moves, moves[1:], strict=False))


DNS_DOWN = "cycle_s = 1000\n[[simulation.faults]]\nkind = 'dns_down'\nstart_s = 0\nend_s = 900\n"


def agent_without_rounds(root: Path, extra: str = "") -> Agent:
    path = root / "agent.toml"
    path.write_text(CONFIG.format(root=root, dwell=3600, faults=DNS_DOWN, recurrence=3600) + extra)
    agent = Agent(load_config(path), path, mode="simulated", clock=ManualClock(), env={})
    agent.remediation.run_async = lambda work: work()
    return agent


def test_diagnose_from_the_cloud_reports_what_is_wrong_and_leaves_the_issues_and_remediation_alone(short_tmp):
    agent = agent_without_rounds(short_tmp)
    for _ in range(5):  # more than open_after (3): fed to the tracker, this would open dns_failure and act on it
        report = agent.commands.diagnose({})
        agent.tick_remediation()
        agent.clock.advance(5.0)
    assert "dns_failure" in {f["type"] for f in report["findings"]}
    assert agent.tracker.snapshot() == [] and report["open_issues"] == []
    assert agent.audit.read() == [] and agent.remediation.cases() == []


def test_the_clouds_hostile_requests_are_refused_and_audited_with_origin_and_reason(short_tmp):
    agent = agent_without_rounds(short_tmp, '[remediation.authority.cloud]\nactions = ["restart_service", '
                                            '"renew_dhcp"]\nmode = "auto"\n')
    for action in ("renew_dhcp:-x", "restart_service:reboot.target", "restart_service:ssh"):
        with pytest.raises(RemediationRefused):
            agent.remediate(action, None, False, "cloud")
    answer = agent.remediate("restart_service:dnsmasq", None, False, "cloud")
    agent.tick_remediation()
    entries = agent.audit.read()
    assert [(e["name"], e["target"], e["outcome"], e["origin"]) for e in entries] == [
        ("renew_dhcp", "-x", "skipped", "cloud"),
        ("restart_service", "reboot.target", "skipped", "cloud"),
        ("restart_service", "ssh", "skipped", "cloud"),
        ("restart_service", "dnsmasq", "completed", "cloud"),
    ]
    assert all(e["reason"].startswith("refused: ") for e in entries[:3])
    assert entries[3]["action_id"] == answer["action_id"]


def test_the_cloud_may_not_ask_for_remediation_unless_the_config_allows_the_command():
    gate = CommandGate("edge/v1/gw", AgentConfig().commands.allowed)
    decision = gate.check("edge/v1/gw/cmd/remediate", b'{"request_id": "s1", "args": {"action": "flush_dns"}}', 0.0)
    assert not decision.accepted and decision.reason == "command not allowed by this agent's configuration"


def test_diagnose_still_reports_what_the_camera_detectors_see(short_tmp):
    path = short_tmp / "agent.toml"
    unplugged = "cycle_s = 1000\n[[simulation.faults]]\nkind = 'camera_down'\nstart_s = 0\nend_s = 900\n"
    path.write_text(CONFIG.format(root=short_tmp, dwell=3600, faults=unplugged, recurrence=3600))
    agent = Agent(load_config(path), path, mode="simulated", clock=ManualClock(), env={})
    report = agent.commands.diagnose({})
    assert "camera_unavailable" in {f["type"] for f in report["findings"]}
    assert agent.tracker.snapshot() == []


@pytest.mark.parametrize(("is_admin", "outcome"), [(False, "skipped"), (True, "completed")])
def test_a_technicians_remediation_over_the_control_socket_carries_their_authority_and_is_audited(
        short_tmp, is_admin, outcome):
    from edge_agent.agent.control import RequestRefused
    from edge_agent.agent.control_requests import Peer

    agent = agent_without_rounds(short_tmp, '[remediation.authority.cli]\nactions = ["restart_service"]\n'
                                            'mode = "auto"\n')
    agent.run_in_loop = lambda work: _done(work)  # the loop thread's work, run here
    peer = Peer(pid=4321, uid=1000, gid=1000, is_admin=is_admin)
    if is_admin:
        agent._remediate_from_control({"action": "restart_service:dnsmasq"}, peer)
    else:
        with pytest.raises(RequestRefused):
            agent._remediate_from_control({"action": "restart_service:dnsmasq"}, peer)
    agent.tick_remediation()
    [entry] = agent.audit.read()
    assert (entry["name"], entry["origin"], entry["outcome"]) == ("restart_service", "cli", outcome)


def _done(work):
    from concurrent.futures import Future

    future: Future = Future()
    try:
        future.set_result(work())
    except Exception as exc:  # noqa: BLE001 — handed to the caller as the loop would
        future.set_exception(exc)
    return future
