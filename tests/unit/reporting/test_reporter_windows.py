"""The reporter with report windows (contract v2): events at once, telemetry one message per family and window."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from edge_agent.model import Event, EventKind, Sample
from edge_agent.reporting.contract import TelemetryBatch
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.reporter import Reporter
from edge_agent.reporting.telemetry_records import telemetry_model, telemetry_records
from edge_agent.reporting.telemetry_window import TelemetryWindows, WindowPolicy

from ..support import RecordingSink

T0 = 1_700_000_000.0


def windowed(sink: RecordingSink, interval: float = 60.0) -> Reporter:
    envelopes = EnvelopeFactory("gw-test", "site-test", clock_synced=lambda: True)
    return Reporter(envelopes, [sink], windows=TelemetryWindows(WindowPolicy(interval, 900.0)))


def dns(ok: bool, latency: float | None, mono: float) -> Sample:
    return Sample("connectivity.dns", "10.0.0.1", {"ok": ok, "latency_ms": latency}, mono, T0 + mono)


def issue(mono: float) -> Event:
    body = {"issue_id": "a1", "type": "dns_failure", "subject": "10.0.0.1", "severity": "critical"}
    return Event(EventKind.ISSUE, "opened", body, ts=T0 + mono, mono=mono)


def test_samples_wait_for_their_window_while_an_event_goes_out_at_once():
    sink = RecordingSink()
    reporter = windowed(sink)
    for mono in range(0, 30, 5):
        reporter.telemetry(dns(True, 10.0, mono))
    assert sink.published == []
    reporter.event(issue(31.0))
    assert sink.topics() == ["event/issue"]  # not held back by the window, and not in it
    reporter.telemetry(dns(False, None, 61.0))
    assert sink.topics() == ["event/issue", "telemetry/connectivity"]
    topic, message, durable = sink.published[-1]
    assert (message["schema"], durable) == ("edge.telemetry/2", False)
    [series] = message["series"]
    assert series["n"] == 6 and series["stats"]["latency_ms"] == [10.0, 10.0, 10.0, 10.0, 6]


def test_many_samples_and_subjects_go_under_one_envelope():
    sink = RecordingSink()
    reporter = windowed(sink)
    for mono in range(60):
        for station in range(5):
            reporter.telemetry(Sample("wifi.station", f"mac-{station}", {"signal_dbm": -50.0 - mono % 3}, mono,
                                      T0 + mono))
    reporter.tick(60.0, T0 + 60.0)
    [(topic, message, _)] = sink.published
    assert topic == "telemetry/wifi" and len(message["series"]) == 5
    assert reporter.published_samples == 300 and reporter.published_reports == 1


def test_a_window_closed_by_an_event_goes_out_after_the_event():
    sink = RecordingSink()
    reporter = windowed(sink)
    reporter.telemetry(dns(True, 10.0, 0.0))
    reporter.event(issue(70.0))
    assert sink.topics() == ["event/issue", "telemetry/connectivity"]


def test_close_sends_the_partial_windows_so_a_restart_loses_no_aggregate():
    sink = RecordingSink()
    reporter = windowed(sink)
    reporter.telemetry(dns(True, 12.0, 0.0))
    reporter.telemetry(dns(True, 14.0, 20.0))
    reporter.close()
    [(_, message, _)] = sink.published
    assert message["window_s"] == 20.0 and message["series"][0]["stats"]["latency_ms"][4] == 2


def test_what_the_reporter_sends_validates_and_expands_back_into_records():
    sink = RecordingSink()
    reporter = windowed(sink)
    reporter.telemetry(dns(True, 10.0, 0.0))
    reporter.telemetry(dns(False, None, 10.0))
    reporter.telemetry(Sample("connectivity.gateway", "10.0.0.1", {"rtt_ms": 1.5, "mac": "aa"}, 10.0, T0 + 10.0))
    reporter.tick(60.0, T0 + 60.0)
    [(_, message, _)] = sink.published
    body = json.loads(json.dumps(message, allow_nan=False))
    assert telemetry_model(body) is TelemetryBatch
    records = telemetry_records(TelemetryBatch.model_validate(body).model_dump(by_alias=True))
    by_stream = {r.stream: r for r in records}
    assert by_stream["connectivity.dns"].numbers["ok"].mean == 0.5
    assert by_stream["connectivity.gateway"].values == {"mac": "aa"}
    assert by_stream["connectivity.gateway"].end_ts - by_stream["connectivity.gateway"].start_ts == 60.0


def test_without_windows_every_sample_is_its_own_v1_message():
    sink = RecordingSink()
    reporter = Reporter(EnvelopeFactory("gw-test", "site-test", clock_synced=lambda: True), [sink])
    reporter.telemetry(dns(True, 10.0, 0.0))
    reporter.telemetry(dns(True, 11.0, 1.0))
    assert [m["schema"] for _, m, _ in sink.published] == ["edge.telemetry/1"] * 2


def test_what_the_reporter_sends_matches_the_published_json_schema():
    sink = RecordingSink()
    reporter = windowed(sink)
    for mono in range(0, 60, 5):
        reporter.telemetry(dns(mono % 10 == 0, None if mono == 5 else float(mono), mono))
        reporter.telemetry(Sample("wifi.radio", "wlan0", {"channel": 6, "band": "2.4GHz", "busy_ratio": 0.1 * mono},
                                  mono, T0 + mono))
    reporter.close()
    schema = json.loads((Path(__file__).resolve().parents[3] / "docs" / "schemas" / "telemetry_v2.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert len(sink.published) == 2
    for _, message, _ in sink.published:
        assert list(validator.iter_errors(json.loads(json.dumps(message)))) == []
