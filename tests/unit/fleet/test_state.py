"""The fleet's state from raw broker messages: validation, dedup, presence with the session counter, issues."""

from __future__ import annotations

import json

from edge_agent.fleet.state import FleetState
from edge_agent.reporting.envelope import EnvelopeFactory

DEVICE = "gw-1"


def envelopes() -> EnvelopeFactory:
    return EnvelopeFactory(DEVICE, "site-1", lambda: True)


def status(factory: EnvelopeFactory, state: str, session: int, reason: str = "connected") -> bytes:
    return json.dumps(factory.wrap("edge.status/1", {"state": state, "reason": reason, "session": session},
                                   1.0, 1.0)).encode()


def issue(factory: EnvelopeFactory, issue_id: str, state: str, change: str) -> bytes:
    body = {"change": change, "issue_id": issue_id, "type": "dns_failure", "subject": "10.0.0.1",
            "severity": "critical", "state": state, "summary": "", "evidence": {}, "guidance": "",
            "detector": "rules.connectivity", "opened_ts": 1.0, "updated_ts": 1.0,
            "resolved_ts": 2.0 if state == "resolved" else None, "transitions": []}
    return json.dumps(factory.wrap("edge.issue/1", body, 1.0, 1.0)).encode()


def test_an_online_status_makes_the_device_online_with_its_session():
    fleet = FleetState()
    event = fleet.ingest(f"edge/v1/{DEVICE}/status", status(envelopes(), "online", 4), 100.0)
    device = fleet.devices[DEVICE]
    assert (device.online, device.session, device.last_seen) == (True, 4, 100.0)
    assert event["kind"] == "status" and event["stale"] is False


def test_a_last_will_from_an_older_session_is_ignored_after_a_newer_birth():
    fleet, factory = FleetState(), envelopes()
    fleet.ingest(f"edge/v1/{DEVICE}/status", status(factory, "online", 5), 1.0)
    event = fleet.ingest(f"edge/v1/{DEVICE}/status", status(factory, "offline", 4, "connection lost"), 2.0)
    assert event["stale"] is True and fleet.devices[DEVICE].online is True and fleet.stale_wills == 1
    fleet.ingest(f"edge/v1/{DEVICE}/status", status(factory, "offline", 5, "connection lost"), 3.0)
    assert fleet.devices[DEVICE].online is False


def test_the_same_message_twice_is_counted_once():
    fleet, payload = FleetState(), status(envelopes(), "online", 1)
    assert fleet.ingest(f"edge/v1/{DEVICE}/status", payload, 1.0) is not None
    assert fleet.ingest(f"edge/v1/{DEVICE}/status", payload, 1.1) is None
    assert fleet.duplicates == 1


def test_bad_json_and_contract_violations_are_counted_and_named_never_raised():
    fleet = FleetState()
    assert fleet.ingest(f"edge/v1/{DEVICE}/status", b"{nope", 1.0) is None
    assert fleet.ingest(f"edge/v1/{DEVICE}/status", b'{"schema": "edge.status/1"}', 1.0) is None
    assert fleet.ingest(f"edge/v1/{DEVICE}/unknown/topic", b"{}", 1.0) is None
    assert fleet.invalid == 3 and "unknown/topic" in fleet.last_invalid


def test_a_message_whose_device_id_differs_from_its_topic_is_rejected():
    fleet = FleetState()
    assert fleet.ingest("edge/v1/someone-else/status", status(envelopes(), "online", 1), 1.0) is None
    assert "does not match the topic" in fleet.last_invalid


def test_issues_open_and_resolve_in_the_summary():
    fleet, factory = FleetState(), envelopes()
    fleet.ingest(f"edge/v1/{DEVICE}/event/issue", issue(factory, "i1", "open", "opened"), 1.0)
    assert fleet.summary()["open_issues_by_type"] == {"dns_failure": 1}
    fleet.ingest(f"edge/v1/{DEVICE}/event/issue", issue(factory, "i1", "resolved", "resolved"), 2.0)
    assert fleet.summary()["open_issues_by_type"] == {}


def test_an_older_sequence_number_of_the_same_boot_is_flagged_late():
    fleet, factory = FleetState(), envelopes()
    first = issue(factory, "i1", "open", "opened")
    second = issue(factory, "i2", "open", "opened")
    fleet.ingest(f"edge/v1/{DEVICE}/event/issue", second, 1.0)
    event = fleet.ingest(f"edge/v1/{DEVICE}/event/issue", first, 1.1)
    assert event["late"] is True and fleet.out_of_order == 1


def test_presence_is_ordered_by_session_not_flagged_late_by_sequence_number():
    fleet, factory = FleetState(), envelopes()
    will = json.dumps(factory.wrap_presence("edge.status/1", {"state": "offline", "reason": "connection lost",
                                                               "session": 1}, 1.0, 1.0)).encode()
    fleet.ingest(f"edge/v1/{DEVICE}/event/issue", issue(factory, "i1", "open", "opened"), 1.0)
    event = fleet.ingest(f"edge/v1/{DEVICE}/status", will, 2.0)
    assert event["late"] is False and fleet.out_of_order == 0 and fleet.devices[DEVICE].online is False


def test_a_hostile_device_message_is_counted_invalid_never_a_crash_of_the_watch():
    fleet = FleetState()
    deep = b'{"schema": "edge.status/1", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    for payload in (deep, b'{"n": ' + b"9" * 5000 + b"}", b'{"seq": NaN}', b"\xff\xfe"):
        assert fleet.ingest(f"edge/v1/{DEVICE}/status", payload, 1.0) is None
    assert fleet.invalid == 4
