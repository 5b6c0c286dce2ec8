"""The local event journal: durable messages only, one JSON line each, one rotated generation kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge_agent.reporting.journal import EventJournal


def message(n: int) -> dict:
    return {"seq": n, "change": "opened", "type": "wifi_interference"}


def line_bytes(n: int) -> int:
    return len(json.dumps({"topic": "event/issue", **message(n)}, separators=(",", ":"))) + 1


def seqs_in(path: Path) -> list[int]:
    return [json.loads(line)["seq"] for line in path.read_text().splitlines()]


def test_durable_message_is_appended_as_one_json_line_with_its_topic(tmp_path):
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    journal.publish("event/issue", message(1), durable=True)
    [line] = (tmp_path / "events.jsonl").read_text().splitlines()
    assert json.loads(line) == {"topic": "event/issue", **message(1)}


def test_telemetry_that_need_not_be_durable_is_not_journaled(tmp_path):
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    journal.publish("telemetry/wifi", {"seq": 1}, durable=False)
    assert journal.read() == []


def test_journal_directory_is_created(tmp_path):
    EventJournal(tmp_path / "state" / "edge-agent" / "events.jsonl", max_bytes=10_000)
    assert (tmp_path / "state" / "edge-agent").is_dir()


def test_read_returns_entries_oldest_first(tmp_path):
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    for n in range(1, 6):
        journal.publish("event/issue", message(n), durable=True)
    assert [e["seq"] for e in journal.read()] == [1, 2, 3, 4, 5]


def test_journal_rotates_before_it_would_grow_past_max_bytes(tmp_path):
    path = tmp_path / "events.jsonl"
    journal = EventJournal(path, max_bytes=3 * line_bytes(1))
    for n in range(1, 5):
        journal.publish("event/issue", message(n), durable=True)
    assert seqs_in(path.with_name("events.jsonl.1")) == [1, 2, 3]
    assert seqs_in(path) == [4]


def test_rotation_keeps_only_one_older_generation(tmp_path):
    path = tmp_path / "events.jsonl"
    journal = EventJournal(path, max_bytes=3 * line_bytes(1))
    for n in range(1, 11):
        journal.publish("event/issue", message(n), durable=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "events.jsonl.1"]


def test_read_after_rotations_returns_the_newest_entries_in_order(tmp_path):
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=3 * line_bytes(1))
    for n in range(1, 11):
        journal.publish("event/issue", message(n), durable=True)
    assert [e["seq"] for e in journal.read()] == [7, 8, 9, 10]


def test_no_journal_file_grows_past_max_bytes(tmp_path):
    max_bytes = 5 * line_bytes(1)
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=max_bytes)
    for n in range(1, 40):
        journal.publish("event/issue", message(n), durable=True)
    assert max(p.stat().st_size for p in tmp_path.iterdir()) <= max_bytes


def test_a_reopened_journal_reads_what_an_earlier_run_wrote(tmp_path):
    path = tmp_path / "events.jsonl"
    EventJournal(path, max_bytes=10_000).publish("event/issue", message(1), durable=True)
    later = EventJournal(path, max_bytes=10_000)
    later.publish("event/issue", message(2), durable=True)
    assert [e["seq"] for e in later.read()] == [1, 2]


def test_a_first_message_larger_than_the_budget_is_still_written(tmp_path):
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    journal.publish("event/issue", {"id": "big", "evidence": "x" * 20_000}, durable=True)
    assert [entry["id"] for entry in journal.read()] == ["big"]


def test_a_journal_the_disk_refuses_loses_the_line_not_the_caller(tmp_path, caplog):
    path = tmp_path / "events.jsonl"
    path.mkdir()  # opening it for append fails, as a read-only or failing disk does
    journal = EventJournal(path, max_bytes=10_000)
    journal.publish("event/issue", message(1), durable=True)
    journal.publish("event/issue", message(2), durable=True)
    assert journal.lost_lines == 2 and journal.failing is not None
    assert caplog.text.count("cannot be written") == 1  # once per outage, not once per line

    path.rmdir()
    journal.publish("event/issue", message(3), durable=True)
    assert journal.failing is None and seqs_in(path) == [3]
    assert "writable again" in caplog.text


def test_a_torn_last_line_is_skipped_and_the_rest_read(tmp_path):
    path = tmp_path / "events.jsonl"
    journal = EventJournal(path, max_bytes=10_000)
    journal.publish("event/issue", message(1), durable=True)
    with path.open("a") as f:
        f.write('{"topic":"event/issue","seq":2,"ch')  # a kill in the middle of a write
    assert [e["seq"] for e in journal.read()] == [1]


def test_a_failing_journal_notices_space_coming_back_without_an_event_to_write(tmp_path, monkeypatch):
    import edge_agent.reporting.journal as journal_module

    clock = [100.0]
    monkeypatch.setattr(journal_module.time, "monotonic", lambda: clock[0])
    writable = [False]
    monkeypatch.setattr(journal_module, "_writable", lambda scratch: writable[0])
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    journal._failed(OSError(28, "No space left on device"))
    assert journal.failing is not None
    writable[0] = True  # space returns, no event comes
    assert journal.failing is not None  # tried again only every RECOVERY_PROBE_S
    clock[0] += journal_module.RECOVERY_PROBE_S
    assert journal.failing is None and journal.lost_lines == 1


def test_the_recovery_probe_writes_and_removes_a_scratch_file(tmp_path):
    from edge_agent.reporting.journal import _writable

    assert _writable(tmp_path / "events.jsonl.probe") is True
    assert list(tmp_path.iterdir()) == []
    assert _writable(tmp_path / "missing-dir" / "x.probe") is False


@pytest.mark.timeout(10)
def test_a_fifo_in_the_journals_place_costs_the_line_not_the_agents_loop(tmp_path):
    os.mkfifo(tmp_path / "events.jsonl")
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    journal.publish("event/issue", message(1), durable=True)
    assert journal.lost_lines == 1
    assert "not a regular file (a FIFO)" in journal.failing


@pytest.mark.timeout(10)
def test_a_journal_symlinked_to_a_device_is_failing_not_silently_swallowing_lines(tmp_path):
    (tmp_path / "events.jsonl").symlink_to("/dev/null")
    journal = EventJournal(tmp_path / "events.jsonl", max_bytes=10_000)
    journal.publish("event/issue", message(1), durable=True)
    assert journal.lost_lines == 1 and journal.failing == "not a regular file"


@pytest.mark.timeout(10)
def test_reading_a_journal_that_is_a_fifo_is_an_error_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "events.jsonl")
    with pytest.raises(OSError, match="journal .*events.jsonl: not a regular file"):
        EventJournal(tmp_path / "events.jsonl", max_bytes=10_000).read()
