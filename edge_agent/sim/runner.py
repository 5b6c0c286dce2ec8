"""Runs the whole agent on a scenario in simulated time and judges the outcome.

The agent is the real one (collectors, detectors, tracker, remediation engine, reporter) on the simulated
premises; only its clock is a manual one, stepped a second at a time, so a ten-minute scenario takes a second or
two and every run of the same scenario is the same. `speed` paces the steps to N x real time, to watch one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig
from edge_agent.sim.scenario import ACTION_STEP, Scenario

# Which issue types each simulated fault causes: detection delay is measured from the fault's start.
FAULT_ISSUES: dict[str, tuple[str, ...]] = {
    "interference": ("wifi_interference", "wifi_high_noise", "ml_interference"),
    "uplink_loss": ("gateway_packet_loss", "gateway_loss_rising", "gateway_high_jitter", "ml_uplink_degradation"),
    "dns_down": ("dns_failure", "ml_dns_trouble"),
    "gateway_down": ("gateway_unreachable", "uplink_down", "dhcp_failure", "ml_uplink_degradation"),
    "uplink_down": ("uplink_down", "ml_uplink_degradation"),
    "latency": ("gateway_high_latency", "gateway_latency_rising", "gateway_high_jitter", "ml_uplink_degradation"),
    "gateway_swap": ("gateway_mac_changed",),
    "weak_station": ("wifi_weak_station", "wifi_high_retries", "ml_weak_signal"),
    "radio_down": ("wifi_radio_down",),
    "dns_slow": ("dns_slow", "ml_dns_trouble"),
    "uplink_slow": ("uplink_slow", "ml_uplink_degradation"),
    "led_red": ("gateway_led_red",),
    "led_off": ("gateway_leds_off",),
    "cable_unplugged": ("gateway_cable_unplugged",),
    "obstructed": ("gateway_obstructed",),
    "camera_down": ("camera_unavailable",),
}
RUN_ACTIONS = ("attempted", "completed")  # outcomes of an action that really ran (not a decision about one)


@dataclass
class ScenarioRun:
    """What happened: every issue and action event, in order, with its time into the run."""

    scenario: Scenario
    events: list[dict[str, Any]]
    final_open: list[str]
    final_channel: int | None
    kpis: dict[str, Any]
    wall_s: float
    final_channels: dict[str, int] = field(default_factory=dict)  # every radio's, by interface

    def issues(self, change: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["topic"] == "event/issue" and e["change"] == change]

    def actions(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["topic"] == "event/action"]


@dataclass
class ScenarioReport:
    name: str
    failures: list[str] = field(default_factory=list)
    detection_s: dict[str, float] = field(default_factory=dict)
    false_alarms: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    outcome: str = ""
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "failures": self.failures,
                "detection_s": self.detection_s, "false_alarms": self.false_alarms, "steps": self.steps,
                "outcome": self.outcome, "wall_s": round(self.wall_s, 2)}


def scenario_config(scenario: Scenario, workdir: Path, extra: dict[str, Any] | None = None) -> AgentConfig:
    """The agent's config for a scenario: simulated premises only (the host's own CPU and interfaces are not the
    scenario's), remediation on, then the scenario's own overrides, then `extra` (the demo's MQTT)."""
    base: dict[str, Any] = {
        "agent": {"device_id": f"sim-{scenario.name}"[:64], "state_dir": str(workdir / "state")},
        "control": {"socket_path": str(workdir / "ctl.sock")},
        "premises": {"mode": "simulated"},
        "collectors": {"system": {"enabled": False}, "interfaces": {"enabled": False},
                       "wifi": {"interval_s": 2}, "connectivity": {"interval_s": 5}},
        "camera": {"fps": 0.2},  # a frame every 5 s: rendering the scene is the costliest part of a run
        "remediation": {"default_mode": "auto", "verify_window_s": 30, "min_disruptive_gap_s": 60},
        "simulation": {"seed": scenario.seed, "channel": scenario.channel, "band": scenario.band,
                       "width_mhz": scenario.width_mhz, "cycle_s": None,
                       "csa_supported": scenario.csa_supported,
                       "hostapd_emulation": scenario.hostapd_emulation,
                       "faults": [f.model_dump(exclude_none=True) for f in scenario.faults],
                       "radios": [r.model_dump() for r in scenario.radios]},
    }
    if scenario.radios:  # every radio read, each on its own
        base["collectors"]["wifi"]["interfaces"] = [r.interface for r in scenario.radios]
    return AgentConfig.model_validate(_merge(_merge(base, scenario.agent), extra or {}))


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_scenario(scenario: Scenario, workdir: Path, speed: float | None = None, step_s: float = 1.0) -> ScenarioRun:
    from edge_agent.agent.daemon import Agent  # the daemon pulls in everything: only when a scenario really runs

    started = time.monotonic()
    config = scenario_config(scenario, workdir)
    clock = ManualClock()
    agent = Agent(config, None, mode="simulated", clock=clock, env={})
    agent.remediation.run_async = lambda work: work()  # actions finish within their step: runs are repeatable
    start_wall = clock.wall()
    elapsed = 0.0
    while elapsed <= scenario.duration_s:
        agent.run_due_collectors()
        agent.tick_remediation()
        clock.advance(step_s)
        elapsed += step_s
        if speed:
            time.sleep(step_s / speed)
    for close in agent.backends.closers:
        close()
    agent.reporter.close()
    # `ts` is the real clock (a run takes a second or two); the scenario's time is the simulated one.
    events = [dict(e, t=round(e["sim_ts"] - start_wall, 1)) for e in agent.journal.read()]
    return ScenarioRun(
        scenario=scenario, events=events, final_open=sorted(i.type for i in agent.tracker.active()),
        final_channel=getattr(agent.backends.connectivity, "channel", None), kpis=agent.kpi_snapshot(),
        wall_s=time.monotonic() - started, final_channels=_channels(agent.backends.connectivity),
    )


def _channels(premises: Any) -> dict[str, int]:
    channels = getattr(premises, "channels", None)
    return channels() if channels is not None else {}


def judge(run: ScenarioRun) -> ScenarioReport:
    """Every expectation of the scenario against what happened; each failure one line."""
    scenario, expect = run.scenario, run.scenario.expect
    report = ScenarioReport(scenario.name, wall_s=run.wall_s)
    opened = run.issues("opened")
    opened_types = {e["type"] for e in opened}
    for issue_type in expect.opened:
        first = next((e for e in opened if e["type"] == issue_type), None)
        if first is None:
            report.failures.append(f"{issue_type} never opened")
            continue
        fault_start = scenario.fault_start(issue_type, FAULT_ISSUES)
        if fault_start is not None:
            delay = first["t"] - fault_start
            report.detection_s[issue_type] = round(delay, 1)
            if delay > expect.detect_within_s:
                report.failures.append(f"{issue_type} opened {delay:.0f} s after its fault "
                                       f"(expected within {expect.detect_within_s:g} s)")
    # An issue a scripted fault causes is no false alarm, even when the scenario does not name it: the window
    # classifier, for one, corroborates the rules' verdicts in its own words.
    caused = {t for fault in scenario.faults for t in FAULT_ISSUES.get(fault.kind, ())}
    tolerated = set(expect.opened) | set(expect.allowed) | caused
    report.false_alarms = sorted(opened_types - tolerated)
    if report.false_alarms:
        report.failures.append(f"false alarms: {', '.join(report.false_alarms)}")
    actions = run.actions()
    report.steps = [f"{_ref(a)}={a['outcome']}" for a in actions]
    _check_steps(expect.actions, report)
    ran = [a for a in actions if a["outcome"] in RUN_ACTIONS]
    if expect.max_actions_run is not None and len(ran) > expect.max_actions_run:
        report.failures.append(f"{len(ran)} actions ran, at most {expect.max_actions_run} expected")
    escalated = {e["type"] for e in run.issues("escalated")}
    for issue_type in expect.escalated:
        if issue_type not in escalated:
            report.failures.append(f"{issue_type} was never escalated")
    # Judged on the types the scenario names: a corroborating classifier may still hold its verdict a while.
    named = set(expect.opened) | set(expect.final_open)
    final_open = sorted(t for t in run.final_open if t in named)
    if final_open != sorted(expect.final_open):
        report.failures.append(f"open at the end: {final_open or 'none'}, expected {expect.final_open or 'none'}")
    if expect.final_channel is not None and run.final_channel != expect.final_channel:
        report.failures.append(f"the access point ended on channel {run.final_channel}, expected "
                               f"{expect.final_channel}")
    for interface, channel in sorted(expect.final_channels.items()):
        if run.final_channels.get(interface) != channel:
            report.failures.append(f"radio {interface} ended on channel {run.final_channels.get(interface)}, "
                                   f"expected {channel}")
    report.outcome = _outcome(run)
    return report


def _ref(action: dict[str, Any]) -> str:
    return action["name"] + (f":{action['target']}" if action.get("target") else "")


def _check_steps(expected: list[str], report: ScenarioReport) -> None:
    """Each expected ref=outcome must occur, in this order, among the audited steps (others may come between)."""
    position = 0
    for step in expected:
        want = ACTION_STEP.match(step)
        assert want is not None  # validated when the scenario was loaded
        while position < len(report.steps) and report.steps[position] != step:
            position += 1
        if position == len(report.steps):
            report.failures.append(f"expected action step {step} (in order) did not happen")
            return
        position += 1


def _outcome(run: ScenarioRun) -> str:
    k = run.kpis
    if not k["detected"]:
        return "healthy: no issue"
    return (f"{k['detected']} issues, {k['auto_resolved']} fixed by an action, {k['escalated']} escalated, "
            f"{len(run.final_open)} open at the end")


@contextmanager
def quiet_agent_logs() -> Iterator[None]:
    """A scenario run's agent logs every issue and action as a warning; the report says it better."""
    logger = logging.getLogger("edge_agent")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def report_json(reports: list[ScenarioReport]) -> str:
    return json.dumps([r.to_dict() for r in reports], indent=2)
