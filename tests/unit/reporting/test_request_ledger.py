"""Handled request ids survive a restart, age out with their request, and stay bounded; a bad disk never raises."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge_agent.reporting.commands import REMEMBER_WITHOUT_EXPIRY_S, CommandGate
from edge_agent.reporting.request_ledger import RequestLedger

DEVICE = "edge/v1/gw-1"
NOW = 1_700_000_000.0


def ping(request_id: str, **fields) -> bytes:
    return json.dumps({"request_id": request_id, **fields}).encode()


def test_a_request_id_seen_before_a_restart_is_refused_after_it(tmp_path: Path):
    first = CommandGate(DEVICE, ["ping"], RequestLedger(tmp_path / "commands.sqlite"))
    assert first.check(f"{DEVICE}/cmd/ping", ping("r-1"), NOW).accepted
    first.ledger.close()

    again = CommandGate(DEVICE, ["ping"], RequestLedger(tmp_path / "commands.sqlite"))
    decision = again.check(f"{DEVICE}/cmd/ping", ping("r-1"), NOW + 60)
    assert not decision.accepted and "duplicate" in decision.reason


def test_an_id_is_forgotten_once_its_request_has_expired(tmp_path: Path):
    ledger = RequestLedger(tmp_path / "commands.sqlite")
    gate = CommandGate(DEVICE, ["ping"], ledger)
    assert gate.check(f"{DEVICE}/cmd/ping", ping("r-2", expires_ts=NOW + 30), NOW).accepted
    assert ledger.seen("r-2", NOW + 29)
    assert not ledger.seen("r-2", NOW + 31)  # it cannot be delivered any more, so it need not be remembered


def test_an_id_without_expiry_is_remembered_for_the_session_lifetime(tmp_path: Path):
    ledger = RequestLedger(tmp_path / "commands.sqlite")
    CommandGate(DEVICE, ["ping"], ledger).check(f"{DEVICE}/cmd/ping", ping("r-3"), NOW)
    assert ledger.seen("r-3", NOW + REMEMBER_WITHOUT_EXPIRY_S - 1)
    assert not ledger.seen("r-3", NOW + REMEMBER_WITHOUT_EXPIRY_S + 1)


def test_the_ledger_keeps_at_most_its_bound_oldest_first_also_on_disk(tmp_path: Path):
    ledger = RequestLedger(tmp_path / "commands.sqlite", max_entries=50)
    for n in range(200):
        ledger.remember(f"id-{n}", NOW + 3600, NOW)
    assert len(ledger) == 50 and ledger.seen("id-199", NOW) and not ledger.seen("id-149", NOW)
    ledger.close()
    reopened = RequestLedger(tmp_path / "commands.sqlite", max_entries=50)
    assert len(reopened) == 50 and reopened.seen("id-150", NOW) and not reopened.seen("id-0", NOW)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes; the unwritable database is simulated below")
def test_an_unopenable_ledger_remembers_in_memory(tmp_path: Path):
    tmp_path.chmod(0o500)
    try:
        ledger = RequestLedger(tmp_path / "commands.sqlite")
        ledger.remember("r", NOW + 10, NOW)
        assert ledger.seen("r", NOW)
    finally:
        tmp_path.chmod(0o700)


def test_a_ledger_that_cannot_be_written_keeps_ids_in_memory_and_never_raises(tmp_path: Path, caplog):
    ledger = RequestLedger(tmp_path / "commands.sqlite")
    ledger._db.execute("PRAGMA query_only = ON")  # every write now fails as on a read-only file system
    ledger.remember("r-full", NOW + 10, NOW)
    ledger.remember("r-full-2", NOW + 10, NOW)
    assert ledger.seen("r-full", NOW) and ledger.write_failures == 2
    assert sum("cannot be written" in r.message for r in caplog.records) == 1
