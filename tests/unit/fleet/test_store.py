"""The fleet store on SQLite (the embedded default): idempotent on message id, the same report as the recordings
whatever the order and however the watchers split the messages, presence by session, v1 and v2 telemetry as
windows, and a versioned schema. The same store on PostgreSQL: tests/integration/test_fleet_store_postgres.py."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from pathlib import Path

import pytest

from edge_agent.fleet.dialect import StoreUrlError
from edge_agent.fleet.report import build_report, report_from_store
from edge_agent.fleet.store import SCHEMA_VERSION, FleetStore
from edge_agent.fleet.synthetic import build_fleet, parsed_events, telemetry_message
from edge_agent.reporting.envelope import SCHEMA_STATUS, EnvelopeFactory

T0 = 1_700_000_000.0


def ingest(messages: list[tuple[str, bytes]]) -> list[dict]:
    return parsed_events(messages, T0)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path}/fleet.db"


def test_storing_the_same_messages_again_changes_nothing(url: str):
    events = ingest(build_fleet(devices=5, issues_per_device=4, start_ts=T0, span_s=3600).messages)
    store = FleetStore(url)
    assert store.record(events) == len(events)
    first = store.counts()
    assert store.record(events[::3]) == 0
    assert store.counts() == first
    assert first.messages == len(events)


def test_watchers_writing_one_store_in_any_order_give_the_true_counts(url: str):
    fleet = build_fleet(devices=12, issues_per_device=6, start_ts=T0, span_s=86400, seed=11)
    events = ingest(fleet.messages)
    shuffled = list(events)
    random.Random(4).shuffle(shuffled)
    # Three watchers, overlapping (a redelivery reaches a second one), each storing in batches of 25.
    shares = [shuffled[0::3] + shuffled[:40], shuffled[1::3], shuffled[2::3] + shuffled[100:130]]
    stores = [FleetStore(url) for _ in shares]
    stored = [0] * len(shares)

    def run(n: int) -> None:
        for start in range(0, len(shares[n]), 25):
            stored[n] += stores[n].record(shares[n][start:start + 25])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(shares))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(stored) == len(events)  # every message stored once, by one of them

    kpis = report_from_store(url).kpis()
    assert kpis["outcomes"] == {c: fleet.truth.outcomes[c] for c in kpis["outcomes"]}
    assert kpis["resolved_before_impact"] == fleet.truth.before_impact
    assert kpis == build_report(events).kpis()
    categories = stores[0].issue_categories()
    assert sorted(categories.values()) == sorted(i.category for i in build_report(events).issues)


def test_an_issue_row_keeps_its_whole_life(url: str):
    fleet = build_fleet(devices=1, issues_per_device=1, start_ts=T0, span_s=60, seed=1)
    store = FleetStore(url)
    store.record(ingest(fleet.messages))
    (life,) = store.issue_lives()
    issue_messages = [m for t, m in fleet.messages if t.endswith("event/issue")]
    assert life.updates == len(issue_messages)
    assert life.opened_ts is not None and life.transitions[0]["state"] == "open"
    assert life.category == next(iter(fleet.truth.outcomes))


def presence(factory: EnvelopeFactory, state: str, session: int, reason: str) -> tuple[str, bytes]:
    message = factory.wrap_presence(SCHEMA_STATUS, {"state": state, "reason": reason, "session": session}, T0, 0.0)
    return f"edge/v1/{factory.device_id}/status", json.dumps(message).encode()


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_presence_follows_the_session_not_the_arrival_order(url: str, order: list[int]):
    factory = EnvelopeFactory("gw-1", "site", lambda: True)
    stale_will = presence(factory, "offline", 1, "connection lost")
    birth = presence(factory, "online", 2, "connected")
    other = EnvelopeFactory("gw-2", "site", lambda: True)
    clean_stop = [presence(other, "online", 5, "connected"), presence(other, "offline", 5, "shutdown")]
    events = ingest([stale_will, birth])
    events += ingest(clean_stop)
    store = FleetStore(url)
    for n in order:
        store.record([events[n] if n < 2 else events[3]])
    store.record([events[2]])
    devices = {d["device_id"]: d for d in store.devices()}
    assert devices["gw-1"]["online"] is True and devices["gw-1"]["session"] == 2
    assert devices["gw-2"]["online"] is False and devices["gw-2"]["presence_reason"] == "shutdown"


def test_v1_samples_and_v2_windows_are_stored_as_telemetry_windows(url: str):
    factory = EnvelopeFactory("gw-1", "site", lambda: True)
    messages = [telemetry_message(factory, T0, v2=False), telemetry_message(factory, T0 + 60, v2=True)]
    store = FleetStore(url)
    store.record(ingest([(f"edge/v1/gw-1/{t}", json.dumps(m).encode()) for t, m in messages]))
    rows = store.telemetry("gw-1")
    assert [(r["stream"], r["samples"]) for r in rows] == [("wifi.radio", 1), ("wifi.radio", 12),
                                                           ("wifi.station", 12)]
    v1, v2 = rows[0], rows[1]
    assert v1["start"] == v1["end"] == T0 and v1["aggregates"]["contract"] == 1
    assert v1["aggregates"]["numbers"]["busy_ratio"]["last"] == 0.2
    assert v1["aggregates"]["values"] == {"ssid": "home"}
    assert (v2["start"], v2["end"]) == (T0, T0 + 60)
    assert v2["aggregates"]["numbers"]["noise_dbm"] == {"min": -96.0, "mean": -95.2, "max": -94.0, "last": -95.0,
                                                        "count": 12}


def test_the_schema_is_versioned_and_created_once(url: str, tmp_path: Path):
    FleetStore(url).close()
    store = FleetStore(url)
    assert store.schema_version() == SCHEMA_VERSION
    db = sqlite3.connect(tmp_path / "fleet.db")
    assert [v for v, in db.execute("SELECT version FROM schema_version")] == list(range(1, SCHEMA_VERSION + 1))
    db.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    db.commit()
    with pytest.raises(StoreUrlError, match="newer than this tool's"):
        FleetStore(url)


def test_a_version_1_store_gains_the_retention_indexes_and_keeps_its_rows(url: str, tmp_path: Path):
    from edge_agent.fleet.dialect import SQLITE
    from edge_agent.fleet.store import _migrations

    db = sqlite3.connect(tmp_path / "fleet.db")
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_ts DOUBLE PRECISION NOT NULL)")
    for statement in _migrations(SQLITE)[1]:
        db.execute(statement)
    db.execute("INSERT INTO schema_version VALUES (1, 0)")
    db.execute("INSERT INTO devices VALUES ('gw-1', 's', '1', 1, 1, 'connected', 0, 0, 0, 3)")
    db.commit()
    store = FleetStore(url)
    assert store.schema_version() == 2 and store.counts().devices == 1
    indexes = {name for name, in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"messages_stored", "telemetry_end", "issues_resolved"} <= indexes


@pytest.mark.parametrize("bad, message", [
    ("mysql://db/fleet", "must be sqlite:///PATH or postgresql://"),
    ("sqlite://fleet.db", "sqlite:///absolute/path"),
    ("sqlite:///", "sqlite:///absolute/path"),
])
def test_a_store_url_that_is_not_one_is_a_clear_error(bad: str, message: str):
    with pytest.raises(StoreUrlError, match=message):
        FleetStore(bad)


def test_reporting_from_a_store_that_does_not_exist_says_so_and_creates_nothing(tmp_path: Path):
    with pytest.raises(StoreUrlError, match="no fleet store at"):
        report_from_store(f"sqlite://{tmp_path}/missing.db")
    assert not (tmp_path / "missing.db").exists()
