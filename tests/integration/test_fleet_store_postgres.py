"""The fleet store on a real PostgreSQL (a throwaway cluster, stopped by PID): concurrent writers store every message
exactly once and the report gives a constructed fleet's true counts; two `fleet watch --share --store` watchers
fed through mosquitto, redeliveries included, fill one database without loss or duplicates."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from agent_process import wait_for
from postgres_cluster import PostgresCluster, why_no_postgres
from watch_process import WatchProcess

from edge_agent.fleet.report import build_report, report_from_store
from edge_agent.fleet.store import SCHEMA_VERSION, FleetStore
from edge_agent.fleet.synthetic import build_fleet, parsed_events

T0 = 1_700_000_000.0
pytestmark = pytest.mark.skipif(why_no_postgres() is not None, reason=why_no_postgres() or "")


@pytest.fixture(scope="module")
def cluster():
    server = PostgresCluster()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def database(cluster: PostgresCluster) -> str:
    """A fresh database per test, on the module's cluster."""
    import psycopg

    name = f"fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


def test_concurrent_writers_store_each_message_once_and_report_the_truth(database: str):
    fleet = build_fleet(devices=30, issues_per_device=5, start_ts=T0, span_s=86400, seed=23)
    events = parsed_events(fleet.messages, T0)
    shuffled = list(events)
    random.Random(9).shuffle(shuffled)
    # Four writers; every message reaches two of them (as after a watcher reconnects and the broker redelivers).
    shares = [shuffled[n::4] + shuffled[(n + 1) % 4::4] for n in range(4)]
    stored = [0] * 4
    stores = [FleetStore(database) for _ in shares]

    def run(n: int) -> None:
        for start in range(0, len(shares[n]), 40):
            stored[n] += stores[n].record(shares[n][start:start + 40])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(stored) == len(events)
    counts = stores[0].counts()
    assert counts.messages == len(events) and counts.devices == fleet.truth.devices
    assert counts.issues == fleet.truth.issues
    assert stores[0].schema_version() == SCHEMA_VERSION

    kpis = report_from_store(database).kpis()
    assert kpis["outcomes"] == {c: fleet.truth.outcomes[c] for c in kpis["outcomes"]}
    assert kpis["resolved_before_impact"] == fleet.truth.before_impact
    assert kpis == build_report(events).kpis()
    for store in stores:
        store.close()


def test_watchers_starting_together_create_the_schema_once(database: str):
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            FleetStore(database).close()
        except BaseException as exc:  # noqa: BLE001 — collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = FleetStore(database)
    assert store.schema_version() == SCHEMA_VERSION


def test_prune_on_postgresql_deletes_what_aged_out_and_keeps_open_issues(database: str):
    from edge_agent.fleet.retention import DAY_S, RetentionPolicy

    fleet = build_fleet(devices=10, issues_per_device=6, start_ts=T0, span_s=3600, seed=8)
    store = FleetStore(database, now=lambda: T0 + 3600)
    store.record(parsed_events(fleet.messages, T0))
    unresolved = {(life.device_id, life.issue_id) for life in store.issue_lives() if life.resolved_ts is None}
    cutoffs = RetentionPolicy().cutoffs(T0 + 401 * DAY_S)
    counted = store.prune(cutoffs, dry_run=True)
    assert store.prune(cutoffs, batch_rows=9).to_dict() == counted.to_dict()
    counts = store.counts()
    assert (counts.telemetry, counts.messages, counts.devices) == (0, 0, 10)
    assert {(life.device_id, life.issue_id) for life in store.issue_lives()} == unresolved
    assert counted.issues == fleet.truth.issues - len(unresolved) > 0
    store.close()


def test_two_shared_watchers_fill_one_database_without_loss_or_duplicates(database: str, mosquitto):
    fleet = build_fleet(devices=40, issues_per_device=3, start_ts=T0, span_s=3600, seed=31)
    watchers = [WatchProcess(mosquitto, "--share", "store", "--store", database) for _ in range(2)]
    assert all("postgresql" in w.announcement for w in watchers)
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    try:
        resent = fleet.messages[::20]  # the same messages again, as a device does after a lost PUBACK
        for topic, payload in fleet.messages + resent:
            publisher.publish(topic, payload, qos=1).wait_for_publish(timeout=10)
        store = FleetStore(database)
        wait_for(lambda: store.counts().messages == len(fleet.messages), timeout_s=30, what="every message stored")
        time.sleep(0.5)  # nothing more may come
        assert store.counts().messages == len(fleet.messages)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        summaries = [watcher.stop()[1] for watcher in watchers]
    assert all(s["stored"] > 0 for s in summaries), "both watchers should get a share"
    assert sum(s["stored"] for s in summaries) == len(fleet.messages)

    report = subprocess.run([sys.executable, "-m", "edge_agent", "fleet", "report", "--store", database, "--json"],
                            capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    kpis = json.loads(report.stdout)
    assert kpis["devices"] == fleet.truth.devices
    assert kpis["outcomes"] == {c: fleet.truth.outcomes[c] for c in kpis["outcomes"]}
