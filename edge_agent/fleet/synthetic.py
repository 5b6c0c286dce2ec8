"""A constructed fleet whose true outcomes are known: contract messages (real envelopes, the tracker's transition
lists, the remediation engine's action events) for the report tests and the fleet benchmark.

Each issue follows one of the `STORIES`; the story fixes its final category and whether it was resolved before
customer impact, so a report over the messages can be compared with the truth exactly.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_agent.reporting.envelope import (
    SCHEMA_ACTION,
    SCHEMA_ISSUE,
    SCHEMA_STATUS,
    SCHEMA_TELEMETRY,
    SCHEMA_TELEMETRY_V2,
    EnvelopeFactory,
)

PREFIX = "edge/v1"
# story -> (final category, resolved before impact when the type is a degradation)
STORIES: dict[str, tuple[str, bool]] = {
    "agent_fix": ("fixed_by_agent", True),
    "clears": ("resolved_by_itself", True),
    "clears_after_critical": ("resolved_by_itself", False),
    "fix_did_not_hold": ("resolved_by_itself", True),  # fixed, back within the hold-down, then cleared alone
    "escalated_then_fixed_by_hand": ("resolved_after_person", True),
    "technician_fix": ("resolved_after_person", True),
    "escalated": ("escalated", False),
    "open": ("still_open", False),
}
DEGRADATIONS = ("wifi_interference", "dns_slow", "gateway_high_latency", "wifi_high_noise")
OUTAGES = ("gateway_unreachable", "dns_failure", "gateway_cable_unplugged")


@dataclass
class Truth:
    devices: int = 0
    issues: int = 0
    outcomes: Counter = field(default_factory=Counter)
    before_impact: int = 0
    by_type: dict[str, Counter] = field(default_factory=dict)


@dataclass
class SyntheticIssue:
    factory: EnvelopeFactory
    issue_type: str
    opened_ts: float
    issue_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    severity: str = "warning"
    state: str = "open"
    resolved_ts: float | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)

    def event(self, change: str, ts: float, state: str, reason: str,
              severity: str | None = None) -> tuple[str, dict[str, Any]]:
        self.severity = severity or self.severity
        self.state = state
        self.resolved_ts = ts if state == "resolved" else None
        self.transitions.append({"state": state, "ts": ts, "reason": reason})
        body = {"change": change, "issue_id": self.issue_id, "type": self.issue_type, "subject": "wlan0",
                "severity": self.severity, "state": state, "summary": f"{self.issue_type} on wlan0",
                "evidence": {}, "guidance": "see the guide", "detector": "synthetic", "opened_ts": self.opened_ts,
                "updated_ts": ts, "resolved_ts": self.resolved_ts, "first_bad_ts": self.opened_ts - 12.0,
                "transitions": [dict(t) for t in self.transitions]}
        return "event/issue", self.factory.wrap(SCHEMA_ISSUE, body, ts, 0.0)

    def action(self, outcome: str, ts: float, origin: str = "auto", took: float | None = None
               ) -> tuple[str, dict[str, Any]]:
        body = {"change": outcome, "action_id": f"{self.issue_id}-{origin}", "name": "restart_service",
                "target": "dnsmasq", "outcome": outcome, "reason": "synthetic", "origin": origin, "mode": "auto",
                "issue_id": self.issue_id, "issue_type": self.issue_type, "subject": "wlan0", "rung": 0,
                "disruptive": False, "evidence_before": {}, "evidence_after": None,
                "details": {} if took is None else {"time_to_fix_s": took}}
        return "event/action", self.factory.wrap(SCHEMA_ACTION, body, ts, 0.0)


def story_messages(story: str, issue: SyntheticIssue) -> list[tuple[str, dict[str, Any]]]:
    """The messages one issue sends in its story, in the order the agent would publish them."""
    t = issue.opened_ts
    out = [issue.event("opened", t, "open", "3 bad samples in a row")]
    if story == "agent_fix":
        out += [issue.event("remediating", t + 2, "remediating", "restart_service"), issue.action("attempted", t + 2),
                issue.event("verifying", t + 5, "verifying", "checking"), issue.action("fixed", t + 30, took=28.0),
                issue.event("resolved", t + 30, "resolved", "fixed by restart_service")]
    elif story == "clears":
        out += [issue.event("resolved", t + 90, "resolved", "3 good samples in a row")]
    elif story == "clears_after_critical":
        out += [issue.event("updated", t + 20, "open", "severity now critical", "critical"),
                issue.event("resolved", t + 200, "resolved", "3 good samples in a row")]
    elif story == "fix_did_not_hold":
        out += [issue.action("attempted", t + 2), issue.action("fixed", t + 20, took=18.0),
                issue.event("resolved", t + 20, "resolved", "fixed"),
                issue.event("updated", t + 40, "open", "back 20 s after the last bad sample: intermittent"),
                issue.event("resolved", t + 400, "resolved", "no drop for 300 s after 2 drops")]
    elif story == "escalated_then_fixed_by_hand":
        out += [issue.action("attempted", t + 2), issue.action("failed", t + 30),
                issue.event("escalated", t + 31, "escalated", "ladder exhausted"),
                issue.event("resolved", t + 900, "resolved", "3 good samples in a row")]
    elif story == "technician_fix":
        out += [issue.action("attempted", t + 60, origin="cli"),
                issue.event("resolved", t + 70, "resolved", "3 good samples in a row")]
    elif story == "escalated":
        out += [issue.event("updated", t + 5, "open", "severity now critical", "critical"),
                issue.action("attempted", t + 6), issue.action("failed", t + 36),
                issue.event("escalated", t + 37, "escalated", "ladder exhausted")]
    elif story != "open":
        raise ValueError(f"unknown story {story!r}")
    return out


@dataclass
class SyntheticFleet:
    messages: list[tuple[str, bytes]]  # (topic, payload) as the broker carries them
    truth: Truth


def build_fleet(devices: int, issues_per_device: int, start_ts: float, span_s: float, seed: int = 20,
                telemetry_per_device: int = 2) -> SyntheticFleet:
    """Devices with births, telemetry (v1 and v2) and issues told by stories chosen at random (seeded)."""
    rng = random.Random(seed)
    truth = Truth(devices=devices)
    messages: list[tuple[str, bytes]] = []
    for number in range(devices):
        device_id = f"gw-{number:05d}"
        factory = EnvelopeFactory(device_id, "synthetic", lambda: True)

        def put(topic: str, message: dict[str, Any], device_id: str = device_id) -> None:
            messages.append((f"{PREFIX}/{device_id}/{topic}", json.dumps(message).encode()))

        put("status", factory.wrap_presence(SCHEMA_STATUS, {"state": "online", "reason": "connected",
                                                            "session": 1}, start_ts, 0.0))
        for n in range(telemetry_per_device):
            put(*telemetry_message(factory, start_ts + n, v2=n % 2 == 1))
        for _ in range(issues_per_device):
            story = rng.choice(sorted(STORIES))
            issue_type = rng.choice(DEGRADATIONS + OUTAGES)
            issue = SyntheticIssue(factory, issue_type, round(start_ts + rng.uniform(0, span_s), 3))
            for topic, message in story_messages(story, issue):
                put(topic, message)
            category, early = STORIES[story]
            truth.issues += 1
            truth.outcomes[category] += 1
            truth.by_type.setdefault(issue_type, Counter())[category] += 1
            truth.before_impact += early and issue_type not in OUTAGES
    return SyntheticFleet(messages, truth)


def telemetry_message(factory: EnvelopeFactory, ts: float, v2: bool,
                      value: Callable[[], float] = lambda: 0.2) -> tuple[str, dict[str, Any]]:
    """One wifi telemetry message: a v1 sample, or a v2 report window with two subjects."""
    if not v2:
        body = {"stream": "wifi.radio", "subject": "wlan0",
                "metrics": {"channel": 6, "busy_ratio": value(), "noise_dbm": -95.0, "ssid": "home"}}
        return "telemetry/wifi", factory.wrap(SCHEMA_TELEMETRY, body, ts, 0.0)
    busy = value()
    body = {"stream": "wifi", "window_s": 60.0, "series": [
        {"stream": "wifi.radio", "subject": "wlan0", "n": 12,
         "stats": {"busy_ratio": [busy, busy, busy, busy, 12], "noise_dbm": [-96.0, -95.2, -94.0, -95.0, 12]},
         "values": {"ssid": "home"}},
        {"stream": "wifi.station", "subject": "aa:bb:cc:dd:ee:01", "n": 12,
         "stats": {"signal_dbm": [-70, -66.5, -61, -65, 12]}},
    ]}
    return "telemetry/wifi", factory.wrap(SCHEMA_TELEMETRY_V2, body, ts, 0.0)


def parsed_events(messages: list[tuple[str, bytes]], received_ts: float) -> list[dict[str, Any]]:
    """The messages through the fleet watch's own parser (validation, dedup), as the events it would store;
    a message the parser refuses is an error here: a constructed fleet must be valid."""
    from edge_agent.fleet.state import FleetState

    state = FleetState()
    events = [e for topic, payload in messages if (e := state.ingest(topic, payload, received_ts)) is not None]
    if state.invalid:
        raise ValueError(f"the constructed fleet has an invalid message: {state.last_invalid}")
    return events

