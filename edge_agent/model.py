"""The shared vocabulary of the data flow: Sample, Finding, Issue, Action, Event."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

MetricValue = float | int | str | bool | None


class Severity(str, enum.Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class IssueState(str, enum.Enum):
    OPEN = "open"
    REMEDIATING = "remediating"
    VERIFYING = "verifying"
    RESOLVED = "resolved"
    ESCALATED = "escalated"

    @property
    def is_active(self) -> bool:
        return self not in (IssueState.RESOLVED,)


@dataclass(frozen=True)
class Sample:
    """One reading of one stream for one subject, e.g. stream "wifi.radio", subject "wlan0"."""

    stream: str
    subject: str
    metrics: Mapping[str, MetricValue]
    mono: float
    ts: float

    def __post_init__(self) -> None:
        # A sample crosses threads (control socket snapshots): make its metrics read-only.
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    def to_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "subject": self.subject, "ts": self.ts, "metrics": dict(self.metrics)}


@dataclass(frozen=True)
class Finding:
    """A detector's verdict on one (type, subject) for one sample.

    `present=False` is a healthy observation: the issue tracker needs those too, to resolve with hysteresis.
    """

    type: str
    subject: str
    present: bool
    severity: Severity
    detector: str
    summary: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.subject)


@dataclass
class Transition:
    state: IssueState
    ts: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "ts": self.ts, "reason": self.reason}


@dataclass
class Issue:
    """A problem on the premises, stable through its life from open to resolved or escalated."""

    type: str
    subject: str
    severity: Severity
    summary: str
    evidence: dict[str, Any]
    guidance: str
    detector: str
    opened_ts: float
    opened_mono: float
    state: IssueState = IssueState.OPEN
    issue_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    updated_ts: float = 0.0
    resolved_ts: float | None = None
    first_bad_ts: float | None = None  # the first bad sample of the run that opened it
    transitions: list[Transition] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.subject)

    def to_dict(self) -> dict[str, Any]:
        return {
            "issue_id": self.issue_id,
            "type": self.type,
            "subject": self.subject,
            "severity": self.severity.value,
            "state": self.state.value,
            "summary": self.summary,
            "evidence": dict(self.evidence),
            "guidance": self.guidance,
            "detector": self.detector,
            "opened_ts": self.opened_ts,
            "updated_ts": self.updated_ts,
            "resolved_ts": self.resolved_ts,
            "first_bad_ts": self.first_bad_ts,
            "transitions": [t.to_dict() for t in self.transitions],
        }


class ActionOutcome(str, enum.Enum):
    SKIPPED = "skipped"  # decided not to act: policy off or dry-run, a safety limit, a refused request
    DEFERRED = "deferred"  # a safety limit allows it soon: it will run then, if the issue is still there
    PENDING = "pending"  # waiting for approval by the cloud or a technician
    ATTEMPTED = "attempted"  # ran and took effect; the issue's own evidence is being watched
    FIXED = "fixed"  # the issue resolved within the verification window
    COMPLETED = "completed"  # a manual action without an issue ran and its own check passed
    FAILED = "failed"  # did not run, did not take effect, or did not fix the issue in time
    ROLLED_BACK = "rolled_back"  # what the failed action changed was undone
    ESCALATED = "escalated"  # nothing more the agent may try: a person is needed
    CANCELLED = "cancelled"  # the issue resolved before the action ran


@dataclass(frozen=True)
class Action:
    """One audited remediation decision or step for an issue (or a manual request without one)."""

    action_id: str
    name: str
    target: str | None
    outcome: ActionOutcome
    reason: str
    origin: str  # auto | cli | cloud
    mode: str  # the policy mode that applied
    issue_id: str | None = None
    issue_type: str | None = None
    subject: str | None = None
    rung: int = 0
    disruptive: bool = False
    evidence_before: Mapping[str, Any] = field(default_factory=dict)
    evidence_after: Mapping[str, Any] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "name": self.name,
            "target": self.target,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "origin": self.origin,
            "mode": self.mode,
            "issue_id": self.issue_id,
            "issue_type": self.issue_type,
            "subject": self.subject,
            "rung": self.rung,
            "disruptive": self.disruptive,
            "evidence_before": dict(self.evidence_before),
            "evidence_after": None if self.evidence_after is None else dict(self.evidence_after),
            "details": dict(self.details),
        }


class EventKind(str, enum.Enum):
    ISSUE = "issue"
    ACTION = "action"


@dataclass(frozen=True)
class Event:
    """Something the cloud must hear about: an issue transition or a remediation step.

    `change` is the transition's name ("opened", "updated", "resolved", ...); `body` the full record.
    """

    kind: EventKind
    change: str
    body: Mapping[str, Any]
    ts: float
    mono: float
