"""Storage health metrics: failing while the outbox or a journal refuses writes, with what was refused."""

from __future__ import annotations

from pathlib import Path

from edge_agent.reporting.journal import EventJournal
from edge_agent.reporting.reporter import LogSink, Reporter
from edge_agent.reporting.storage_health import storage_metrics


def test_a_journal_that_refuses_writes_makes_storage_failing_with_its_error(tmp_path: Path):
    blocked = tmp_path / "events.jsonl"
    blocked.mkdir()
    journal = EventJournal(blocked, max_bytes=10_000)
    journal.publish("event/issue", {"id": "x"}, durable=True)
    metrics = storage_metrics([journal])
    assert metrics["storage_failing"] == 1 and "events.jsonl" in str(metrics["storage_error"])
    assert metrics["storage_dir"] == str(tmp_path) and metrics["journal_lost_lines"] == 1


def test_healthy_journals_report_storage_not_failing_through_the_reporter(tmp_path: Path, envelopes):
    journals = [EventJournal(tmp_path / "events.jsonl", 10_000), EventJournal(tmp_path / "actions.jsonl", 10_000)]
    metrics = Reporter(envelopes, [*journals, LogSink()]).storage_health()
    assert metrics["storage_failing"] == 0 and metrics["storage_error"] == ""
