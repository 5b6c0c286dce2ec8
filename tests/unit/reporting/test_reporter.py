"""Fan-out of events and telemetry to every sink, each message in its envelope; one broken sink silences none."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from edge_agent.model import Event, EventKind, Sample
from edge_agent.reporting.reporter import LogSink, Reporter

from ..support import RecordingSink

ISSUE_BODY = {
    "issue_id": "a1b2", "type": "wifi_interference", "subject": "wlan0", "severity": "warning", "state": "open",
    "summary": "busy_ratio on wlan0 is 0.8, limit 0.6",
    "transitions": [{"state": "open", "ts": 1_700_000_000.0, "reason": "3 bad samples in a row"}],
}


def issue_event(change: str = "opened", body: dict | None = None) -> Event:
    return Event(EventKind.ISSUE, change, body or ISSUE_BODY, ts=1_700_000_000.0, mono=42.0)


def action_event() -> Event:
    body = {"name": "switch_channel", "issue_id": "a1b2", "outcome": "attempted"}
    return Event(EventKind.ACTION, "attempted", body, ts=1_700_000_000.0, mono=42.0)


class BrokenSink(RecordingSink):
    def publish(self, topic, message, durable):
        raise OSError(28, "No space left on device")


def test_issue_event_goes_durably_to_event_issue_in_an_issue_envelope(reporter, recording_sink):
    reporter.event(issue_event())
    [(topic, message, durable)] = recording_sink.published
    assert (topic, message["schema"], durable) == ("event/issue", "edge.issue/1", True)


def test_issue_event_message_carries_the_change_and_the_issue_record(reporter, recording_sink):
    reporter.event(issue_event("resolved"))
    [(_, message, _)] = recording_sink.published
    assert message["change"] == "resolved"
    assert message["issue_id"] == "a1b2"


def test_action_event_goes_durably_to_event_action_in_an_action_envelope(reporter, recording_sink):
    reporter.event(action_event())
    [(topic, message, durable)] = recording_sink.published
    assert (topic, message["schema"], durable) == ("event/action", "edge.action/1", True)


def test_sample_goes_as_telemetry_on_its_stream_family_and_may_be_dropped(reporter, recording_sink):
    reporter.telemetry(Sample("connectivity.dns", "10.0.0.1", {"ok": True}, 3.0, 1_700_000_003.0))
    [(topic, message, durable)] = recording_sink.published
    assert (topic, message["schema"], durable) == ("telemetry/connectivity", "edge.telemetry/1", False)
    assert (message["stream"], message["subject"], message["metrics"]) == ("connectivity.dns", "10.0.0.1",
                                                                           {"ok": True})


def test_message_times_come_from_the_event_not_from_the_reporter(reporter, recording_sink):
    reporter.event(issue_event())
    [(_, message, _)] = recording_sink.published
    assert (message["ts"], message["mono_ms"]) == (1_700_000_000.0, 42_000)


def test_a_sink_that_raises_oserror_does_not_stop_the_others(envelopes, recording_sink):
    reporter = Reporter(envelopes, [BrokenSink(), recording_sink])
    reporter.event(issue_event())
    reporter.telemetry(Sample("wifi.radio", "wlan0", {"busy_ratio": 0.2}, 1.0, 1.0))
    assert recording_sink.topics() == ["event/issue", "telemetry/wifi"]


def test_a_failing_sink_is_logged_with_its_name_and_the_topic(envelopes, caplog):
    reporter = Reporter(envelopes, [BrokenSink()])
    with caplog.at_level(logging.ERROR, logger="edge_agent.reporting.reporter"):
        reporter.event(issue_event())
    assert "BrokenSink" in caplog.text and "event/issue" in caplog.text


def test_reporter_counts_events_and_samples(reporter):
    reporter.event(issue_event())
    reporter.event(action_event())
    reporter.telemetry(Sample("wifi.radio", "wlan0", {"busy_ratio": 0.2}, 1.0, 1.0))
    assert (reporter.published_events, reporter.published_samples) == (2, 1)


def test_close_closes_every_sink(envelopes):
    sinks = [RecordingSink(), RecordingSink()]
    Reporter(envelopes, sinks).close()
    assert [s.closed for s in sinks] == [True, True]


@pytest.fixture
def log_sink_output(caplog):
    caplog.set_level(logging.WARNING, logger="edge_agent.reporting.reporter")
    return caplog


def test_log_sink_shows_an_opened_issue_with_its_summary(envelopes, log_sink_output):
    Reporter(envelopes, [LogSink()]).event(issue_event("opened"))
    assert "ISSUE OPENED: wifi_interference on wlan0 [warning] busy_ratio on wlan0 is 0.8, limit 0.6" in (
        log_sink_output.text)


def test_log_sink_shows_a_later_change_with_the_reason_of_its_last_transition(envelopes, log_sink_output):
    body = {**ISSUE_BODY, "state": "resolved",
            "transitions": [*ISSUE_BODY["transitions"], {"state": "resolved", "ts": 1.0, "reason": "3 good samples"}]}
    Reporter(envelopes, [LogSink()]).event(issue_event("resolved", body))
    assert "ISSUE RESOLVED: wifi_interference on wlan0 [warning] 3 good samples" in log_sink_output.text


def test_log_sink_leaves_telemetry_out_of_the_log(envelopes, log_sink_output):
    Reporter(envelopes, [LogSink()]).telemetry(Sample("wifi.radio", "wlan0", {"busy_ratio": 0.2}, 1.0, 1.0))
    assert log_sink_output.records == []


class OrderedSink(RecordingSink):
    """Records into a shared list, so the order across sinks shows."""

    def __init__(self, name: str, order: list[str], keeps_on_disk: bool = False):
        super().__init__()
        self.name, self.order, self.keeps_on_disk = name, order, keeps_on_disk

    def publish(self, topic, message, durable):
        self.order.append(self.name)
        super().publish(topic, message, durable)


class HoldingOutbox:
    """A commit sink whose disk refuses writes: every message is held under a ticket until `settle`."""

    def __init__(self, order: list[str]):
        self.order = order
        self.tickets: list[int] = []
        self.ready: list[int] = []
        self.closed = False

    def commit(self, topic, message, durable):
        self.order.append("outbox")
        self.tickets.append(len(self.tickets) + 1)
        return self.tickets[-1]

    def settle(self) -> None:
        self.ready, self.tickets = self.tickets, []

    def settled(self):
        ready, self.ready = self.ready, []
        return ready

    def close(self):
        self.closed = True


class SafeOutbox(HoldingOutbox):
    def commit(self, topic, message, durable):
        self.order.append("outbox")
        return None


def test_the_outbox_is_written_before_the_journal_and_the_other_sinks(envelopes):
    order: list[str] = []
    journal = OrderedSink("journal", order, keeps_on_disk=True)
    reporter = Reporter(envelopes, [journal, OrderedSink("log", order)], commit=SafeOutbox(order))
    reporter.event(issue_event())
    assert order == ["outbox", "journal", "log"]


def test_a_held_event_reaches_the_journal_only_once_it_is_safe(envelopes):
    order: list[str] = []
    journal, log_sink = OrderedSink("journal", order, keeps_on_disk=True), OrderedSink("log", order)
    outbox = HoldingOutbox(order)
    reporter = Reporter(envelopes, [journal, log_sink], commit=outbox)

    reporter.event(issue_event())
    assert journal.published == [] and log_sink.topics() == ["event/issue"]  # memory-only sinks at once
    outbox.settle()
    reporter.telemetry(Sample("wifi.radio", "wlan0", {"busy_ratio": 0.2}, 1.0, 1.0))
    assert journal.topics()[0] == "event/issue"


def test_held_events_still_settled_at_close_reach_the_journal(envelopes):
    order: list[str] = []
    journal = OrderedSink("journal", order, keeps_on_disk=True)
    outbox = HoldingOutbox(order)
    outbox.close = outbox.settle  # closing drains the held event to the broker
    reporter = Reporter(envelopes, [journal], commit=outbox)
    reporter.event(issue_event())
    reporter.close()
    assert journal.topics() == ["event/issue"] and journal.closed


def test_a_sink_that_raises_a_database_error_does_not_stop_the_others(envelopes, recording_sink):
    class FullDatabase(RecordingSink):
        def publish(self, topic, message, durable):
            raise sqlite3.OperationalError("database or disk is full")

    reporter = Reporter(envelopes, [FullDatabase(), recording_sink])
    reporter.event(issue_event())
    assert recording_sink.topics() == ["event/issue"] and reporter.sink_failures == 1
