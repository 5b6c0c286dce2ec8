"""Issue lifecycle with hysteresis (open after N bad samples in a row, resolve after M good ones) and flap
damping: a fault that comes back soon after resolving is the same issue, marked intermittent, and it stays
open until no drop has been seen for a hold-down that grows with the gaps between drops."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from edge_agent.guidance import guidance_for, intermittent_note
from edge_agent.model import Event, EventKind, Finding, Issue, IssueState, Transition


@dataclass
class _Streak:
    bad: int = 0
    good: int = 0
    first_bad_ts: float = 0.0  # when the current run of bad samples began
    first_bad_mono: float = 0.0


@dataclass
class _Episode:
    """One issue's drops that came close together in time: a flapping fault is one episode, one issue."""

    issue: Issue
    first_drop_ts: float
    last_bad_mono: float
    drops: int = 1
    longest_gap_s: float = 0.0  # the longest good spell that ended in another drop
    resolved_mono: float | None = None

    def hold_s(self, base_s: float, max_s: float) -> float:
        """How long after its last bad sample the episode may still continue: a drop within it is the same
        issue, and an intermittent issue resolves only after it. Twice the longest gap seen, so a fault that
        drops at any steady rhythm stays one issue; never below the base, never above the cap."""
        return min(max_s, max(base_s, 2 * self.longest_gap_s))


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
        hold_down_s: float = 30.0,
        hold_down_max_s: float = 600.0,
    ):
        """`per_type` maps an issue type to its own (open_after, resolve_after). `hold_down_s` is the least
        time after a fault's last bad sample within which its return is the same (intermittent) issue; 0 turns
        flap damping off."""
        if open_after < 1 or resolve_after < 1:
            raise ValueError("open_after and resolve_after must be at least 1")
        if hold_down_s < 0 or hold_down_max_s < hold_down_s:
            raise ValueError("hold_down_s must be at least 0 and at most hold_down_max_s")
        self.hold_down_s = hold_down_s
        self.hold_down_max_s = hold_down_max_s
        self._episodes: dict[tuple[str, str], _Episode] = {}
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
                had_good = streak.good
                streak.bad += 1
                streak.good = 0
                if streak.bad == 1:
                    streak.first_bad_ts, streak.first_bad_mono = ts, mono
                events = self._on_bad(finding, streak, had_good, mono, ts)
                episode = self._episodes.get(finding.key)
                if episode is not None and episode.resolved_mono is None:
                    episode.last_bad_mono = mono
                return events
            had_bad = streak.bad
            streak.good += 1
            streak.bad = 0
            return self._on_good(finding, streak, had_bad, mono, ts)

    def _hold(self, episode: _Episode) -> float:
        return episode.hold_s(self.hold_down_s, self.hold_down_max_s) if self.hold_down_s else 0.0

    def _on_bad(self, finding: Finding, streak: _Streak, had_good: int, mono: float, ts: float) -> list[Event]:
        issue = self._active.get(finding.key)
        if issue is None:
            open_after = self.per_type.get(finding.type, (self.open_after, self.resolve_after))[0]
            if streak.bad < open_after:
                return []
            episode = self._episodes.get(finding.key)
            if (episode is not None and self.hold_down_s
                    and streak.first_bad_mono - episode.last_bad_mono <= self._hold(episode)):
                return [self._reopen(finding, episode, streak, mono, ts)]
            return [self._open(finding, streak, mono, ts)]
        events: list[Event] = []
        episode = self._episodes.get(finding.key)
        resolve_after = self.per_type.get(finding.type, (self.open_after, self.resolve_after))[1]
        if episode is not None and had_good >= resolve_after:
            # Back after a good spell that would have resolved it, had the hold-down not kept it open.
            self._drop(episode, mono)
        issue.evidence = self._evidence(finding, episode)
        issue.updated_ts = ts
        if finding.severity.rank != issue.severity.rank:
            issue.severity = finding.severity
            issue.summary = finding.summary
            issue.transitions.append(Transition(issue.state, ts, f"severity now {finding.severity.value}"))
            events = [_issue_event("updated", issue, mono, ts)]  # one update says both
        return events

    def _drop(self, episode: _Episode, mono: float) -> int:
        episode.longest_gap_s = max(episode.longest_gap_s, mono - episode.last_bad_mono)
        episode.drops += 1
        return episode.drops

    def _evidence(self, finding: Finding, episode: _Episode | None) -> dict:
        evidence = dict(finding.evidence)
        if episode is not None and episode.drops > 1:
            evidence["intermittent"] = {"drops": episode.drops, "since_ts": episode.first_drop_ts,
                                        "hold_down_s": round(self._hold(episode), 1)}
        return evidence

    def _reopen(self, finding: Finding, episode: _Episode, streak: _Streak, mono: float, ts: float) -> Event:
        """The same fault back within the hold-down: its issue again, now intermittent, not a new one.

        Announced as an update (state open again), not as a new opening: remediation acts on openings, and
        must not act once per flap."""
        gap = streak.first_bad_mono - episode.last_bad_mono
        issue = episode.issue
        kept = [i for i in self._history if i is not issue]
        if len(kept) != len(self._history):
            self._history.clear()
            self._history.extend(kept)
        self._drop(episode, streak.first_bad_mono)
        episode.last_bad_mono = mono
        episode.resolved_mono = None
        issue.state = IssueState.OPEN
        issue.resolved_ts = None
        issue.severity = finding.severity
        issue.summary = finding.summary
        issue.evidence = self._evidence(finding, episode)
        span = ts - episode.first_drop_ts
        issue.guidance = guidance_for(finding.type, finding.subject, finding.evidence) + " " + intermittent_note(
            episode.drops, span)
        issue.updated_ts = ts
        issue.transitions.append(Transition(
            IssueState.OPEN, ts, f"back {gap:.0f} s after the last bad sample: intermittent, "
                                 f"{episode.drops} drops in {span:.0f} s"))
        self._active[finding.key] = issue
        return _issue_event("updated", issue, mono, ts)

    def _on_good(self, finding: Finding, streak: _Streak, had_bad: int, mono: float, ts: float) -> list[Event]:
        issue = self._active.get(finding.key)
        if issue is None:
            if had_bad:
                self.counters.flaps_prevented += 1
            episode = self._episodes.get(finding.key)
            if episode is not None and mono - episode.last_bad_mono > self._hold(episode):
                del self._episodes[finding.key]  # over: a return now is a new issue
            return []
        if streak.good < self.per_type.get(finding.type, (self.open_after, self.resolve_after))[1]:
            return []
        episode = self._episodes.get(finding.key)
        quiet = mono - episode.last_bad_mono if episode is not None else 0.0
        if episode is not None and episode.drops > 1 and quiet < self._hold(episode):
            return []  # intermittent: held open until no drop for the hold-down
        del self._active[finding.key]
        issue.state = IssueState.RESOLVED
        issue.resolved_ts = ts
        issue.updated_ts = ts
        evidence = dict(finding.evidence)
        if episode is not None and episode.drops > 1:
            evidence["intermittent"] = issue.evidence.get("intermittent")
            reason = f"no drop for {quiet:.0f} s after {episode.drops} drops"
        else:
            reason = f"{streak.good} good samples in a row"
        issue.evidence = evidence
        issue.transitions.append(Transition(IssueState.RESOLVED, ts, reason))
        if episode is not None:
            episode.resolved_mono = mono
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
        self._episodes[finding.key] = _Episode(issue, first_drop_ts=streak.first_bad_ts, last_bad_mono=mono)
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
