"""The published contract: generated from the models, a valid AsyncAPI 3.0 document, and what the code builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from edge_agent.issues import IssueTracker
from edge_agent.model import Finding, Severity
from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.reporter import Reporter

ROOT = Path(__file__).resolve().parents[3]
ASYNCAPI_SPEC = ROOT / ".cache" / "asyncapi-specs" / "package" / "schemas" / "3.0.0-without-$id.json"


def schema(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "schemas" / f"{name}.json").read_text()))


def test_published_contract_files_match_the_models():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_contract.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not ASYNCAPI_SPEC.exists(), reason="AsyncAPI 3.0 JSON Schema not fetched (scripts/test.sh "
                    "does it with npm: npm pack @asyncapi/specs)")
def test_asyncapi_document_is_valid_against_the_official_3_0_schema():
    validator = jsonschema.Draft7Validator(json.loads(ASYNCAPI_SPEC.read_text()))
    document = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_asyncapi_names_every_channel_the_agent_uses():
    document = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text())
    addresses = {channel["address"] for channel in document["channels"].values()}
    for suffix in ("status", "meta", "telemetry/{stream}", "event/issue", "event/action", "cmd/{name}",
                   "res/{request_id}"):
        assert f"edge/v1/{{device_id}}/{suffix}" in addresses


class Capture:
    def __init__(self):
        self.messages: list[tuple[str, dict]] = []

    def publish(self, topic, message, durable):
        self.messages.append((topic, json.loads(json.dumps(message))))

    def close(self):
        pass


def test_issue_events_and_telemetry_built_by_the_code_match_their_schemas():
    capture = Capture()
    reporter = Reporter(EnvelopeFactory("gw-1", "site-1", lambda: None), [capture])
    tracker = IssueTracker(open_after=1, resolve_after=1)
    bad = Finding("wifi_interference", "wlan0", True, Severity.WARNING, "rules.wifi", "busy", {"busy_ratio": 0.8})
    good = Finding("wifi_interference", "wlan0", False, Severity.WARNING, "rules.wifi", "", {"busy_ratio": 0.1})
    for event in tracker.observe(bad, 1.0, 100.0) + tracker.observe(good, 2.0, 101.0):
        reporter.event(event)

    issue_messages = [m for t, m in capture.messages if t == "event/issue"]
    assert [m["change"] for m in issue_messages] == ["opened", "resolved"]
    for message in issue_messages:
        assert list(schema("issue").iter_errors(message)) == []


def test_the_issue_schema_rejects_a_message_without_its_issue_id():
    message = {"schema": "edge.issue/1", "id": "x", "device_id": "d", "site_id": "s", "agent_version": "0",
               "boot_id": "b", "seq": 1, "ts": 1.0, "mono_ms": 1, "clock_synced": None}
    assert any("issue_id" in e.message for e in schema("issue").iter_errors(message))


def test_wifi_station_and_neighbour_telemetry_match_the_telemetry_schema():
    from edge_agent.collectors.wifi import NeighbourNetwork, neighbour_summary
    from edge_agent.model import Sample

    capture = Capture()
    reporter = Reporter(EnvelopeFactory("gw-1", "site-1", lambda: None), [capture])
    reporter.telemetry(Sample("wifi.neighbours", "wlan0", neighbour_summary([NeighbourNetwork("a", 6, -60.0, 20)]),
                              1.0, 1.0))
    reporter.telemetry(Sample("wifi.station", "aa:bb:cc:dd:ee:ff", {"signal_dbm": -60.0, "band_ghz": 2.4}, 1.0, 1.0))
    for _, message in capture.messages:
        assert list(schema("telemetry").iter_errors(message)) == []
