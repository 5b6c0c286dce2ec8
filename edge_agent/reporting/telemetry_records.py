"""Telemetry of either contract as uniform records, one per subject and window: what a fleet consumer stores.

A v1 message is one sample (a window of one); a v2 message is a report window with every subject of a stream
family. Both become `TelemetryRecord`s with the same shape, so a consumer never branches on the contract. Pure:
validated message dicts in, records out (validate first with `telemetry_model`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel

from edge_agent.reporting.contract import MetricValue, NumberValue, TelemetryBatch, TelemetryMessage
from edge_agent.reporting.envelope import SCHEMA_TELEMETRY as SCHEMA_TELEMETRY_V1
from edge_agent.reporting.envelope import SCHEMA_TELEMETRY_V2
from edge_agent.reporting.metric_values import as_number

TELEMETRY_MODELS: dict[str, type[BaseModel]] = {SCHEMA_TELEMETRY_V1: TelemetryMessage,
                                                SCHEMA_TELEMETRY_V2: TelemetryBatch}


def telemetry_model(body: Any) -> type[BaseModel]:
    """The model to validate a message from a `telemetry/{stream}` topic with, chosen by its `schema` field.

    Anything but a v2 schema gets the v1 model, so a message that names no or an unknown schema fails
    validation with v1's error, as before v2 existed."""
    schema = body.get("schema") if isinstance(body, dict) else None
    return TELEMETRY_MODELS.get(schema, TelemetryMessage) if isinstance(schema, str) else TelemetryMessage


@dataclass(frozen=True)
class NumberSummary:
    min: NumberValue
    mean: float
    max: NumberValue
    last: NumberValue
    count: int


@dataclass(frozen=True)
class TelemetryRecord:
    """One subject of one stream over one window (a v1 sample is a window of length 0).

    `numbers` and `values` hold only what the message carried: in v2 a field left out still holds its last
    reported value (a consumer that keeps state fills it in from earlier records)."""

    device_id: str
    boot_id: str
    message_id: str
    stream: str  # the full stream, e.g. wifi.radio
    subject: str
    start_ts: float  # the agent's clock (simulated time on simulated premises)
    end_ts: float
    samples: int  # 0: the subject stopped reporting
    numbers: dict[str, NumberSummary] = field(default_factory=dict)
    values: dict[str, MetricValue] = field(default_factory=dict)
    histograms: dict[str, list[int]] = field(default_factory=dict)
    contract: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def telemetry_records(message: Mapping[str, Any]) -> list[TelemetryRecord]:
    """The records in one validated telemetry message of either contract (model_dump(by_alias=True) form)."""
    end_ts = message["sim_ts"] if message.get("sim_ts") is not None else message["ts"]
    common = {"device_id": message["device_id"], "boot_id": message["boot_id"], "message_id": message["id"]}
    if message["schema"] == SCHEMA_TELEMETRY_V1:
        numbers, values = {}, {}
        for name, value in message["metrics"].items():
            number = as_number(value)
            if number is None:
                values[name] = value
            else:
                numbers[name] = NumberSummary(value, number, value, value, 1)
        return [TelemetryRecord(**common, stream=message["stream"], subject=message["subject"], start_ts=end_ts,
                                end_ts=end_ts, samples=1, numbers=numbers, values=values, contract=1)]
    if message["schema"] != SCHEMA_TELEMETRY_V2:
        raise ValueError(f"not a telemetry message: schema {message['schema']!r}")
    start_ts = end_ts - message["window_s"]
    return [
        TelemetryRecord(
            **common, stream=series["stream"], subject=series["subject"], start_ts=start_ts, end_ts=end_ts,
            samples=series["n"],
            numbers={name: NumberSummary(*stats) for name, stats in series.get("stats", {}).items()},
            values=dict(series.get("values", {})),
            histograms={name: list(h) for name, h in series.get("hist", {}).items()},
        )
        for series in message["series"]
    ]
