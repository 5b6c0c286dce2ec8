"""The remediation engine: policy → safety limits → action → verification → next rung, rollback or escalation.

It runs on the agent's loop thread. Actions themselves run one at a time on a worker thread (a restart may take
seconds, and two actions at once would blur which one fixed what); their results come back through `tick`.
Every decision, including each "no" (the authority policy's refusals with who asked and why), becomes an audited
`event/action`.
"""

from __future__ import annotations

import enum
import logging
import queue
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_agent.clock import Clock
from edge_agent.issues import IssueTracker
from edge_agent.model import Action, ActionOutcome, Event, EventKind, IssueState
from edge_agent.remediation.authority import AGENT, Requester, refusal, request_mode
from edge_agent.remediation.executor import ActionExecutor, ActionResult
from edge_agent.remediation.refs import ACTION_SPECS, ActionRef, parse_ref
from edge_agent.remediation.safety import SafetyGates
from edge_agent.remediation.settings import RemediationSection

log = logging.getLogger(__name__)

FIXED_ISSUES_KEPT = 256  # issues our fixes resolved, remembered to notice their return


class RemediationRefused(Exception):
    """A technician's or the cloud's request that the engine will not carry out; the message says why.

    `events` are what the refusal caused, its audit record first (`request` fills it in for every refusal)."""

    def __init__(self, reason: str, events: list[Event] | None = None):
        super().__init__(reason)
        self.events = list(events or [])

    @property
    def event(self) -> Event | None:
        return self.events[0] if self.events else None


class CaseState(str, enum.Enum):
    AWAITING_APPROVAL = "awaiting_approval"
    DEFERRED = "deferred"
    QUEUED = "queued"  # allowed, waiting for the action that is running now
    RUNNING = "running"
    VERIFYING = "verifying"
    UNDOING = "undoing"
    DONE = "done"


@dataclass
class Case:
    """One issue's way through its ladder (or one manual request)."""

    issue_id: str | None
    issue_type: str | None
    subject: str | None
    ladder: list[ActionRef]
    mode: str
    requester: Requester
    started_mono: float
    rung: int = 0
    state: CaseState = CaseState.QUEUED
    not_before: float = 0.0
    verify_until: float = 0.0
    action_id: str = ""
    evidence_before: dict[str, Any] = field(default_factory=dict)
    result: ActionResult | None = None
    deferred_reason: str | None = None
    resolved_evidence: dict[str, Any] | None = None  # set when the issue resolved while the action ran
    tried: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return self.requester.origin

    @property
    def ref(self) -> ActionRef:
        ref = self.ladder[self.rung]
        if not self.subject:
            return ref
        try:
            return ref.for_subject(self.subject)
        except ValueError:
            return ref  # still {subject}: the authority policy refuses it, with the reason, before it can run

    @property
    def manual_without_issue(self) -> bool:
        return self.issue_id is None


@dataclass
class RecentFix:
    mono: float
    rung: int


def run_on_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="remediation-action", daemon=True).start()


class RemediationEngine:
    def __init__(
        self,
        settings: RemediationSection,
        executor: ActionExecutor,
        tracker: IssueTracker,
        clock: Clock,
        run_async: Callable[[Callable[[], None]], None] = run_on_thread,
        wake: Callable[[], None] = lambda: None,
    ):
        self.settings = settings
        self.executor = executor
        self.tracker = tracker
        self.clock = clock
        self.gates = SafetyGates(settings)
        self.run_async = run_async
        self._wake = wake
        self._cases: dict[str, Case] = {}  # by issue id, or by action id for manual requests
        self._running: Case | None = None
        self._finished: queue.SimpleQueue[tuple[Case, str, ActionResult]] = queue.SimpleQueue()
        self._recent_fixes: dict[tuple[str, str], RecentFix] = {}
        # Issues our action fixed: the tracker's flap damping may bring one back as the same issue (an update, not
        # an opening), and that return must count as "the fix did not hold", not pass unseen.
        self._fixed_issues: OrderedDict[str, None] = OrderedDict()
        self.flaps_prevented = 0

    def update_settings(self, settings: RemediationSection) -> None:
        self.settings = settings
        self.gates.settings = settings

    # The pipeline's hook: every issue change passes here.
    def on_issue_event(self, event: Event) -> list[Event]:
        body = event.body
        if event.change == "opened":
            return self._open_case(body, event.mono, event.ts)
        if event.change == "updated" and body.get("state") == "open" and body["issue_id"] in self._fixed_issues:
            del self._fixed_issues[body["issue_id"]]  # once per fix: the ladder moves on, it never acts per flap
            return self._open_case(body, event.mono, event.ts)
        if event.change == "resolved":
            return self._issue_resolved(body, event.mono, event.ts)
        return []

    def _open_case(self, issue: Mapping[str, Any], mono: float, ts: float) -> list[Event]:
        mode, ladder = self.settings.policy_for(issue["type"])
        if not ladder:
            return []
        if issue.get("severity") == "info":
            # Informational issues (an unvalidated model's verdicts) are for people to read; nothing acts on them,
            # whatever policy an operator writes for their type.
            return []
        case = Case(issue["issue_id"], issue["type"], issue["subject"], ladder, mode, AGENT, mono,
                    evidence_before=dict(issue["evidence"]))
        recent = self._recent_fixes.get((issue["type"], issue["subject"]))
        events: list[Event] = []
        if recent is not None and mono - recent.mono < self.settings.recurrence_window_s:
            # The fix did not hold: repeating it would flap. Go on from the next rung.
            case.rung = recent.rung + 1
            self.flaps_prevented += 1
            events.append(self._audit(case, ActionOutcome.SKIPPED, ts, f"{ladder[recent.rung]} fixed this "
                          f"{mono - recent.mono:.0f} s ago and it came back: not repeating it",
                          ref=ladder[recent.rung]))
            if case.rung >= len(ladder):
                return events + self._escalate(case, mono, ts, "the fix did not hold and no other action is left")
        if mode == "off":
            return events + [self._audit(case, ActionOutcome.SKIPPED, ts, "policy off")]
        if mode == "dry-run":
            would = ", then ".join(str(r) for r in ladder[case.rung:])
            return events + [self._audit(case, ActionOutcome.SKIPPED, ts, f"policy dry-run: would run {would}",
                                         details={"would_run": [str(r) for r in ladder[case.rung:]]})]
        self._cases[case.issue_id] = case
        if mode == "approval":
            case.state = CaseState.AWAITING_APPROVAL
            return events + [self._audit(case, ActionOutcome.PENDING, ts, "waiting for approval: edge-agent "
                                         f"remediate --approve {case.issue_id}, or the cloud command remediate")]
        return events + self._advance(case, mono, ts)

    def _advance(self, case: Case, mono: float, ts: float) -> list[Event]:
        """Try the case's current rung now: run it, defer it, queue it, or give up on it."""
        if case.rung >= len(case.ladder):
            return self._escalate(case, mono, ts, "every action of the ladder was tried")
        ref = case.ref
        refused = refusal(self.settings, case.requester, ref)
        problem = f"refused: {refused}" if refused else self.executor.problem(ref)
        if problem:
            details = {"refused": True} if refused else None
            event = self._audit(case, ActionOutcome.SKIPPED, ts, problem, details=details)
            case.rung += 1
            return [event, *self._advance(case, mono, ts)]
        blocked = self.gates.check(ref, self.executor.disruptive(ref), mono, self.clock.wall())
        if blocked is not None:
            if blocked.not_before - mono <= self.settings.max_defer_s:
                repeat = case.state is CaseState.DEFERRED and case.deferred_reason == blocked.reason
                case.state, case.not_before, case.deferred_reason = CaseState.DEFERRED, blocked.not_before, \
                    blocked.reason
                if repeat:
                    return []
                wait_s = blocked.not_before - mono
                return [self._audit(case, ActionOutcome.DEFERRED, ts, f"{blocked.reason}: waits {wait_s:.0f} s",
                                    details={"wait_s": wait_s})]
            event = self._audit(case, ActionOutcome.SKIPPED, ts, blocked.reason)
            return [event, *self._escalate(case, mono, ts, f"{ref} is held back ({blocked.reason})")]
        if self._running is not None:
            case.state = CaseState.QUEUED
            return []
        return self._start(case, mono, ts)

    def _start(self, case: Case, mono: float, ts: float) -> list[Event]:
        ref = case.ref
        case.state = CaseState.RUNNING
        case.action_id = uuid.uuid4().hex
        case.tried.append(str(ref))
        case.result = None
        timeout = self.settings.limits(ref.name).timeout_s
        log.warning("remediation: running %s for %s", ref, case.issue_type or "a manual request")

        def work() -> None:
            try:
                result = self.executor.run(ref, timeout)
            except Exception as exc:  # noqa: BLE001 — a broken action is a failed action, never a dead engine
                log.error("action %s raised", ref, exc_info=True)
                result = ActionResult(False, f"{type(exc).__name__}: {exc}")
            self._finished.put((case, "run", result))
            self._wake()

        self._running = case
        try:
            self.run_async(work)
        except Exception as exc:  # noqa: BLE001 — no worker (thread limit, memory): a failed action, not a wedged engine
            self._running = None
            return self._run_finished(case, ActionResult(False, f"could not start: {type(exc).__name__}: {exc}"),
                                      mono, ts)
        self.gates.record_run(ref, self.executor.disruptive(ref), mono)
        return self._mark_issue(case, IssueState.REMEDIATING, mono, ts, f"running {ref}")

    def tick(self) -> list[Event]:
        """Collect finished actions, end verification windows, retry deferred rungs, start queued ones."""
        events: list[Event] = []
        while True:
            events += self._collect_finished()
            mono, ts = self.clock.monotonic(), self.clock.wall()
            for case in list(self._cases.values()):
                if case.state is CaseState.VERIFYING and mono >= case.verify_until:
                    events += self._not_fixed(case, mono, ts)
                elif case.state is CaseState.DEFERRED and mono >= case.not_before:
                    events += self._advance(case, mono, ts)
            for case in sorted(self._cases.values(), key=lambda c: c.started_mono):
                if self._running is None and case.state is CaseState.QUEUED:
                    events += self._advance(case, mono, ts)
            if self._finished.empty():  # an action that finished meanwhile is collected now, not next time
                return events

    def _collect_finished(self) -> list[Event]:
        events: list[Event] = []
        while True:
            try:
                case, step, result = self._finished.get_nowait()
            except queue.Empty:
                return events
            self._running = None
            mono, ts = self.clock.monotonic(), self.clock.wall()
            handler = self._run_finished if step == "run" else self._undo_finished
            events += handler(case, result, mono, ts)

    def next_deadline(self) -> float | None:
        """The monotonic time `tick` next has something to do (None: only when an action finishes)."""
        times = [c.verify_until for c in self._cases.values() if c.state is CaseState.VERIFYING]
        times += [c.not_before for c in self._cases.values() if c.state is CaseState.DEFERRED]
        return min(times) if times else None

    def _run_finished(self, case: Case, result: ActionResult, mono: float, ts: float) -> list[Event]:
        case.result = result
        ref = case.ref
        details = {"result": result.detail, **result.data}
        if case.manual_without_issue:
            self._forget(case)
            outcome = ActionOutcome.COMPLETED if result.ok else ActionOutcome.FAILED
            return [self._audit(case, outcome, ts, result.detail, details=details)]
        if not result.ok:
            self.gates.record_result(ref, fixed=False, mono=mono)
            event = self._audit(case, ActionOutcome.FAILED, ts, f"{ref} did not take effect: {result.detail}",
                                details=details, evidence_after=self._current_evidence(case))
            return [event, *self._after_failure(case, mono, ts)]
        if case.resolved_evidence is not None:  # the issue cleared while the action ran
            return self._fixed(case, case.resolved_evidence, mono, ts)
        case.state = CaseState.VERIFYING
        window = self.settings.verify_window_for(case.issue_type or "")
        case.verify_until = mono + window
        event = self._audit(case, ActionOutcome.ATTEMPTED, ts, f"{result.detail}; watching the issue for "
                            f"{window:g} s", details=details)
        return [event, *self._mark_issue(case, IssueState.VERIFYING, mono, ts, f"{ref} done, verifying")]

    def _not_fixed(self, case: Case, mono: float, ts: float) -> list[Event]:
        ref = case.ref
        self.gates.record_result(ref, fixed=False, mono=mono)
        window = self.settings.verify_window_for(case.issue_type or "")
        event = self._audit(case, ActionOutcome.FAILED, ts, f"the issue was still there {window:g} s after {ref}",
                            evidence_after=self._current_evidence(case))
        return [event, *self._after_failure(case, mono, ts)]

    def _after_failure(self, case: Case, mono: float, ts: float) -> list[Event]:
        result = case.result
        if result is not None and result.undo_state is not None:
            return self._start_undo(case, result, mono, ts)
        case.rung += 1
        return self._advance(case, mono, ts)

    def _start_undo(self, case: Case, result: ActionResult, mono: float, ts: float) -> list[Event]:
        ref = case.ref
        case.state = CaseState.UNDOING
        timeout = self.settings.limits(ref.name).timeout_s

        def work() -> None:
            try:
                undone = self.executor.undo(ref, result, timeout)
            except Exception as exc:  # noqa: BLE001
                undone = ActionResult(False, f"{type(exc).__name__}: {exc}")
            self._finished.put((case, "undo", undone))
            self._wake()

        self._running = case
        try:
            self.run_async(work)
        except Exception as exc:  # noqa: BLE001 — as in _start
            self._running = None
            return self._undo_finished(case, ActionResult(False, f"could not start: {type(exc).__name__}: {exc}"),
                                       mono, ts)
        return []

    def _undo_finished(self, case: Case, undone: ActionResult, mono: float, ts: float) -> list[Event]:
        outcome = ActionOutcome.ROLLED_BACK if undone.ok else ActionOutcome.FAILED
        event = self._audit(case, outcome, ts, f"undo of {case.ref}: {undone.detail}", details=dict(undone.data))
        if case.resolved_evidence is not None:
            self._forget(case)
            return [event]
        case.rung += 1
        return [event, *self._advance(case, mono, ts)]

    def _issue_resolved(self, issue: Mapping[str, Any], mono: float, ts: float) -> list[Event]:
        case = self._cases.get(issue["issue_id"])
        if case is None:
            return []
        evidence = dict(issue["evidence"])
        if case.state is CaseState.VERIFYING:
            return self._fixed(case, evidence, mono, ts)
        if case.state in (CaseState.RUNNING, CaseState.UNDOING):
            case.resolved_evidence = evidence  # decided when the action reports back
            return []
        self._forget(case)
        return [self._audit(case, ActionOutcome.CANCELLED, ts, "the issue resolved before the action ran",
                            evidence_after=evidence)]

    def _fixed(self, case: Case, evidence_after: dict[str, Any], mono: float, ts: float) -> list[Event]:
        ref = case.ref
        self.gates.record_result(ref, fixed=True, mono=mono)
        self._forget(case)
        if case.issue_type and case.subject is not None:
            self._recent_fixes[(case.issue_type, case.subject)] = RecentFix(mono, case.rung)
        if case.issue_id:
            self._fixed_issues[case.issue_id] = None
            while len(self._fixed_issues) > FIXED_ISSUES_KEPT:
                self._fixed_issues.popitem(last=False)
        return [self._audit(case, ActionOutcome.FIXED, ts, f"{ref} fixed it", evidence_after=evidence_after,
                            details={"time_to_fix_s": round(mono - case.started_mono, 1)})]

    def _escalate(self, case: Case, mono: float, ts: float, why: str) -> list[Event]:
        self._forget(case)
        issue = self.tracker.find(case.issue_id) if case.issue_id else None
        guidance = issue.guidance if issue else ""
        event = self._audit(case, ActionOutcome.ESCALATED, ts, f"{why}; a person is needed",
                            evidence_after=self._current_evidence(case),
                            details={"tried": list(case.tried), "guidance": guidance})
        return [event, *self._mark_issue(case, IssueState.ESCALATED, mono, ts, why)]

    def _forget(self, case: Case) -> None:
        case.state = CaseState.DONE
        for key, known in list(self._cases.items()):  # by identity: a manual case's action id changes when it starts
            if known is case:
                del self._cases[key]

    def _current_evidence(self, case: Case) -> dict[str, Any] | None:
        issue = self.tracker.find(case.issue_id) if case.issue_id else None
        return dict(issue.evidence) if issue else None

    def _mark_issue(self, case: Case, state: IssueState, mono: float, ts: float, reason: str) -> list[Event]:
        if case.issue_id is None:
            return []
        event = self.tracker.mark(case.issue_id, state, reason, mono, ts)
        return [event] if event else []

    def _audit(
        self,
        case: Case,
        outcome: ActionOutcome,
        ts: float,
        reason: str,
        *,
        ref: ActionRef | None = None,
        evidence_after: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Event:
        if ref is None:
            ref = case.ref if case.rung < len(case.ladder) else case.ladder[-1]
        action = Action(
            action_id=case.action_id or uuid.uuid4().hex, name=ref.name, target=ref.target, outcome=outcome,
            reason=reason, origin=case.origin, mode=case.mode, issue_id=case.issue_id,
            issue_type=case.issue_type, subject=case.subject, rung=case.rung,
            disruptive=self.executor.disruptive(ref), evidence_before=case.evidence_before,
            evidence_after=evidence_after, details=dict(details or {}),
        )
        if outcome is not ActionOutcome.ATTEMPTED:
            log.warning("remediation: %s %s: %s", ref, outcome.value, reason)
        return Event(EventKind.ACTION, outcome.value, action.to_dict(), ts, self.clock.monotonic())

    # Technicians (CLI) and the cloud (cmd/remediate): the authority policy, then the same policy and limits as
    # the agent's own decisions; never deferred.
    def request(
        self, action: str | None, issue_id: str | None, dry_run: bool, requester: Requester
    ) -> tuple[dict, list[Event]]:
        """Start, approve or dry-run an action; returns the answer and the events it caused.

        Raises RemediationRefused with the reason when the authority policy, the issue's policy, the limits or the
        request itself say no; its first event is the audit record of the refusal."""
        mono, ts = self.clock.monotonic(), self.clock.wall()
        try:
            return self._request(action, issue_id, dry_run, requester, mono, ts)
        except RemediationRefused as exc:
            if not exc.events:
                exc.events = [self._refusal(action, issue_id, requester, str(exc), ts)]
            raise

    def _request(
        self, action: str | None, issue_id: str | None, dry_run: bool, requester: Requester, mono: float, ts: float
    ) -> tuple[dict, list[Event]]:
        issue = None
        if issue_id is not None:
            issue = self.tracker.find(issue_id)
            if issue is None:
                raise RemediationRefused(f"no open issue {issue_id}")
        if action is None:
            if issue is None:
                raise RemediationRefused("name an action, or an issue to approve")
            return self._approve(issue.issue_id, requester, mono, ts)
        try:
            ref = parse_ref(action)
            ref = ref.for_subject(issue.subject) if issue else ref
        except ValueError as exc:
            raise RemediationRefused(str(exc)) from None
        if ref.target == "{subject}":
            raise RemediationRefused(f"{ref}: {{subject}} needs an issue (--issue)")
        refused = refusal(self.settings, requester, ref)
        if refused:
            raise RemediationRefused(refused)
        issue_mode = None
        if issue is not None and self.settings.policy.get(issue.type) is not None:  # else: the origin's mode
            issue_mode = self.settings.policy_for(issue.type)[0]
        mode = request_mode(self.settings, requester, issue_mode)
        if mode == "off":
            raise RemediationRefused(f"remediation is off by policy for {issue.type if issue else 'this request'}")
        case = Case(issue.issue_id if issue else None, issue.type if issue else None, issue.subject if issue else None,
                    [ref], "dry-run" if dry_run or mode == "dry-run" else "auto", requester, mono,
                    evidence_before=dict(issue.evidence) if issue else {})
        case.action_id = uuid.uuid4().hex
        problem = self.executor.problem(ref)
        if problem:
            raise RemediationRefused(problem)
        if case.mode == "dry-run":
            spec = ref.spec
            why = "as asked" if dry_run else (f"the policy for {issue.type} is dry-run" if issue_mode == "dry-run"
                                              else f"[remediation.authority.{requester.origin}] mode is dry-run")
            reason = f"dry-run: would run {ref}, which {spec.changes.format(target=ref.target or 'the default')} " \
                     f"({why})"
            event = self._audit(case, ActionOutcome.SKIPPED, ts, reason)
            return {"action_id": case.action_id, "dry_run": True, "would": reason}, [event]
        existing = self._cases.get(issue.issue_id) if issue else None
        if existing is not None and existing.state is not CaseState.AWAITING_APPROVAL:
            raise RemediationRefused(f"issue {issue.issue_id} is already being remediated ({existing.state.value})")
        blocked = self.gates.check(ref, self.executor.disruptive(ref), mono, self.clock.wall())
        if blocked is not None:
            event = self._audit(case, ActionOutcome.SKIPPED, ts, blocked.reason)
            raise RemediationRefused(f"{blocked.reason}; allowed again in {blocked.not_before - mono:.0f} s", [event])
        if self._running is not None:
            raise RemediationRefused(f"another action is running ({self._running.ref}); try again shortly")
        self._cases[case.issue_id or case.action_id] = case
        events = self._start(case, mono, ts)
        if case.state is CaseState.DONE and case.result is not None and not case.result.ok:
            raise RemediationRefused(f"{ref}: {case.result.detail}", events)  # it could not even start
        return {"action_id": case.action_id, "dry_run": False, "state": "running", "action": str(ref)}, events

    def _approve(self, issue_id: str, requester: Requester, mono: float, ts: float) -> tuple[dict, list[Event]]:
        case = self._cases.get(issue_id)
        if case is None or case.state is not CaseState.AWAITING_APPROVAL:
            raise RemediationRefused(f"issue {issue_id} is not waiting for approval")
        refused = refusal(self.settings, requester, case.ref)
        if refused:
            raise RemediationRefused(refused)
        case.requester, case.mode = requester, "approval"
        events = self._advance(case, mono, ts)
        answer = {"issue_id": issue_id, "approved": True, "state": case.state.value, "action": str(case.ref),
                  "action_id": case.action_id or None}
        return answer, events

    def _refusal(self, action: str | None, issue_id: str | None, requester: Requester, reason: str,
                 ts: float) -> Event:
        """The audit record of a refused request: who asked, for what (as far as it can be read), and why not."""
        issue = self.tracker.find(issue_id) if issue_id else None
        pending = self._cases.get(issue_id) if issue_id and action is None else None
        name, target = _requested(action, pending)
        authority = self.settings.origin_authority(requester.origin)
        details: dict[str, Any] = {"refused": True, "request": _shown(action)}
        if requester.origin == "cli":
            details["admin"] = requester.admin
        record = Action(
            action_id=uuid.uuid4().hex, name=name, target=target, outcome=ActionOutcome.SKIPPED,
            reason=f"refused: {reason}", origin=requester.origin, mode=authority.mode if authority else "auto",
            issue_id=issue.issue_id if issue else None, issue_type=issue.type if issue else None,
            subject=issue.subject if issue else None, rung=0,
            disruptive=ACTION_SPECS[name].disruptive if name in ACTION_SPECS else True,
            evidence_before=dict(issue.evidence) if issue else {}, details=details,
        )
        log.warning("remediation: request from %s refused: %s", requester.describe(), reason)
        return Event(EventKind.ACTION, ActionOutcome.SKIPPED.value, record.to_dict(), ts, self.clock.monotonic())

    def cases(self) -> list[dict[str, Any]]:
        return [
            {"issue_id": c.issue_id, "issue_type": c.issue_type, "state": c.state.value, "mode": c.mode,
             "action": str(c.ref) if c.rung < len(c.ladder) else None, "rung": c.rung, "tried": list(c.tried)}
            for c in self._cases.values()
        ]


def _requested(action: str | None, pending: Case | None) -> tuple[str, str | None]:
    """The action name and target a request asked for, for its audit record; "unknown" when it names none."""
    if action is None:
        return (pending.ref.name, pending.ref.target) if pending is not None else ("unknown", None)
    name, _, target = action.partition(":")
    if name not in ACTION_SPECS:
        return "unknown", None
    return name, target[:64] if target and _RECORDABLE_TARGET.match(target) else None


_RECORDABLE_TARGET = re.compile(r"^[A-Za-z0-9_.@{}-]{1,64}$")  # what the command gate lets through; nothing odder


def _shown(action: str | None) -> str | None:
    if action is None:
        return None
    return action if len(action) <= 80 else f"{action[:77]}..."
