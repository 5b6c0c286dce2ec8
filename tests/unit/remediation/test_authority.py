"""The authority matrix: origin × action × target → allowed or refused, and audited either way.

Every request goes through the real engine (policy, limits, audit) with a recording executor: what matters is
what would have run, and what the audit record says about who asked and why it was refused.
"""

from __future__ import annotations

import pytest

from edge_agent.clock import ManualClock
from edge_agent.issues import IssueTracker
from edge_agent.model import EventKind, Finding, Severity
from edge_agent.remediation.authority import AGENT, CLOUD, TECHNICIAN, Requester, refusal, request_mode
from edge_agent.remediation.engine import RemediationEngine, RemediationRefused
from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.refs import ActionRef, parse_ref
from edge_agent.remediation.settings import RemediationSection

GROUP_MEMBER = Requester("cli", admin=False)


class RecordingActions:
    def __init__(self):
        self.runs: list[str] = []

    def update_settings(self, settings: RemediationSection) -> None: ...

    def disruptive(self, ref: ActionRef) -> bool:
        return ref.spec.disruptive

    def problem(self, ref: ActionRef) -> str | None:
        return None

    def run(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        self.runs.append(str(ref))
        return ActionResult(True, "done")

    def undo(self, ref: ActionRef, result: ActionResult, timeout_s: float) -> ActionResult:
        return ActionResult(False, "no undo")


# A gateway that lets the cloud flush DNS, restart listed services, renew DHCP and run its custom actions, and
# lets a technician act.
GRANTED = {
    "min_disruptive_gap_s": 0,
    "targets": {"services": ["dnsmasq", "hostapd"], "interfaces": ["eth0"]},
    "custom": {"modem_reset": {"argv": ["/usr/local/bin/modem-reset"]}},
    "authority": {"cli": {"actions": ["restart_service", "bounce_interface", "renew_dhcp", "flush_dns", "custom"],
                          "mode": "auto"},
                  "cloud": {"actions": ["restart_service", "renew_dhcp", "flush_dns", "custom"], "mode": "auto"}},
}


def engine(config: dict | None = None) -> tuple[RemediationEngine, RecordingActions]:
    actions = RecordingActions()
    section = RemediationSection.model_validate(GRANTED if config is None else config)
    return RemediationEngine(section, actions, IssueTracker(1, 1), ManualClock(), run_async=lambda w: w()), actions


HOSTILE = [
    # (the recorded cloud requests from issue 16, and their kin)
    ("renew_dhcp:-x", "target in 'renew_dhcp:-x'"),
    ("restart_service:reboot.target", "reboot.target is not in [remediation.targets] services"),
    ("restart_service:poweroff.target", "poweroff.target is not in [remediation.targets] services"),
    ("restart_service:ssh", "ssh is not in [remediation.targets] services"),
    ("restart_service:edge-agent", "edge-agent is not in [remediation.targets] services"),
    ("restart_service:--no-block", "target in 'restart_service:--no-block'"),
    ("renew_dhcp:eth1", "eth1 is not in [remediation.targets] interfaces"),
    ("renew_dhcp:-eth0", "target in 'renew_dhcp:-eth0'"),
    ("custom:rm_rf", "custom: rm_rf is not in [remediation.targets] customs"),
    ("flush_dns:all", "flush_dns takes no target"),
]


@pytest.mark.parametrize("requester", [TECHNICIAN, CLOUD], ids=["technician", "cloud"])
@pytest.mark.parametrize(("action", "reason"), HOSTILE, ids=[a for a, _ in HOSTILE])
def test_a_target_off_the_lists_is_refused_for_everyone_and_audited(requester, action, reason):
    eng, actions = engine()
    with pytest.raises(RemediationRefused, match=reason.replace("[", r"\[").replace("]", r"\]")) as refused:
        eng.request(action, None, dry_run=False, requester=requester)
    assert actions.runs == []
    [record] = refused.value.events
    body = record.body
    assert record.kind is EventKind.ACTION and body["outcome"] == "skipped"
    assert body["origin"] == requester.origin and body["reason"].startswith("refused: ")
    assert reason in body["reason"] and body["details"]["refused"] is True


MATRIX = [
    # requester, action, allowed on the GRANTED gateway
    (TECHNICIAN, "restart_service:dnsmasq", True),
    (TECHNICIAN, "bounce_interface:eth0", True),
    (TECHNICIAN, "bounce_interface", True),  # no target: the configured (or default-route) interface
    (TECHNICIAN, "custom:modem_reset", True),
    (TECHNICIAN, "switch_channel", False),  # not in its actions
    (GROUP_MEMBER, "flush_dns", False),
    (GROUP_MEMBER, "restart_service:dnsmasq", False),
    (CLOUD, "flush_dns", True),
    (CLOUD, "restart_service:hostapd", True),
    (CLOUD, "renew_dhcp:eth0", True),
    (CLOUD, "bounce_interface:eth0", False),
    (CLOUD, "custom:modem_reset", True),
    (CLOUD, "switch_channel", False),
]


@pytest.mark.parametrize(("requester", "action", "allowed"), MATRIX,
                         ids=[f"{r.describe()}-{a}" for r, a, _ in MATRIX])
def test_the_authority_matrix_decides_and_every_decision_is_audited(requester, action, allowed):
    eng, actions = engine()
    if allowed:
        answer, events = eng.request(action, None, dry_run=False, requester=requester)
        events += eng.tick()
        assert answer["state"] == "running" and actions.runs == [action]
        assert [(e.body["outcome"], e.body["origin"]) for e in events] == [("completed", requester.origin)]
        return
    with pytest.raises(RemediationRefused) as refused:
        eng.request(action, None, dry_run=False, requester=requester)
    assert actions.runs == []
    body = refused.value.events[0].body
    assert (body["outcome"], body["origin"], body["name"]) == ("skipped", requester.origin, action.split(":")[0])
    assert body["reason"].startswith("refused: ")


def test_the_shipped_authority_lets_the_cloud_do_nothing_and_the_technician_only_dry_run():
    eng, actions = engine({})
    with pytest.raises(RemediationRefused, match=r"the cloud may not ask for flush_dns .*actions: none"):
        eng.request("flush_dns", None, dry_run=False, requester=CLOUD)
    with pytest.raises(RemediationRefused, match="the cloud may not ask for restart_service"):
        eng.request("restart_service:dnsmasq", None, dry_run=True, requester=CLOUD)  # not even a dry run
    answer, events = eng.request("restart_service:dnsmasq", None, dry_run=False, requester=TECHNICIAN)
    assert answer["dry_run"] is True and actions.runs == []
    assert events[0].body["mode"] == "dry-run" and events[0].body["origin"] == "cli"


def test_a_technicians_request_for_an_issue_never_goes_beyond_the_technicians_mode():
    config = {**GRANTED, "default_mode": "auto",
              "authority": {**GRANTED["authority"], "cli": {"actions": ["flush_dns"], "mode": "dry-run"}}}
    eng, actions = engine(config)
    finding = Finding("dns_failure", "192.168.1.1", True, Severity.CRITICAL, "test", "bad", {})
    [opened] = eng.tracker.observe(finding, 0.0, 0.0)
    issue_id = opened.body["issue_id"]
    eng.run_async = lambda work: None  # the agent's own flush is "running"; the request must still be a dry run
    eng.on_issue_event(opened)
    answer, _ = eng.request("flush_dns", issue_id, dry_run=False, requester=TECHNICIAN)
    assert answer["dry_run"] is True


def test_approving_needs_the_authority_for_the_action_that_waits():
    config = {**GRANTED, "default_mode": "approval"}
    eng, actions = engine(config)
    finding = Finding("dns_failure", "192.168.1.1", True, Severity.CRITICAL, "test", "bad", {})
    [opened] = eng.tracker.observe(finding, 0.0, 0.0)
    eng.on_issue_event(opened)
    issue_id = opened.body["issue_id"]
    with pytest.raises(RemediationRefused, match="for root, the agent's user or the admin group") as refused:
        eng.request(None, issue_id, dry_run=False, requester=GROUP_MEMBER)
    body = refused.value.events[0].body
    assert (body["name"], body["issue_id"], body["origin"], body["details"]["admin"]) == \
        ("flush_dns", issue_id, "cli", False)
    answer, _ = eng.request(None, issue_id, dry_run=False, requester=CLOUD)
    assert answer["approved"] is True and actions.runs == ["flush_dns"]


def test_a_request_that_names_no_known_action_is_still_audited_without_echoing_it_whole():
    eng, _ = engine()
    with pytest.raises(RemediationRefused, match="unknown action") as refused:
        eng.request("x" * 5000 + ":y", None, dry_run=False, requester=TECHNICIAN)
    body = refused.value.events[0].body
    assert body["name"] == "unknown" and body["target"] is None
    assert len(body["details"]["request"]) == 80 and len(body["reason"]) < 300


@pytest.mark.parametrize(("config", "reason"), [
    ({"policy": {"dns_failure": {"ladder": ["restart_service:sshd"]}}},
     "policy.dns_failure.ladder names restart_service:sshd: add sshd to [remediation.targets] services"),
    ({"targets": {"services": ["-x"]}}, "targets.services.0"),
    ({"custom": {"--help": {"argv": ["true"]}}}, "'--help': a name is letters, digits"),
    ({"commands": {"interface": "-eth0"}}, "commands.interface"),
    ({"authority": {"cloud": {"actions": ["reboot"], "mode": "auto"}}}, "unknown action 'reboot'"),
])
def test_config_that_would_let_a_target_through_is_refused_at_load(config, reason):
    with pytest.raises(ValueError, match=reason.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        RemediationSection.model_validate(config)


def test_an_older_config_s_manual_mode_is_the_technicians_mode_and_never_the_clouds():
    section = RemediationSection.model_validate({"manual_mode": "auto"})
    assert section.authority.cli.mode == "auto" and section.authority.cloud.actions == []
    assert request_mode(section, TECHNICIAN, None) == "auto"


@pytest.mark.parametrize(("requester", "issue_mode", "mode"), [
    (TECHNICIAN, None, "dry-run"),
    (TECHNICIAN, "auto", "dry-run"),
    (TECHNICIAN, "off", "off"),
    (CLOUD, None, "auto"),
    (CLOUD, "approval", "auto"),
    (CLOUD, "dry-run", "dry-run"),
])
def test_a_requests_mode_is_the_more_careful_of_the_origins_and_the_issues(requester, issue_mode, mode):
    assert request_mode(RemediationSection(), requester, issue_mode) == mode


def test_the_agent_itself_may_run_its_ladders_but_only_on_listed_targets():
    section = RemediationSection()
    assert refusal(section, AGENT, parse_ref("restart_service:dnsmasq")) is None
    assert refusal(section, AGENT, parse_ref("bounce_interface")) is None
    assert "not in [remediation.targets] services" in refusal(section, AGENT, ActionRef("restart_service", "ssh"))


def test_a_dry_run_says_why_it_was_one():
    eng, _ = engine({})
    asked, _ = eng.request("flush_dns", None, dry_run=True, requester=TECHNICIAN)
    by_mode, _ = eng.request("flush_dns", None, dry_run=False, requester=TECHNICIAN)
    assert asked["would"] == "dry-run: would run flush_dns, which empties the DNS cache (as asked)"
    assert by_mode["would"].endswith("([remediation.authority.cli] mode is dry-run)")
