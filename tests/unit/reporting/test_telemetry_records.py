"""Telemetry of either contract as the same per-subject records (what fleet consumers store)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from edge_agent.reporting.contract import TelemetryBatch, TelemetryMessage
from edge_agent.reporting.telemetry_records import as_number, telemetry_model, telemetry_records

ENVELOPE = {"id": "m1", "device_id": "gw-1", "site_id": "s", "agent_version": "0", "boot_id": "b1", "seq": 3,
            "ts": 1000.0, "mono_ms": 1, "clock_synced": True}


def validated(body: dict) -> dict:
    return telemetry_model(body).model_validate(body).model_dump(by_alias=True)


def test_a_v1_sample_is_a_record_of_one_sample_with_numbers_and_values_apart():
    body = {**ENVELOPE, "schema": "edge.telemetry/1", "stream": "connectivity.dns", "subject": "10.0.0.1",
            "metrics": {"ok": True, "latency_ms": 12.5, "rcode": "NOERROR", "error": None}}
    [record] = telemetry_records(validated(body))
    assert (record.contract, record.samples, record.start_ts, record.end_ts) == (1, 1, 1000.0, 1000.0)
    assert record.numbers["latency_ms"].mean == 12.5 and record.numbers["latency_ms"].count == 1
    assert record.numbers["ok"].last is True
    assert record.values == {"rcode": "NOERROR", "error": None}


def test_a_v2_batch_expands_into_one_record_per_subject_over_its_window():
    body = {**ENVELOPE, "schema": "edge.telemetry/2", "sim_ts": 5000.0, "stream": "wifi", "window_s": 120.0,
            "series": [
                {"stream": "wifi.radio", "subject": "wlan0", "n": 24, "stats": {"busy_ratio": [0.1, 0.2, 0.4, 0.3, 24]},
                 "values": {"band": "2.4GHz"}},
                {"stream": "wifi.station", "subject": "aa", "n": 0},
                {"stream": "connectivity.gateway", "subject": "gw", "n": 2, "stats": {"rtt_ms": [1, 1.5, 2, 2, 2]},
                 "hist": {"rtt_ms": [1, 1]}},
            ]}
    radio, gone, gateway = telemetry_records(validated(body))
    assert (radio.start_ts, radio.end_ts) == (4880.0, 5000.0)  # the simulated time when there is one
    assert radio.numbers["busy_ratio"].max == 0.4 and radio.values == {"band": "2.4GHz"}
    assert (gone.subject, gone.samples, gone.numbers) == ("aa", 0, {})
    assert gateway.histograms == {"rtt_ms": [1, 1]}
    assert {r.message_id for r in (radio, gone, gateway)} == {"m1"}
    assert radio.to_dict()["numbers"]["busy_ratio"]["mean"] == 0.2


@pytest.mark.parametrize("schema, model", [("edge.telemetry/2", TelemetryBatch), ("edge.telemetry/1", TelemetryMessage),
                                           ("edge.telemetry/9", TelemetryMessage), (None, TelemetryMessage)])
def test_the_model_is_chosen_by_the_schema_field(schema, model):
    assert telemetry_model({"schema": schema}) is model
    assert telemetry_model(["not", "a", "dict"]) is TelemetryMessage


@pytest.mark.parametrize("series", [
    {"stream": "wifi.radio", "subject": "w", "n": -1},
    {"stream": "wifi.radio", "subject": "w", "n": 1, "stats": {"x": [1, 2, 3]}},
    {"stream": "wifi.radio", "subject": "w", "n": 1, "stats": {"x": ["a", 1, 2, 3, 4]}},
    {"stream": "wifi.radio", "subject": "w", "n": 1, "extra": 1},
    {"subject": "w", "n": 1},
])
def test_a_malformed_batch_is_refused_by_the_v2_model(series):
    body = {**ENVELOPE, "schema": "edge.telemetry/2", "stream": "wifi", "window_s": 60.0, "series": [series]}
    with pytest.raises(ValidationError):
        validated(body)


def test_a_batch_with_a_zero_window_is_refused():
    body = {**ENVELOPE, "schema": "edge.telemetry/2", "stream": "wifi", "window_s": 0, "series": []}
    with pytest.raises(ValidationError):
        validated(body)


@pytest.mark.parametrize("value, number", [(True, 1.0), (3, 3.0), (2.5, 2.5), (float("nan"), None),
                                           (float("inf"), None), (10 ** 400, None), ("3", None), (None, None)])
def test_what_counts_as_a_number(value, number):
    assert as_number(value) == number
