"""Every shipped scenario runs the whole agent on the simulated premises and meets its expectations; and the judge
itself fails a run that misses them."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from edge_agent.config import FaultConfig
from edge_agent.sim.runner import ScenarioRun, judge, run_scenario
from edge_agent.sim.scenario import Scenario, ScenarioError, find_scenario, load_scenario, shipped_scenarios

SHIPPED = shipped_scenarios()


def test_at_least_twelve_scenarios_ship_with_healthy_ones_among_them():
    scenarios = [load_scenario(p) for p in SHIPPED]
    assert len(scenarios) >= 12
    assert sum(1 for s in scenarios if not s.expect.opened) >= 2  # healthy-only: nothing may open
    assert {p.stem for p in SHIPPED} == {s.name for s in scenarios}  # file name = scenario name


def test_the_scenarios_cover_every_remediation_path_and_fault_kind():
    scenarios = [load_scenario(p) for p in SHIPPED]
    outcomes = {step.rsplit("=", 1)[1] for s in scenarios for step in s.expect.actions}
    assert {"fixed", "failed", "escalated", "skipped", "pending", "cancelled"} <= outcomes
    kinds = {f.kind for s in scenarios for f in s.faults}
    assert kinds == set(get_args(FaultConfig.model_fields["kind"].annotation))
    assert any(step.startswith("custom:") for s in scenarios for step in s.expect.actions)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_passes(path: Path, tmp_path: Path):
    report = judge(run_scenario(load_scenario(path), tmp_path))
    assert report.passed, "\n".join(report.failures + report.steps)
    assert report.false_alarms == []


def scenario(**expect) -> Scenario:
    return Scenario.model_validate({
        "name": "judge-test", "description": "", "duration_s": 100,
        "faults": [{"kind": "dns_down", "start_s": 10, "end_s": 100}], "expect": expect,
    })


def run_with(events: list[dict], final_open: list[str] | None = None, **expect) -> ScenarioRun:
    kpis = {"detected": 1, "auto_resolved": 0, "escalated": 0}
    return ScenarioRun(scenario(**expect), events, final_open or [], 6, kpis, 0.1)


def opened(issue_type: str, t: float) -> dict:
    return {"topic": "event/issue", "change": "opened", "type": issue_type, "t": t}


def action(name: str, outcome: str, target: str | None = None) -> dict:
    return {"topic": "event/action", "name": name, "target": target, "outcome": outcome}


def test_the_judge_fails_a_missing_issue_a_slow_detection_and_a_false_alarm():
    report = judge(run_with([opened("dns_failure", 50.0), opened("high_cpu", 60.0)],
                            opened=["dns_failure", "uplink_down"], detect_within_s=30))
    assert report.detection_s == {"dns_failure": 40.0}
    assert report.failures == ["dns_failure opened 40 s after its fault (expected within 30 s)",
                               "uplink_down never opened", "false alarms: high_cpu"]


def test_the_judge_wants_the_action_steps_in_order_and_no_more_actions_than_allowed():
    events = [opened("dns_failure", 15.0), action("restart_service", "attempted", "dnsmasq"),
              action("flush_dns", "attempted"), action("flush_dns", "fixed")]
    report = judge(run_with(events, opened=["dns_failure"], max_actions_run=1,
                            actions=["flush_dns=attempted", "restart_service:dnsmasq=attempted"]))
    assert "expected action step restart_service:dnsmasq=attempted (in order) did not happen" in report.failures
    assert "2 actions ran, at most 1 expected" in report.failures


def test_the_judge_checks_what_is_left_open_and_the_final_channel():
    report = judge(run_with([opened("dns_failure", 15.0)], final_open=["dns_failure"], opened=["dns_failure"],
                            final_channel=11))
    assert report.failures == ["open at the end: ['dns_failure'], expected none",
                               "the access point ended on channel 6, expected 11"]


def test_a_bad_scenario_file_names_the_problem(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ndescription = ""\nduration_s = 60\n[expect]\nactions = ["flush_dns"]\n')
    with pytest.raises(ScenarioError, match="expect.actions.*not ref=outcome"):
        load_scenario(path)
    path.write_text('name = "bad"\ndescription = ""\nduration_s = 60\n[[faults]]\nkind = "meteor"\n'
                    'start_s = 1\nend_s = 2\n')
    with pytest.raises(ScenarioError, match="faults.0.kind"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="no scenario 'nope'; shipped: .*dns-hang-restart"):
        find_scenario("nope")


@pytest.mark.parametrize("content, problem", [
    (b"name = 'x'\nagent = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than"),
    (b"name = '\xff'\n", "not UTF-8"),
    (b"name = 'x'\nname = 'y'\n", "not valid TOML"),
])
def test_a_scenario_file_that_is_not_our_toml_is_a_scenario_error_naming_why(tmp_path, content, problem):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ScenarioError, match=problem):
        load_scenario(path)
