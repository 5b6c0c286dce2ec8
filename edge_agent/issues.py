"""Issue lifecycle with hysteresis: open after N bad samples in a row, resolve after M good ones."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from edge_agent.guidance import guidance_for
from edge_agent.model import Event, EventKind, Finding, Issue, IssueState, Transition


@dataclass
class _Streak:
    bad: int = 0
    good: int = 0
    first_bad_ts: float = 0.0  # when the current run of bad samples began


@dataclass
class IssueCounters:
    detected: int = 0
    resolved: int = 0
    # An issue resolved before hysteresis ever let it open: noise that did not become a flapping issue.
    flaps_prevented: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"detected": self.detected, "resolved": self.resolved, "flaps_prevented": self.flaps_prevented}


class IssueTracker:
    """Turns findings into issue transitions, one issue per (type, subject). Thread-safe for readers."""

    def __init__(
        self,
        open_after: int,
        resolve_after: int,
        history_size: int = 200,
        per_type: Mapping[str, tuple[int, int]] | None = None,
    ):
        """`per_type` maps an issue type to its own (open_after, resolve_after)."""
        if open_after < 1 or resolve_after < 1:
            raise ValueError("open_after and resolve_after must be at least 1")
        self.open_after = open_after
        self.resolve_after = resolve_after
        self.per_type = dict(per_type or {})
        self._streaks: dict[tuple[str, str], _Streak] = {}
        self._active: dict[tuple[str, str], Issue] = {}
        self._history: deque[Issue] = deque(maxlen=history_size)
        self.counters = IssueCounters()
        self._lock = threading.Lock()

    def observe(self, finding: Finding, mono: float, ts: float) -> list[Event]:
        with self._lock:
            streak = self._streaks.setdefault(finding.key, _Streak())
            if finding.present:
                streak.bad += 1
                streak.good = 0
                if streak.bad == 1:
                    streak.first_bad_ts = ts
                return self._on_bad(finding, streak, mono, ts)
            had_bad = streak.bad
            streak.good += 1
            streak.bad = 0
            return self._on_good(finding, streak, had_bad, mono, ts)

    def _on_bad(self, finding: Finding, streak: _Streak, mono: float, ts: float) -> list[Event]:
        issue = self._active.get(finding.key)
        if issue is None:
            open_after = self.per_type.get(finding.type, (self.open_after, self.resolve_after))[0]
            if streak.bad < open_after:
                return []
            return [self._open(finding, streak, mono, ts)]
        issue.evidence = dict(finding.evidence)
        issue.updated_ts = ts
        if finding.severity.rank == issue.severity.rank:
            return []
        issue.severity = finding.severity
        issue.summary = finding.summary
        issue.transitions.append(Transition(issue.state, ts, f"severity now {finding.severity.value}"))
        return [_issue_event("updated", issue, mono, ts)]

    def _on_good(self, finding: Finding, streak: _Streak, had_bad: int, mono: float, ts: float) -> list[Event]:
        issue = self._active.get(finding.key)
        if issue is None:
            if had_bad:
                self.counters.flaps_prevented += 1
            return []
        if streak.good < self.per_type.get(finding.type, (self.open_after, self.resolve_after))[1]:
            return []
        del self._active[finding.key]
        issue.state = IssueState.RESOLVED
        issue.resolved_ts = ts
        issue.updated_ts = ts
        issue.evidence = dict(finding.evidence)
        issue.transitions.append(Transition(IssueState.RESOLVED, ts, f"{streak.good} good samples in a row"))
        self._history.append(issue)
        self.counters.resolved += 1
        return [_issue_event("resolved", issue, mono, ts)]

    def _open(self, finding: Finding, streak: _Streak, mono: float, ts: float) -> Event:
        issue = Issue(
            type=finding.type,
            subject=finding.subject,
            severity=finding.severity,
            summary=finding.summary,
            evidence=dict(finding.evidence),
            guidance=guidance_for(finding.type, finding.subject, finding.evidence),
            detector=finding.detector,
            opened_ts=ts,
            opened_mono=mono,
            updated_ts=ts,
            first_bad_ts=streak.first_bad_ts,
        )
        issue.transitions.append(Transition(IssueState.OPEN, ts, f"{streak.bad} bad samples in a row"))
        self._active[finding.key] = issue
        self.counters.detected += 1
        return _issue_event("opened", issue, mono, ts)

    def find(self, issue_id: str) -> Issue | None:
        """The active issue with this id (None: unknown or resolved)."""
        with self._lock:
            return next((i for i in self._active.values() if i.issue_id == issue_id), None)

    def mark(self, issue_id: str, state: IssueState, reason: str, mono: float, ts: float) -> Event | None:
        """Move an active issue to a remediation state (remediating, verifying, escalated); None if not active."""
        with self._lock:
            issue = next((i for i in self._active.values() if i.issue_id == issue_id), None)
            if issue is None or issue.state is state:
                return None
            issue.state = state
            issue.updated_ts = ts
            issue.transitions.append(Transition(state, ts, reason))
            return _issue_event(state.value, issue, mono, ts)

    def active(self) -> list[Issue]:
        with self._lock:
            return sorted(self._active.values(), key=lambda i: i.opened_ts)

    def snapshot(self) -> list[dict]:
        """Active issues and resolved ones still in the history, oldest first, as plain data."""
        with self._lock:
            issues = sorted([*self._history, *self._active.values()], key=lambda i: i.opened_ts)
            return [issue.to_dict() for issue in issues]


def _issue_event(change: str, issue: Issue, mono: float, ts: float) -> Event:
    return Event(kind=EventKind.ISSUE, change=change, body=issue.to_dict(), ts=ts, mono=mono)
