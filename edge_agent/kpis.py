"""What preemptive service is worth, counted from the events the agent reports (a reporter sink).

- detected: issues opened;
- auto_resolved: issues an action fixed (verified against the issue's own evidence);
- resolved_before_outage: issues closed while still a degradation — never critical — so the customer most
  likely never noticed;
- escalated: issues handed to a person;
- actions: per action name, per outcome;
- flaps_prevented: noise that never opened an issue, and fixes not repeated because they did not hold.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

TRACKED_ISSUES_MAX = 10_000  # open issues followed for their worst severity; far above any real premises


class KpiCounter:
    def __init__(self) -> None:
        self.detected = 0
        self.auto_resolved = 0
        self.resolved = 0
        self.resolved_before_outage = 0
        self.escalated = 0
        self.actions: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._worst: dict[str, str] = {}  # issue id -> worst severity seen while open
        self.last_action: dict[str, Any] | None = None
        self._lock = threading.Lock()

    # Sink
    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        with self._lock:
            if topic == "event/issue":
                self._issue(message)
            elif topic == "event/action":
                self.actions[message["name"]][message["outcome"]] += 1
                self.last_action = message
                if message["outcome"] == "fixed" and message.get("issue_id"):
                    self.auto_resolved += 1

    def close(self) -> None:
        pass

    def _issue(self, message: dict[str, Any]) -> None:
        issue_id, change, severity = message["issue_id"], message["change"], message["severity"]
        if change == "opened":
            self.detected += 1
            if len(self._worst) < TRACKED_ISSUES_MAX:
                self._worst[issue_id] = severity
        elif change == "escalated":
            self.escalated += 1
        if severity == "critical" and issue_id in self._worst:
            self._worst[issue_id] = "critical"
        if change == "resolved":
            self.resolved += 1
            if self._worst.pop(issue_id, "critical") != "critical":
                self.resolved_before_outage += 1

    def snapshot(self, flaps_prevented: int) -> dict[str, Any]:
        """`flaps_prevented` comes from the issue tracker and the remediation engine, which see them."""
        with self._lock:
            return {
                "detected": self.detected,
                "resolved": self.resolved,
                "auto_resolved": self.auto_resolved,
                "resolved_before_outage": self.resolved_before_outage,
                "escalated": self.escalated,
                "flaps_prevented": flaps_prevented,
                "actions": {name: dict(outcomes) for name, outcomes in sorted(self.actions.items())},
            }


def flat_kpis(snapshot: dict[str, Any]) -> dict[str, int]:
    """KPIs as scalar telemetry metrics: kpi_detected, ..., kpi_action_restart_service_fixed."""
    flat = {f"kpi_{key}": value for key, value in snapshot.items() if key != "actions"}
    for name, outcomes in snapshot["actions"].items():
        for outcome, count in outcomes.items():
            flat[f"kpi_action_{name}_{outcome}"] = count
    return flat
