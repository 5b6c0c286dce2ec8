"""One issue's whole life as the fleet saw it, and the one final category it ends in. Pure: messages in, verdicts out.

An issue is counted once, in exactly one of these categories (checked in this order):

- ``still_open``: not resolved yet, and never handed to a person;
- ``escalated``: not resolved yet, and the agent escalated it to a person (each one a possible truck roll);
- ``resolved_after_person``: resolved after a person was involved: the issue had been escalated, or a
  technician (origin ``cli``) or the cloud (origin ``cloud``) ran an action on it before it resolved. An escalated
  fault that a person fixes by hand (a cable plugged back in) leaves no action event: escalation is the evidence;
- ``fixed_by_agent``: resolved, and the agent's own action (origin ``auto``, outcome ``fixed``, verified against the
  issue's evidence) came after the issue's last (re)opening: the fix that held;
- ``resolved_by_itself``: resolved with none of the above.

The folding is order-independent (messages of one issue may reach different shared-subscription watchers and be
stored in any order): each issue message carries the issue's whole transition list, and the one with the latest
(updated_ts, seq) wins; actions only add facts (the latest agent fix, the earliest person's action).

Before customer impact (``before_impact``), per issue type:

- outage types (``OUTAGE_TYPES``: gateway_unreachable, uplink_down, dns_failure, dhcp_failure, wifi_radio_down and
  the camera's view of an unplugged cable, dark or red LEDs) are the customer impact itself: the WAN cable out,
  the resolver silent, no Wi-Fi. Such an issue is never "before impact", however fast it was fixed;
- every other type (degradations: interference, noise, loss, latency, jitter, slow DNS or uplink, weak or retrying
  stations, rising trends, device health, camera view) is resolved before impact when it resolved (by any cause)
  without its severity ever reaching critical: the customer most likely never noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("fixed_by_agent", "resolved_by_itself", "resolved_after_person", "escalated", "still_open")
CATEGORY_LABELS = {
    "fixed_by_agent": "fixed by the agent",
    "resolved_by_itself": "resolved by itself",
    "resolved_after_person": "resolved after a person acted",
    "escalated": "escalated, still open",
    "still_open": "still open",
}
OUTAGE_TYPES = frozenset({
    "gateway_unreachable", "uplink_down", "dns_failure", "dhcp_failure", "wifi_radio_down",
    "gateway_cable_unplugged", "gateway_leds_off", "gateway_led_red",
})
PERSON_ORIGINS = frozenset({"cli", "cloud"})
PERSON_DID = frozenset({"attempted", "fixed", "completed"})  # a person's request that ran, not one refused or held
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass
class IssueLife:
    device_id: str
    issue_id: str
    type: str | None = None
    subject: str | None = None
    opened_ts: float | None = None
    first_bad_ts: float | None = None
    worst_severity: str = "info"
    updates: int = 0  # issue messages folded in: opened, every update, remediation steps, the end
    state: str | None = None  # of the latest message
    state_key: tuple[float, int] | None = None  # (updated_ts, seq) of the latest message
    resolved_ts: float | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)  # of the latest message: the whole life
    agent_fixed_ts: float | None = None
    agent_fixed_by: str | None = None
    time_to_fix_s: float | None = None
    person_acted_ts: float | None = None

    @property
    def escalated(self) -> bool:
        return self.state == "escalated" or any(t.get("state") == "escalated" for t in self.transitions)

    @property
    def last_opened_ts(self) -> float | None:
        """When the issue last became open: its opening, or its reopening after an intermittent return."""
        reopenings = [t["ts"] for t in self.transitions
                      if t.get("state") == "open" and isinstance(t.get("ts"), float | int)]
        return max(reopenings, default=self.opened_ts)

    @property
    def category(self) -> str:
        if self.state != "resolved":
            return "escalated" if self.escalated else "still_open"
        if self.escalated or (self.person_acted_ts is not None and self.resolved_ts is not None
                              and self.person_acted_ts <= self.resolved_ts):
            return "resolved_after_person"
        last_open = self.last_opened_ts
        if self.agent_fixed_ts is not None and (last_open is None or self.agent_fixed_ts >= last_open):
            return "fixed_by_agent"
        return "resolved_by_itself"

    @property
    def before_impact(self) -> bool:
        return (self.state == "resolved" and self.type not in OUTAGE_TYPES
                and self.worst_severity != "critical")

    @property
    def detection_delay_s(self) -> float | None:
        if self.opened_ts is None or self.first_bad_ts is None:
            return None
        return max(0.0, self.opened_ts - self.first_bad_ts)

    @property
    def time_to_resolve_s(self) -> float | None:
        if self.state != "resolved" or self.resolved_ts is None or self.opened_ts is None:
            return None
        return max(0.0, self.resolved_ts - self.opened_ts)


def fold_issue(life: IssueLife, message: Mapping[str, Any]) -> None:
    """Add one `event/issue` message (any order, any watcher) to the issue's life."""
    life.updates += 1
    life.type = life.type or message["type"]
    life.subject = life.subject or message["subject"]
    life.opened_ts = message["opened_ts"] if life.opened_ts is None else min(life.opened_ts, message["opened_ts"])
    if message.get("first_bad_ts") is not None:
        life.first_bad_ts = message["first_bad_ts"] if life.first_bad_ts is None else min(life.first_bad_ts,
                                                                                            message["first_bad_ts"])
    if SEVERITY_RANK[message["severity"]] > SEVERITY_RANK[life.worst_severity]:
        life.worst_severity = message["severity"]
    key = (float(message["updated_ts"]), int(message["seq"]))
    if life.state_key is None or key > life.state_key:
        life.state_key = key
        life.state = message["state"]
        life.resolved_ts = message["resolved_ts"] if message["state"] == "resolved" else None
        life.transitions = [dict(t) for t in message["transitions"]]


def fold_action(life: IssueLife, message: Mapping[str, Any]) -> None:
    """Add one `event/action` message about this issue: the agent's verified fix, or a person's action."""
    life.type = life.type or message.get("issue_type")
    ts = float(message["ts"])
    if message["origin"] in PERSON_ORIGINS and message["outcome"] in PERSON_DID:
        life.person_acted_ts = ts if life.person_acted_ts is None else min(life.person_acted_ts, ts)
    elif message["origin"] == "auto" and message["outcome"] == "fixed":
        if life.agent_fixed_ts is None or ts > life.agent_fixed_ts:
            life.agent_fixed_ts = ts
            life.agent_fixed_by = message["name"] + (f":{message['target']}" if message.get("target") else "")
            took = message.get("details", {}).get("time_to_fix_s")
            life.time_to_fix_s = float(took) if isinstance(took, int | float) else None


def fold_events(events: list[Mapping[str, Any]]) -> dict[tuple[str, str], IssueLife]:
    """Issue lives from normalised fleet events (`fleet watch --json` lines or FleetState.ingest results)."""
    lives: dict[tuple[str, str], IssueLife] = {}
    for event in events:
        message = event["message"]
        if event["topic"] == "event/issue":
            key = (event["device_id"], message["issue_id"])
            fold_issue(lives.setdefault(key, IssueLife(*key)), message)
        elif event["topic"] == "event/action" and message.get("issue_id"):
            key = (event["device_id"], message["issue_id"])
            fold_action(lives.setdefault(key, IssueLife(*key)), message)
    return lives
