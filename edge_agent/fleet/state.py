"""The fleet as seen from the broker: messages validated against the contract models, deduplicated by id,
presence kept with the session counter, open issues and actions counted. Pure: bytes in, events out."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from edge_agent.reporting.contract import (
    ActionEvent,
    CommandResponse,
    IssueEvent,
    MetaMessage,
    StatusMessage,
    TelemetryMessage,
)
from edge_agent.reporting.telemetry_records import telemetry_model
from edge_agent.untrusted_json import FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH, loads_untrusted

SEEN_IDS = 100_000  # about a minute of a busy fleet: enough to catch a broker's redelivery


def model_for(relative_topic: str) -> type[BaseModel] | None:
    if relative_topic == "status":
        return StatusMessage
    if relative_topic == "meta":
        return MetaMessage
    if relative_topic.startswith("telemetry/"):
        return TelemetryMessage
    if relative_topic == "event/issue":
        return IssueEvent
    if relative_topic == "event/action":
        return ActionEvent
    if relative_topic.startswith("res/"):
        return CommandResponse
    return None


@dataclass
class Device:
    device_id: str
    online: bool | None = None
    session: int = -1
    last_seen: float | None = None
    last_order: tuple[str, int] | None = None  # (boot_id, seq) of the newest message
    open_issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # issue_id -> latest issue event
    actions: Counter = field(default_factory=Counter)  # outcome -> count


@dataclass
class FleetState:
    prefix: str = "edge/v1"
    devices: dict[str, Device] = field(default_factory=dict)
    invalid: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    stale_wills: int = 0
    last_invalid: str | None = None
    stored: int | None = None  # with a fleet store: messages this watcher was the first to store
    _seen: OrderedDict = field(default_factory=OrderedDict)

    def ingest(self, topic: str, payload: bytes, received_ts: float) -> dict[str, Any] | None:
        """One message from the broker; returns its normalised event, or None (duplicate, invalid, ignored)."""
        parts = topic.split("/")
        base = self.prefix.split("/")
        if parts[: len(base)] != base or len(parts) < len(base) + 2:
            return self._reject(topic, "not under the contract's topic tree")
        device_id, relative = parts[len(base)], "/".join(parts[len(base) + 1:])
        if relative.startswith(("cmd/", "ha/")):
            return None  # requests to devices, and the opt-in Home Assistant state: not the fleet's stream
        model = model_for(relative)
        if model is None:
            return self._reject(topic, f"no message is defined for {relative!r}")
        try:
            # A device may be broken or hostile: deep nesting or huge numbers are an invalid message, not a crash.
            body = loads_untrusted(bytes(payload), FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH)
            if model is TelemetryMessage:
                model = telemetry_model(body)  # contract v1 (one sample) or v2 (a report window), by its schema
            message = model.model_validate(body).model_dump(by_alias=True)
        except (ValueError, ValidationError) as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return self._reject(topic, first_line)
        if message["device_id"] != device_id:
            return self._reject(topic, f"device_id {message['device_id']!r} does not match the topic")
        if message["id"] in self._seen:
            self.duplicates += 1
            return None
        self._remember(message["id"])
        return self._apply(device_id, relative, message, received_ts)

    def _apply(self, device_id: str, relative: str, message: dict[str, Any], received_ts: float) -> dict[str, Any]:
        device = self.devices.setdefault(device_id, Device(device_id))
        device.last_seen = received_ts
        # Presence (status, meta) carries the last sequence number taken before it and is ordered by session.
        order = (message["boot_id"], message["seq"])
        presence = relative in ("status", "meta")
        late = (not presence and device.last_order is not None and order[0] == device.last_order[0]
                and order[1] < device.last_order[1])
        if late:
            self.out_of_order += 1
        elif not presence:
            device.last_order = order
        event = {"device_id": device_id, "kind": relative.split("/")[0], "topic": relative, "late": late,
                 "received_ts": received_ts, "message": message}
        if relative == "status":
            event["stale"] = not self._presence(device, message)
        elif relative == "event/issue":
            if message["state"] == "resolved":
                device.open_issues.pop(message["issue_id"], None)
            else:
                device.open_issues[message["issue_id"]] = message
        elif relative == "event/action":
            device.actions[message["outcome"]] += 1
        return event

    def _presence(self, device: Device, status: dict[str, Any]) -> bool:
        """Apply a status message; False for a Last Will older than the device's latest session."""
        if status["session"] < device.session:
            self.stale_wills += 1
            return False
        device.session = status["session"]
        device.online = status["state"] == "online"
        return True

    def _reject(self, topic: str, reason: str) -> None:
        self.invalid += 1
        self.last_invalid = f"{topic}: {reason}"
        return None

    def _remember(self, message_id: str) -> None:
        self._seen[message_id] = None
        while len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)

    def summary(self) -> dict[str, Any]:
        by_type: Counter = Counter()
        by_severity: Counter = Counter()
        for device in self.devices.values():
            for issue in device.open_issues.values():
                by_type[issue["type"]] += 1
                by_severity[issue["severity"]] += 1
        return {
            "devices": len(self.devices),
            "online": sum(1 for d in self.devices.values() if d.online),
            "offline": sum(1 for d in self.devices.values() if d.online is False),
            "open_issues_by_type": dict(by_type),
            "open_issues_by_severity": dict(by_severity),
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "stale_wills": self.stale_wills,
            **({} if self.stored is None else {"stored": self.stored}),
        }
