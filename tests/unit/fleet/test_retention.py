"""Fleet store retention (`fleet prune`) on SQLite: each kind of row ages by its own clock, open issues and presence
are never pruned, the duplicate ledger still works for what it keeps, a dry run counts exactly what a prune then
deletes, and settings that would lose data are refused. PostgreSQL: tests/integration/test_fleet_store_postgres.py."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.fleet.retention import DAY_S, RetentionError, RetentionPolicy
from edge_agent.fleet.store import FleetStore
from edge_agent.fleet.synthetic import PREFIX, build_fleet, parsed_events, telemetry_message
from edge_agent.reporting.envelope import EnvelopeFactory

T0 = 1_700_000_000.0


def late_telemetry(device_id: str, ts: float, count: int) -> list[tuple[str, bytes]]:
    factory = EnvelopeFactory(device_id, "synthetic", lambda: True)
    return [(f"{PREFIX}/{device_id}/{topic}", json.dumps(message).encode())
            for topic, message in (telemetry_message(factory, ts + n, v2=n % 2 == 1) for n in range(count))]


def rows(path: Path, statement: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(statement).fetchall()


@pytest.fixture
def filled(tmp_path: Path):
    """A fleet whose issues all happened in its first hour, then 40 days later a little fresh telemetry."""
    path = tmp_path / "fleet.db"
    clock = [T0 + 3600]
    store = FleetStore(f"sqlite://{path}", now=lambda: clock[0])
    fleet = build_fleet(devices=6, issues_per_device=8, start_ts=T0, span_s=3600, seed=5)
    store.record(parsed_events(fleet.messages, T0))
    clock[0] = T0 + 40 * DAY_S
    late = late_telemetry("gw-00000", T0 + 40 * DAY_S, 4)
    store.record(parsed_events(late, clock[0]))
    return path, store, late


def test_telemetry_and_message_ids_age_out_while_issues_stay_for_their_longer_time(filled):
    path, store, late = filled
    before = store.counts()
    old_windows = rows(path, f"SELECT COUNT(*) FROM telemetry WHERE window_end < {T0 + 11 * DAY_S}")[0][0]
    assert 0 < old_windows < before.telemetry

    result = store.prune(RetentionPolicy().cutoffs(T0 + 41 * DAY_S))

    after = store.counts()
    assert result.telemetry == old_windows and after.telemetry == before.telemetry - old_windows
    assert rows(path, "SELECT MIN(window_end) FROM telemetry")[0][0] >= T0 + 40 * DAY_S
    # The ledger keeps the ids stored in the last 7 days: the late messages, still refused when redelivered.
    assert after.messages == len(late) and result.messages == before.messages - len(late)
    assert store.record(parsed_events(late, T0 + 41 * DAY_S)) == 0
    assert (after.issues, after.actions, after.devices) == (before.issues, before.actions, before.devices)


def test_resolved_issues_go_with_their_actions_and_open_ones_stay_however_old(filled):
    path, store, _ = filled
    lives = store.issue_lives()
    unresolved = {(life.device_id, life.issue_id) for life in lives if life.resolved_ts is None}
    assert unresolved and len(unresolved) < len(lives)  # the stories leave some open or escalated
    actions_of = rows(path, "SELECT device_id, issue_id FROM actions")
    kept_actions = [a for a in actions_of if a in unresolved]

    result = store.prune(RetentionPolicy().cutoffs(T0 + 401 * DAY_S))

    assert {(life.device_id, life.issue_id) for life in store.issue_lives()} == unresolved
    assert result.issues == len(lives) - len(unresolved)
    assert sorted(rows(path, "SELECT device_id, issue_id FROM actions")) == sorted(kept_actions)
    assert result.actions == len(actions_of) - len(kept_actions)
    assert store.counts().devices == 6  # presence is never pruned


def test_a_dry_run_counts_exactly_what_the_prune_then_deletes_in_small_batches(filled):
    _, store, _ = filled
    cutoffs = RetentionPolicy(telemetry_days=5, ledger_days=3, issues_days=20).cutoffs(T0 + 41 * DAY_S)
    before = store.counts()
    counted = store.prune(cutoffs, dry_run=True)
    assert store.counts() == before
    assert store.prune(cutoffs, batch_rows=7).to_dict() == counted.to_dict()
    assert store.prune(cutoffs, dry_run=True).to_dict() == {"telemetry": 0, "messages": 0, "issues": 0, "actions": 0}


@pytest.mark.parametrize(("settings", "named"), [
    ({"ledger_days": 0.5}, "ledger_days must be at least 1"),
    ({"telemetry_days": 0}, "telemetry_days must be a positive"),
    ({"issues_days": float("nan")}, "issues_days must be a positive"),
    ({"telemetry_days": -3}, "telemetry_days must be a positive"),
])
def test_settings_that_would_lose_data_or_mean_nothing_are_refused_by_name(settings, named):
    with pytest.raises(RetentionError, match=named):
        RetentionPolicy(**settings)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_agent", "fleet", "prune", *args], capture_output=True,
                          text=True, timeout=60)


def test_the_cli_prunes_a_store_and_refuses_a_missing_one_or_a_short_ledger(filled, tmp_path: Path):
    path, store, _ = filled
    # The store's own rows are from 2023: with default settings every telemetry window and id has aged out.
    done = run_cli("--store", f"sqlite://{path}", "--json", "--issues-days", "100000")
    assert done.returncode == 0, done.stderr
    deleted = json.loads(done.stdout)["deleted"]
    assert deleted["telemetry"] > 0 and deleted["messages"] > 0 and deleted["issues"] == 0
    assert store.counts().telemetry == 0

    missing = run_cli("--store", f"sqlite://{tmp_path}/nothing.db")
    assert missing.returncode == 64 and "no fleet store at" in missing.stderr
    short = run_cli("--store", f"sqlite://{path}", "--ledger-days", "0.2")
    assert short.returncode == 64 and "ledger_days must be at least 1" in short.stderr
