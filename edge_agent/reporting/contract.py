"""The MQTT contract (v1, v2 telemetry) as typed models: the one source of the published schemas and AsyncAPI.

The agent builds its payloads as plain dicts on the hot path; tests validate those real messages against the
schemas generated from these models, and `scripts/gen_contract.py --check` fails when docs/ and these models
disagree, so neither can drift from the code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from edge_agent.reporting.metric_values import HISTOGRAM_BOUNDS_MS
from edge_agent.schema import Record
from edge_agent.schema import json_schema as record_json_schema

MetricValue = float | int | str | bool | None

ISSUE_CHANGES = ("opened", "updated", "remediating", "verifying", "resolved", "escalated")
ISSUE_STATES = ("open", "remediating", "verifying", "resolved", "escalated")
COMMAND_STATES = ("accepted", "rejected", "in_progress", "succeeded", "failed")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Envelope(_Message):
    """Carried by every message the agent publishes."""

    schema_: str = Field(alias="schema", description="payload schema and major version, e.g. edge.issue/1")
    id: str = Field(description="unique message id: the consumer's deduplication key")
    device_id: str
    site_id: str
    agent_version: str
    boot_id: str = Field(description="new at every start of the agent; (boot_id, seq) orders one device's messages")
    seq: int = Field(ge=1, description="monotonic per boot_id; every message that takes one goes through the "
                     "durable outbox, so a gap means telemetry the agent dropped (counted in telemetry/agent)")
    ts: float = Field(description="wall clock, seconds since the Unix epoch (check clock_synced)")
    mono_ms: int = Field(description="the agent's monotonic clock in milliseconds; for intervals within a boot")
    clock_synced: bool | None = Field(description="whether the kernel considered the wall clock NTP-synchronised")
    sim_ts: float | None = Field(
        None, description="only from an agent on simulated premises: the simulated time of the message (seconds "
        "since the Unix epoch, running `speed` times faster than ts); ts stays the real wall clock")


class Transition(_Message):
    state: Literal[ISSUE_STATES]  # type: ignore[valid-type]
    ts: float
    reason: str


class IssueEvent(Envelope):
    """`event/issue`: an issue changed state. Published at QoS 1, never retained."""

    schema_: Literal["edge.issue/1"] = Field(alias="schema")
    change: Literal[ISSUE_CHANGES]  # type: ignore[valid-type]
    issue_id: str = Field(description="stable through the issue's life")
    type: str = Field(description="issue type, e.g. wifi_interference, dns_failure")
    subject: str = Field(description="what the issue is about: an interface, a resolver address, a process...")
    severity: Literal["info", "warning", "critical"]
    state: Literal[ISSUE_STATES]  # type: ignore[valid-type]
    summary: str
    evidence: dict[str, Any] = Field(description="metric values, limits and detector details behind the verdict")
    guidance: str = Field(description="what a person should do")
    detector: str
    opened_ts: float
    updated_ts: float
    resolved_ts: float | None
    first_bad_ts: float | None = Field(
        None, description="when the first bad sample of the run that opened the issue was taken: opened_ts - "
        "first_bad_ts is the agent's detection delay")
    transitions: list[Transition]


class TelemetryMessage(Envelope):
    """`telemetry/{stream}`: one sample. QoS 0; may be down-sampled or dropped before any event."""

    schema_: Literal["edge.telemetry/1"] = Field(alias="schema")
    stream: str = Field(description="e.g. wifi.radio, connectivity.gateway, system, interface")
    subject: str
    metrics: dict[str, MetricValue]


NumberValue = bool | int | float


class SeriesReport(_Message):
    """One subject of one stream over a report window. A field that is absent still holds its last reported
    value: it stayed within its deadband, and is sent again at least every heartbeat."""

    stream: str = Field(description="the sample's stream, e.g. wifi.radio")
    subject: str
    n: int = Field(ge=0, description="samples of this subject in the window; 0: the subject has sent no sample "
                   "for two heartbeats (a station left, an interface vanished): forget its values")
    stats: dict[str, tuple[NumberValue, float, NumberValue, NumberValue, int]] = Field(
        default_factory=dict, description="numeric fields that moved beyond their deadband (or whose heartbeat "
        "was due): [min, mean, max, last, count] over the window; count leaves out samples without a value. A "
        "true/false field counts as 1/0 (its mean is the share of true)")
    values: dict[str, MetricValue] = Field(
        default_factory=dict, description="text fields, and fields without any value in the window (null): the "
        "last value, sent when it differs from the last one sent, when another value showed within the window, "
        "or at the heartbeat")
    hist: dict[str, list[int]] = Field(
        default_factory=dict, description="latency fields: samples per bucket, bucket upper bounds (ms) "
        f"{', '.join(map(str, HISTOGRAM_BOUNDS_MS))}, then above; trailing empty buckets left out")
    dropped_fields: int = Field(0, ge=0, description="field values left out in the window because the subject "
                                "had more fields than the agent's limit (the first ones seen are kept)")


class TelemetryBatch(Envelope):
    """`telemetry/{stream}` in contract v2: one report window of one stream family, every subject in one message.
    QoS 0; sent when the window closes (`[reporting] report_interval_s`), nothing sent when nothing changed and
    no heartbeat is due. Events are never in it: they go out at once on event/issue and event/action."""

    schema_: Literal["edge.telemetry/2"] = Field(alias="schema")
    stream: str = Field(description="the stream family, as in the topic: wifi, connectivity, system, interface, "
                        "camera, agent")
    window_s: float = Field(gt=0, description="length of the window in the agent's clock; it ended at sim_ts when "
                            "present, else at ts")
    series: list[SeriesReport]
    dropped_series: int = Field(0, ge=0, description="subjects left out because the window held more than the "
                                "agent's limit of series")


ACTION_OUTCOMES = ("skipped", "deferred", "pending", "attempted", "fixed", "completed", "failed", "rolled_back",
                   "escalated", "cancelled")


class ActionEvent(Envelope):
    """`event/action`: one audited remediation decision or step. QoS 1, never retained.

    An issue's way through its ladder reads: attempted → fixed, or attempted → failed (→ rolled_back) → the next
    action ... → escalated. Decisions not to act are events too: skipped (policy off or dry-run, a safety limit),
    deferred (a limit allows it soon), pending (waiting for approval), cancelled (the issue cleared first)."""

    schema_: Literal["edge.action/1"] = Field(alias="schema")
    change: Literal[ACTION_OUTCOMES] = Field(description="the same as outcome")  # type: ignore[valid-type]
    action_id: str = Field(description="one per attempt; the decisions about one attempt share it")
    name: str = Field(description="restart_service | bounce_interface | renew_dhcp | restart_radio | switch_channel "
                      "| flush_dns | custom")
    target: str | None = Field(description="the service, interface or custom action; None: the default one")
    outcome: Literal[ACTION_OUTCOMES]  # type: ignore[valid-type]
    reason: str
    origin: Literal["auto", "cli", "cloud"]
    mode: Literal["off", "dry-run", "auto", "approval"] = Field(description="the policy that applied")
    issue_id: str | None = Field(description="None for a manual request that names no issue")
    issue_type: str | None
    subject: str | None
    rung: int = Field(ge=0, description="the position of the action in the issue type's ladder")
    disruptive: bool
    evidence_before: dict[str, Any] = Field(description="the issue's evidence when the case began")
    evidence_after: dict[str, Any] | None = Field(description="the issue's evidence when this step was decided")
    details: dict[str, Any] = Field(description="the action's own output: command result, channel scores, ...")


PRESENCE_SEQ = ("presence takes no sequence number of its own: this is the last one taken before it (0 before "
                "any), so reconnects leave no gaps; order presence messages by `session`")


class StatusMessage(Envelope):
    """`status`: presence. Retained, QoS 1; the offline form is also the Last Will."""

    schema_: Literal["edge.status/1"] = Field(alias="schema")
    seq: int = Field(ge=0, description=PRESENCE_SEQ)
    state: Literal["online", "offline"]
    reason: str = Field(description="connected | shutdown | connection lost")
    session: int = Field(
        ge=0,
        description="counts the agent's broker sessions across restarts; a Last Will with a lower session than "
        "the latest online status is stale and must be ignored",
    )


class RadioCard(_Message):
    """What the Wi-Fi radio can do, read from `iw phy` and `iw survey dump` when the agent started."""

    interface: str
    phy: str | None = Field(description="the wiphy's name, e.g. phy0; null when it could not be read")
    bands: list[Literal["2.4GHz", "5GHz", "6GHz"]] = Field(description="bands with a channel that is not disabled")
    channel_switch: bool | None = Field(description="whether the driver lists the channel_switch (CSA) command; "
                                        "null: its command list is unknown")
    switch_method: Literal["csa", "restart", "none"] = Field(
        description="how a channel switch is made: csa (announced, stations stay), restart (hostapd restarted on "
        "the new channel, allowed by policy), none (neither is possible: switch_channel fails)")
    survey: bool | None = Field(description="whether iw survey dump gives busy-time counters (channel load)")
    channels: dict[str, dict[str, list[int]]] = Field(
        description="per band, channel numbers by what regulation allows: usable, radar (DFS), no_ir, disabled")
    notes: list[str] = Field(description="what could not be read, and why")


class MetaMessage(Envelope):
    """`meta`: the device card. Retained, QoS 1, published at every connect."""

    schema_: Literal["edge.meta/1"] = Field(alias="schema")
    seq: int = Field(ge=0, description=PRESENCE_SEQ)
    premises: Literal["simulated", "hardware"]
    platform: dict[str, str] = Field(description="system, release, machine, python")
    collectors: list[str]
    detectors: list[str]
    commands: list[str] = Field(description="the commands this agent accepts on cmd/{name}")
    models: list[dict[str, Any]] = Field(description="on-device models with their versions")
    kpis: dict[str, Any] = Field(description="detected, resolved, auto_resolved, resolved_before_outage, escalated, "
                                 "flaps_prevented, and actions per name and outcome, since the agent started")
    radio: RadioCard | None = Field(None, description="the Wi-Fi radio's capabilities; null without a radio")
    radios: list[RadioCard] = Field(
        default_factory=list, max_length=64,
        description="every radio's capabilities on a multi-radio gateway, by interface (`radio` is the default one)")


class CommandRequest(_Message):
    """`cmd/{name}` (cloud to device), QoS 1. MQTT v5 properties: Response Topic (default res/{request_id} in the
    device's subtree), Correlation Data (echoed on every reply), Message Expiry Interval."""

    request_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="unique per request; repeats are rejected")
    args: dict[str, Any] = Field(default_factory=dict)
    expires_ts: float | None = Field(None, description="wall-clock deadline, for clients without MQTT v5 expiry")


class CommandResponse(Envelope):
    """`res/{request_id}`: accepted | rejected, then in_progress, then succeeded | failed. QoS 1."""

    schema_: Literal["edge.response/1"] = Field(alias="schema")
    request_id: str
    command: str
    state: Literal[COMMAND_STATES]  # type: ignore[valid-type]
    reason: str
    result: Any = Field(None, description="the command's answer, on succeeded")


class IssueBrief(_Message):
    type: str
    subject: str
    severity: Literal["info", "warning", "critical"]


class HomeAssistantState(_Message):
    """`ha/state` (opt-in, `[mqtt] home_assistant`): what Home Assistant's discovered entities read. Retained,
    QoS 0, sent when it changes. Plain values, no envelope: it is for a smart-home hub's templates."""

    open_issues: int = Field(ge=0)
    issues: list[IssueBrief] = Field(description="a Wi-Fi device's MAC address in a subject reads \"a Wi-Fi "
                                     "device\" unless [mqtt] home_assistant_client_details is on")
    wifi_clients: int = Field(ge=0, description="Wi-Fi devices associated with the access point")
    wifi_busy_pct: float | None = Field(description="the access point's channel busy time, percent")
    weakest_station_dbm: float | None = Field(description="the weakest associated device's signal")
    gateway_rtt_ms: float | None
    last_action: str = Field(description='"name[:target] outcome" of the last audited action, or "none"')


CONTRACT_MESSAGES: dict[str, type[BaseModel]] = {
    "status": StatusMessage,
    "meta": MetaMessage,
    "telemetry": TelemetryMessage,
    "telemetry_v2": TelemetryBatch,
    "issue": IssueEvent,
    "action": ActionEvent,
    "command": CommandRequest,
    "response": CommandResponse,
    "ha_state": HomeAssistantState,
}


def json_schema(model: type[BaseModel] | type[Record]) -> dict[str, Any]:
    """The standalone JSON Schema of a contract message (pydantic) or of a command's arguments (a Record)."""
    if issubclass(model, Record):
        schema = record_json_schema(model)
    else:
        schema = model.model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
