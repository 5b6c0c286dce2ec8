"""The remediation engine's decisions, driven through a real IssueTracker with a manual clock.

The executor is a scripted stand-in: which action "works" is the test's choice; the engine's policy, limits,
verification, rollback, escalation and audit are what is under test.
"""

from __future__ import annotations

import threading

import pytest

from edge_agent.clock import ManualClock
from edge_agent.issues import IssueTracker
from edge_agent.model import EventKind, Finding, Severity
from edge_agent.remediation.authority import CLOUD, TECHNICIAN
from edge_agent.remediation.engine import RemediationEngine, RemediationRefused, run_on_thread
from edge_agent.remediation.executor import ActionResult
from edge_agent.remediation.refs import ActionRef
from edge_agent.remediation.settings import RemediationSection
from edge_agent.reporting.contract import ActionEvent, IssueEvent
from edge_agent.reporting.envelope import SCHEMA_ACTION, SCHEMA_ISSUE, EnvelopeFactory


class ScriptedActions:
    """Runs nothing; answers as told. `works` names actions whose run succeeds; `undoable` those that can be undone."""

    def __init__(self, works=("flush_dns", "restart_service:dnsmasq", "switch_channel"), undoable=(), problems=None,
                 raises=()):
        self.works = set(works)
        self.undoable = set(undoable)
        self.problems = problems or {}
        self.raises = set(raises)
        self.runs: list[str] = []
        self.undos: list[str] = []

    def disruptive(self, ref: ActionRef) -> bool:
        return ref.spec.disruptive

    def problem(self, ref: ActionRef) -> str | None:
        return self.problems.get(str(ref))

    def run(self, ref: ActionRef, timeout_s: float) -> ActionResult:
        self.runs.append(str(ref))
        if str(ref) in self.raises:
            raise RuntimeError("the action broke")
        ok = str(ref) in self.works
        return ActionResult(ok, "done" if ok else "exit 1", undo_state=6 if str(ref) in self.undoable else None)

    def undo(self, ref: ActionRef, result: ActionResult, timeout_s: float) -> ActionResult:
        self.undos.append(str(ref))
        return ActionResult(True, f"back to {result.undo_state}")


def settings(**overrides) -> RemediationSection:
    base = {"default_mode": "auto", "verify_window_s": 30, "min_disruptive_gap_s": 0, "backoff_base_s": 0,
            "policy": {"dns_failure": {"ladder": ["flush_dns", "restart_service:dnsmasq"]}}}
    base.update(overrides)
    return RemediationSection.model_validate(base)


def granting(cli_mode: str = "auto", cloud_actions: tuple[str, ...] = (), **overrides) -> RemediationSection:
    """Settings in which the technician's requests run (not the shipped dry-run) and the cloud may ask for
    `cloud_actions`."""
    authority = {"cli": {"actions": ["flush_dns", "restart_service"], "mode": cli_mode},
                 "cloud": {"actions": list(cloud_actions), "mode": "auto"}}
    return settings(authority=authority, **overrides)


class Bed:
    """Tracker + engine + clock; `events` collects everything the engine reports."""

    def __init__(self, section: RemediationSection, actions: ScriptedActions | None = None, hold_down_s: float = 0):
        self.clock = ManualClock()
        # Flap damping off by default: most tests here are about the engine, with faults that clear and come back.
        self.tracker = IssueTracker(open_after=1, resolve_after=1, hold_down_s=hold_down_s)
        self.actions = actions or ScriptedActions()
        self.engine = RemediationEngine(section, self.actions, self.tracker, self.clock, run_async=lambda w: w())
        self.events = []

    def observe(self, present: bool, issue_type: str = "dns_failure", subject: str = "192.168.1.1",
                severity: Severity = Severity.CRITICAL) -> None:
        finding = Finding(issue_type, subject, present, severity, "test", "bad" if present else "",
                          {"ok": not present, "rcode": "timeout" if present else "NOERROR"})
        for event in self.tracker.observe(finding, self.clock.monotonic(), self.clock.wall()):
            self.events.append(event)
            self.events.extend(self.engine.on_issue_event(event))
        self.tick()

    def tick(self) -> None:
        self.events.extend(self.engine.tick())

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.tick()

    def actions_out(self) -> list[tuple[str, str]]:
        return [(e.body["name"] + (f":{e.body['target']}" if e.body["target"] else ""), e.body["outcome"])
                for e in self.events if e.kind is EventKind.ACTION]

    def issue_changes(self) -> list[str]:
        return [e.change for e in self.events if e.kind is EventKind.ISSUE]


def test_an_action_that_clears_the_issue_within_the_window_is_fixed_with_evidence_before_and_after():
    bed = Bed(settings())
    bed.observe(True)
    bed.advance(10)
    bed.observe(False)
    assert bed.actions.runs == ["flush_dns"]
    assert bed.actions_out() == [("flush_dns", "attempted"), ("flush_dns", "fixed")]
    assert bed.issue_changes() == ["opened", "remediating", "verifying", "resolved"]
    fixed = bed.events[-1].body
    assert fixed["evidence_before"]["rcode"] == "timeout"
    assert fixed["evidence_after"]["rcode"] == "NOERROR"
    assert fixed["details"]["time_to_fix_s"] == 10.0


def test_a_fault_no_action_fixes_climbs_the_ladder_once_and_escalates():
    bed = Bed(settings())
    bed.observe(True)
    for _ in range(10):
        bed.advance(31)
        bed.observe(True)
    assert bed.actions.runs == ["flush_dns", "restart_service:dnsmasq"]  # no more than the ladder allows
    assert bed.actions_out() == [("flush_dns", "attempted"), ("flush_dns", "failed"),
                                 ("restart_service:dnsmasq", "attempted"), ("restart_service:dnsmasq", "failed"),
                                 ("restart_service:dnsmasq", "escalated")]
    assert bed.tracker.active()[0].state.value == "escalated"
    assert bed.issue_changes()[-1] == "escalated"
    last_action = [e for e in bed.events if e.kind is EventKind.ACTION][-1].body
    assert last_action["reason"] == "every action of the ladder was tried; a person is needed"
    assert last_action["details"]["tried"] == ["flush_dns", "restart_service:dnsmasq"]


def test_an_action_that_does_not_take_effect_fails_at_once_and_the_next_rung_runs():
    bed = Bed(settings(), ScriptedActions(works={"restart_service:dnsmasq"}))
    bed.observe(True)
    assert bed.actions.runs == ["flush_dns", "restart_service:dnsmasq"]
    assert bed.actions_out()[:2] == [("flush_dns", "failed"), ("restart_service:dnsmasq", "attempted")]


def test_dry_run_changes_nothing_and_says_what_it_would_do():
    bed = Bed(settings(default_mode="dry-run"))
    bed.observe(True)
    bed.advance(100)
    assert bed.actions.runs == []
    assert bed.actions_out() == [("flush_dns", "skipped")]
    body = bed.events[-1].body
    assert body["reason"] == "policy dry-run: would run flush_dns, then restart_service:dnsmasq"
    assert body["mode"] == "dry-run"


def test_policy_off_is_audited_and_nothing_runs():
    bed = Bed(settings(policy={"dns_failure": {"mode": "off", "ladder": ["flush_dns"]}}))
    bed.observe(True)
    assert bed.actions.runs == []
    assert bed.actions_out() == [("flush_dns", "skipped")]
    assert bed.events[-1].body["reason"] == "policy off"


def test_issue_types_without_a_ladder_are_left_alone():
    bed = Bed(settings())
    bed.observe(True, issue_type="high_cpu", subject="system")
    assert bed.actions_out() == []


def test_an_informational_issue_is_never_acted_on_whatever_its_policy_says():
    bed = Bed(settings(policy={"gateway_led_red": {"mode": "auto", "ladder": ["restart_service:dnsmasq"]}}))
    bed.observe(True, issue_type="gateway_led_red", subject="gateway", severity=Severity.INFO)
    assert bed.actions.runs == [] and bed.actions_out() == []


def test_approval_waits_until_approved_then_runs_through_the_same_engine():
    bed = Bed(granting(default_mode="approval", cloud_actions=("flush_dns",)))
    bed.observe(True)
    bed.advance(600)
    assert bed.actions.runs == []
    assert bed.actions_out() == [("flush_dns", "pending")]
    issue_id = bed.tracker.active()[0].issue_id
    answer, events = bed.engine.request(None, issue_id, dry_run=False, requester=CLOUD)
    bed.events.extend(events)
    bed.tick()
    assert answer["approved"] is True
    assert bed.actions.runs == ["flush_dns"]
    attempted = [e.body for e in bed.events if e.kind is EventKind.ACTION][-1]
    assert (attempted["outcome"], attempted["origin"], attempted["mode"]) == ("attempted", "cloud", "approval")


def test_approving_an_issue_that_waits_for_nothing_is_refused():
    bed = Bed(settings())
    bed.observe(True)
    with pytest.raises(RemediationRefused, match="not waiting for approval"):
        bed.engine.request(None, bed.tracker.active()[0].issue_id, dry_run=False, requester=TECHNICIAN)


def recurring_fault(bed: Bed, times: int, every_s: float = 120.0) -> None:
    """The fault comes back `times` times; the first action fixes it each time."""
    for _ in range(times):
        bed.observe(True)
        bed.advance(5)
        bed.observe(False)
        bed.advance(every_s)


def test_rate_limit_holds_under_a_fault_that_keeps_coming_back():
    section = settings(recurrence_window_s=0, max_defer_s=0,
                       actions={"flush_dns": {"max_per_hour": 2}},
                       policy={"dns_failure": {"ladder": ["flush_dns"]}})
    bed = Bed(section)
    recurring_fault(bed, times=6)
    assert bed.actions.runs == ["flush_dns", "flush_dns"]
    skipped = [e.body["reason"] for e in bed.events if e.kind is EventKind.ACTION and e.change == "skipped"]
    assert skipped and all(r == "rate limit: flush_dns at most 2 per hour" for r in skipped)
    assert bed.issue_changes().count("escalated") == 4


def test_rate_limit_window_slides_an_hour_later():
    section = settings(recurrence_window_s=0, max_defer_s=0, actions={"flush_dns": {"max_per_hour": 1}},
                       policy={"dns_failure": {"ladder": ["flush_dns"]}})
    bed = Bed(section)
    recurring_fault(bed, times=2)
    bed.advance(3600)
    recurring_fault(bed, times=1)
    assert bed.actions.runs == ["flush_dns", "flush_dns"]


def test_global_cap_counts_every_action():
    section = settings(recurrence_window_s=0, max_defer_s=0, max_actions_per_hour=3,
                       actions={"flush_dns": {"max_per_hour": 10}}, policy={"dns_failure": {"ladder": ["flush_dns"]}})
    bed = Bed(section)
    recurring_fault(bed, times=5)
    assert len(bed.actions.runs) == 3
    assert "global cap: at most 3 actions per hour" in [e.body["reason"] for e in bed.events
                                                        if e.kind is EventKind.ACTION]


def test_a_disruptive_action_too_soon_after_another_is_deferred_then_runs():
    section = settings(min_disruptive_gap_s=300, recurrence_window_s=0,
                       policy={"dns_failure": {"ladder": ["restart_service:dnsmasq"]}})
    bed = Bed(section)
    recurring_fault(bed, times=1, every_s=10)
    bed.observe(True)
    assert bed.actions.runs == ["restart_service:dnsmasq"]
    assert bed.actions_out()[-1] == ("restart_service:dnsmasq", "deferred")
    assert bed.engine.next_deadline() == pytest.approx(bed.clock.monotonic() + 285)
    bed.advance(200)
    bed.observe(True)  # still there: deferred once, not audited again every sample
    assert [o for _, o in bed.actions_out()].count("deferred") == 1
    bed.advance(90)
    assert bed.actions.runs == ["restart_service:dnsmasq", "restart_service:dnsmasq"]


def test_a_deferred_action_is_cancelled_when_the_issue_clears_first():
    section = settings(min_disruptive_gap_s=300, recurrence_window_s=0,
                       policy={"dns_failure": {"ladder": ["restart_service:dnsmasq"]}})
    bed = Bed(section)
    recurring_fault(bed, times=1, every_s=10)
    bed.observe(True)
    bed.observe(False)
    bed.advance(600)
    assert bed.actions.runs == ["restart_service:dnsmasq"]
    assert bed.actions_out()[-1] == ("restart_service:dnsmasq", "cancelled")


def test_quiet_hours_hold_disruptive_actions_but_not_gentle_ones():
    # ManualClock's wall clock starts at 1_700_000_000: check the local hour it falls in and cover it.
    import time as _time
    hour = _time.localtime(1_700_000_000).tm_hour
    quiet = f"{hour:02d}:00-{(hour + 2) % 24:02d}:00"
    section = settings(quiet_hours=quiet, max_defer_s=0,
                       policy={"dns_failure": {"ladder": ["flush_dns", "restart_service:dnsmasq"]}})
    bed = Bed(section, ScriptedActions(works={"restart_service:dnsmasq"}))
    bed.observe(True)
    assert bed.actions.runs == ["flush_dns"]  # not disruptive: runs in quiet hours
    assert bed.actions_out()[-2:] == [("restart_service:dnsmasq", "skipped"),
                                      ("restart_service:dnsmasq", "escalated")]
    assert bed.events[-3].body["reason"] == f"quiet hours {quiet}"


def test_backoff_after_a_failed_fix_grows_exponentially():
    section = settings(backoff_base_s=100, recurrence_window_s=0, max_defer_s=10_000,
                       policy={"dns_failure": {"ladder": ["flush_dns"]}})
    bed = Bed(section, ScriptedActions(works=()))
    bed.observe(True)  # fails at once: escalated, flush_dns backs off 100 s
    bed.observe(False)
    bed.observe(True)
    assert bed.actions.runs == ["flush_dns"]
    assert bed.engine.next_deadline() == pytest.approx(bed.clock.monotonic() + 100)
    bed.advance(100)
    assert bed.actions.runs == ["flush_dns", "flush_dns"]
    bed.observe(False)
    bed.observe(True)
    assert bed.engine.next_deadline() == pytest.approx(bed.clock.monotonic() + 200)


def test_a_fix_that_does_not_hold_is_not_repeated():
    bed = Bed(settings(recurrence_window_s=600))
    recurring_fault(bed, times=2, every_s=60)
    assert bed.actions.runs == ["flush_dns", "restart_service:dnsmasq"]
    assert ("flush_dns", "skipped") in bed.actions_out()
    assert bed.engine.flaps_prevented == 1


def test_a_fix_that_held_longer_than_the_recurrence_window_may_run_again():
    bed = Bed(settings(recurrence_window_s=600))
    recurring_fault(bed, times=2, every_s=700)
    assert bed.actions.runs == ["flush_dns", "flush_dns"]


def test_an_action_that_failed_to_fix_is_undone_before_the_next_rung():
    section = settings(policy={"wifi_interference": {"ladder": ["switch_channel", "restart_radio"]}})
    bed = Bed(section, ScriptedActions(works={"switch_channel", "restart_radio"}, undoable={"switch_channel"}))
    bed.observe(True, issue_type="wifi_interference", subject="wlan0", severity=Severity.WARNING)
    bed.advance(31)
    assert bed.actions.undos == ["switch_channel"]
    assert bed.actions_out()[:4] == [("switch_channel", "attempted"), ("switch_channel", "failed"),
                                     ("switch_channel", "rolled_back"), ("restart_radio", "attempted")]


def test_an_action_that_raises_is_a_failed_action_and_the_engine_goes_on():
    bed = Bed(settings(), ScriptedActions(raises={"flush_dns"}))
    bed.observe(True)
    assert bed.actions_out()[0] == ("flush_dns", "failed")
    assert "RuntimeError: the action broke" in bed.events[[e.kind for e in bed.events].index(EventKind.ACTION)] \
        .body["reason"]
    assert bed.actions.runs == ["flush_dns", "restart_service:dnsmasq"]


def test_an_action_these_premises_cannot_run_is_skipped_with_the_reason():
    bed = Bed(settings(), ScriptedActions(problems={"flush_dns": "no resolver cache here"}))
    bed.observe(True)
    assert bed.actions_out()[:2] == [("flush_dns", "skipped"), ("restart_service:dnsmasq", "attempted")]


def test_subject_placeholder_targets_the_issue_subject():
    section = settings(policy={"process_down": {"ladder": ["restart_service:{subject}"]}},
                       targets={"services": ["dnsmasq", "hostapd", "mosquitto"]})
    bed = Bed(section, ScriptedActions(works={"restart_service:mosquitto"}))
    bed.observe(True, issue_type="process_down", subject="mosquitto")
    assert bed.actions.runs == ["restart_service:mosquitto"]


@pytest.mark.parametrize("subject, reason", [
    ("reboot.target", "restart_service: reboot.target is not in [remediation.targets] services"),
    ("-x", "restart_service: the issue's subject cannot be an action target"),
])
def test_a_subject_that_is_not_a_listed_target_is_refused_audited_and_the_ladder_goes_on(subject, reason):
    section = settings(policy={"process_down": {"ladder": ["restart_service:{subject}", "flush_dns"]}})
    bed = Bed(section)
    bed.observe(True, issue_type="process_down", subject=subject)
    assert bed.actions.runs == ["flush_dns"]
    refused = [e.body for e in bed.events if e.kind is EventKind.ACTION][0]
    assert (refused["outcome"], refused["origin"], refused["reason"]) == ("skipped", "auto", f"refused: {reason}")
    assert refused["details"] == {"refused": True}


def test_a_manual_request_without_an_issue_completes_and_is_audited():
    bed = Bed(granting())
    answer, events = bed.engine.request("restart_service:dnsmasq", None, dry_run=False, requester=TECHNICIAN)
    bed.events.extend(events)
    bed.tick()
    assert answer["state"] == "running"
    assert bed.actions.runs == ["restart_service:dnsmasq"]
    assert bed.actions_out() == [("restart_service:dnsmasq", "completed")]
    assert bed.events[-1].body["origin"] == "cli"


def test_a_manual_dry_run_changes_nothing():
    bed = Bed(settings())
    answer, events = bed.engine.request("restart_service:dnsmasq", None, dry_run=True, requester=TECHNICIAN)
    assert answer["dry_run"] is True and "restarts the service dnsmasq" in answer["would"]
    assert bed.actions.runs == []
    assert [e.change for e in events] == ["skipped"]


@pytest.mark.parametrize("action, message", [
    ("reboot_everything", "unknown action 'reboot_everything'"),
    ("restart_service", "restart_service needs a target"),
    ("restart_service:a b", "target in 'restart_service:a b'"),
    ("restart_service:{subject}", "needs an issue"),
])
def test_a_bad_manual_request_is_refused_with_what_is_wrong(action, message):
    bed = Bed(settings())
    with pytest.raises(RemediationRefused, match=message):
        bed.engine.request(action, None, dry_run=False, requester=CLOUD)
    assert bed.actions.runs == []


def test_the_cloud_cannot_bypass_the_rate_limit():
    bed = Bed(granting(cloud_actions=("restart_service",), actions={"restart_service": {"max_per_hour": 1}}))
    bed.engine.request("restart_service:dnsmasq", None, dry_run=False, requester=CLOUD)
    bed.tick()
    with pytest.raises(RemediationRefused, match="rate limit") as refused:
        bed.engine.request("restart_service:dnsmasq", None, dry_run=False, requester=CLOUD)
    assert refused.value.event is not None and refused.value.event.change == "skipped"
    assert bed.actions.runs == ["restart_service:dnsmasq"]


def test_a_technicians_requests_follow_the_technicians_mode():
    bed = Bed(granting(cli_mode="off"))
    with pytest.raises(RemediationRefused, match="requests from a technician are off"):
        bed.engine.request("flush_dns", None, dry_run=False, requester=TECHNICIAN)
    bed = Bed(granting(cli_mode="dry-run"))
    answer, _ = bed.engine.request("flush_dns", None, dry_run=False, requester=TECHNICIAN)
    assert answer["dry_run"] is True and bed.actions.runs == []


def test_a_technicians_request_that_names_no_issue_is_a_dry_run_unless_configured():
    bed = Bed(settings())  # the shipped authority
    answer, events = bed.engine.request("restart_service:dnsmasq", None, dry_run=False, requester=TECHNICIAN)
    assert answer["dry_run"] is True and bed.actions.runs == []
    assert [(e.body["outcome"], e.body["origin"]) for e in events] == [("skipped", "cli")]


def test_a_request_for_an_issue_whose_policy_is_off_is_refused():
    bed = Bed(settings(policy={"dns_failure": {"mode": "off", "ladder": ["flush_dns"]}}))
    bed.observe(True)
    with pytest.raises(RemediationRefused, match="off by policy for dns_failure"):
        bed.engine.request("flush_dns", bed.tracker.active()[0].issue_id, dry_run=False, requester=TECHNICIAN)


def test_only_one_action_runs_at_a_time():
    bed = Bed(granting())
    started = []
    bed.engine.run_async = started.append  # hold the action: it has not reported back
    bed.observe(True)
    with pytest.raises(RemediationRefused, match="another action is running"):
        bed.engine.request("restart_service:hostapd", None, dry_run=False, requester=TECHNICIAN)
    bed.observe(True, issue_type="dns_failure", subject="192.168.1.2")
    assert len(started) == 1  # the second issue's action waits its turn
    started.pop()()
    bed.tick()
    assert len(started) == 1


def test_action_and_issue_events_match_the_published_contract():
    bed = Bed(settings())
    recurring_fault(bed, times=2, every_s=60)
    envelopes = EnvelopeFactory("gw-1", "site-1", lambda: True)
    assert any(e.kind is EventKind.ACTION for e in bed.events)
    for event in bed.events:
        schema, model = (SCHEMA_ACTION, ActionEvent) if event.kind is EventKind.ACTION else (SCHEMA_ISSUE, IssueEvent)
        model.model_validate(envelopes.wrap(schema, {"change": event.change, **event.body}, event.ts, event.mono))


def refuse_to_start(self) -> None:
    raise RuntimeError("can't start new thread")


def test_a_request_whose_worker_thread_cannot_start_fails_cleanly_and_the_engine_stays_usable(monkeypatch):
    bed = Bed(granting())
    bed.engine.run_async = run_on_thread  # the real worker thread, as in the agent
    monkeypatch.setattr(threading.Thread, "start", refuse_to_start)
    with pytest.raises(RemediationRefused, match="could not start: RuntimeError: can't start new thread") as refused:
        bed.engine.request("restart_service:dnsmasq", None, dry_run=False, requester=TECHNICIAN)
    failed = refused.value.event.body
    assert (failed["outcome"], failed["origin"]) == ("failed", "cli")
    assert bed.engine.cases() == []

    monkeypatch.undo()
    bed.engine.run_async = lambda work: work()
    answer, events = bed.engine.request("restart_service:dnsmasq", None, dry_run=False, requester=TECHNICIAN)
    bed.events.extend(events)
    bed.tick()
    assert answer["state"] == "running" and bed.actions.runs == ["restart_service:dnsmasq"]
    assert bed.actions_out()[-1] == ("restart_service:dnsmasq", "completed")


def test_an_issue_whose_actions_cannot_start_is_escalated_and_the_next_issue_is_remediated(monkeypatch):
    bed = Bed(settings())
    bed.engine.run_async = run_on_thread
    monkeypatch.setattr(threading.Thread, "start", refuse_to_start)
    bed.observe(True)
    assert bed.actions.runs == []
    assert bed.actions_out() == [("flush_dns", "failed"), ("restart_service:dnsmasq", "failed"),
                                 ("restart_service:dnsmasq", "escalated")]
    assert "could not start" in bed.events[[e.kind for e in bed.events].index(EventKind.ACTION)].body["reason"]

    monkeypatch.undo()
    bed.engine.run_async = lambda work: work()
    bed.observe(True, subject="192.168.1.2")  # a second resolver fails: nothing is left "running"
    assert bed.actions.runs == ["flush_dns"]


def test_an_undo_whose_worker_thread_cannot_start_is_a_failed_undo_and_the_ladder_goes_on():
    section = settings(policy={"wifi_interference": {"ladder": ["switch_channel", "restart_radio"]}})
    bed = Bed(section, ScriptedActions(works={"switch_channel", "restart_radio"}, undoable={"switch_channel"}))
    bed.observe(True, issue_type="wifi_interference", subject="wlan0", severity=Severity.WARNING)

    refusals = ["the undo's"]

    def no_thread_for_the_undo(work):
        if refusals:
            refusals.pop()
            raise RuntimeError("can't start new thread")
        work()

    bed.engine.run_async = no_thread_for_the_undo
    bed.advance(31)
    assert bed.actions.undos == []
    assert bed.actions_out()[1:4] == [("switch_channel", "failed"), ("switch_channel", "failed"),
                                      ("restart_radio", "attempted")]
    undo = [e.body for e in bed.events if e.kind is EventKind.ACTION][2]
    assert undo["reason"] == "undo of switch_channel: could not start: RuntimeError: can't start new thread"
    assert bed.actions.runs == ["switch_channel", "restart_radio"]


def test_a_fixed_fault_back_within_the_hold_down_is_the_fix_not_holding_the_ladder_moves_on_once():
    bed = Bed(settings(recurrence_window_s=600), hold_down_s=30)
    bed.observe(True)
    bed.advance(5)
    bed.observe(False)  # flush_dns fixed it
    bed.advance(10)
    bed.observe(True)  # back 15 s later: damped into the same issue, announced as an update
    assert bed.issue_changes().count("opened") == 1
    assert bed.actions.runs == ["flush_dns", "restart_service:dnsmasq"]
    assert ("flush_dns", "skipped") in bed.actions_out()
    for _ in range(5):  # it keeps flapping while the restart is being verified: nothing more runs
        bed.advance(2)
        bed.observe(False)
        bed.advance(2)
        bed.observe(True)
    assert bed.actions.runs == ["flush_dns", "restart_service:dnsmasq"]
