"""Fans events and telemetry out to sinks (journal, log, MQTT), each message wrapped in the envelope.

Events go out at once, always. Telemetry goes out per sample (contract v1), or, given report windows (contract
v2, telemetry_window.py), as one message per stream family and window when the window closes: a window is
closed by the first sample, event or tick after its end, and at shutdown.

Write order, for crash consistency: the outbox is the commit point and is written first; the journal, the audit
log, the KPIs and the log follow. A SIGKILL between the two leaves an event that will reach the broker but is
missing from the local journal (the journal is the technician's view, not a source of truth); the opposite
order lost journaled events for good (measured: 2 of 15 kills). So an event that exists anywhere on disk is in
the outbox, or already acknowledged by the broker. While the disk refuses the outbox, an event is held in
memory: its local copies on disk (journal, audit) wait until the outbox has written it or the broker has
acknowledged it, so the rule holds then too; memory-only sinks (KPIs, the log) are told at once. This keeps
start-up simple: there is nothing to reconcile.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Protocol

from edge_agent.model import Event, EventKind, MetricValue, Sample
from edge_agent.reporting.envelope import (
    SCHEMA_ACTION,
    SCHEMA_ISSUE,
    SCHEMA_TELEMETRY,
    SCHEMA_TELEMETRY_V2,
    EnvelopeFactory,
)
from edge_agent.reporting.storage_health import storage_metrics
from edge_agent.reporting.telemetry_window import TelemetryWindows

log = logging.getLogger(__name__)

_EVENT_ROUTES = {EventKind.ISSUE: ("event/issue", SCHEMA_ISSUE), EventKind.ACTION: ("event/action", SCHEMA_ACTION)}


class Sink(Protocol):
    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        """`topic` is relative to the device's subtree; durable messages must never be lost."""
        ...

    def close(self) -> None: ...


class CommitSink(Protocol):
    """The outbox side: where a durable message becomes safe."""

    def commit(self, topic: str, message: dict[str, Any], durable: bool) -> int | None:
        """Store the message; returns a ticket while it is only held in memory, None once it is safe (or dropped)."""
        ...

    def settled(self) -> list[int]:
        """Tickets of held messages that have since become safe."""
        ...

    def close(self) -> None: ...


# What a failing disk or socket raises; anything else is a bug and should be seen.
SINK_ERRORS = (OSError, sqlite3.Error)


class Reporter:
    def __init__(self, envelopes: EnvelopeFactory, sinks: list[Sink], commit: CommitSink | None = None,
                 windows: TelemetryWindows | None = None):
        """`commit` is written first; `sinks` follow (those with `keeps_on_disk` only once the message is safe).
        `windows`: report telemetry in windows (contract v2); None: one message per sample (v1)."""
        self.envelopes = envelopes
        self.sinks = list(sinks)
        self.commit = commit
        self.windows = windows
        self.published_events = 0
        self.published_samples = 0
        self.published_reports = 0
        self._latest: tuple[float, float] | None = None  # (mono, ts) of the newest sample or event seen
        self.sink_failures = 0
        self._waiting: dict[int, tuple[str, dict[str, Any]]] = {}  # ticket -> message for the on-disk sinks

    def event(self, event: Event) -> None:
        topic, schema = _EVENT_ROUTES[event.kind]
        message = self.envelopes.wrap(schema, {"change": event.change, **event.body}, event.ts, event.mono)
        self._fan_out(topic, message, durable=True)
        self.published_events += 1
        self.tick(event.mono, event.ts)  # after the event: it never waits for telemetry

    def telemetry(self, sample: Sample) -> None:
        if self.windows is not None:
            self.tick(sample.mono, sample.ts)  # closes the window before this sample, which opens the next one
            self.windows.add(sample)
            self.published_samples += 1
            return
        stream = sample.stream.split(".")[0]
        body = {"stream": sample.stream, "subject": sample.subject, "metrics": dict(sample.metrics)}
        message = self.envelopes.wrap(SCHEMA_TELEMETRY, body, sample.ts, sample.mono)
        self._fan_out(f"telemetry/{stream}", message, durable=False)
        self.published_samples += 1

    def tick(self, mono: float, ts: float) -> None:
        """Send the report windows that have ended by `mono` (the agent's clock; `ts` its wall clock)."""
        if self._latest is None or mono >= self._latest[0]:
            self._latest = (mono, ts)
        if self.windows is not None:
            for body in self.windows.due(mono):
                self._send_report(body, mono, ts)

    def _send_report(self, body: dict[str, Any], mono: float, ts: float) -> None:
        message = self.envelopes.wrap(SCHEMA_TELEMETRY_V2, body, ts, mono)
        self._fan_out(f"telemetry/{body['stream']}", message, durable=False)
        self.published_reports += 1

    def _fan_out(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        self.release_settled()
        ticket = self._commit(topic, message, durable)
        for sink in self.sinks:
            if ticket is not None and getattr(sink, "keeps_on_disk", False):
                continue
            self._publish(sink, topic, message, durable)
        if ticket is not None:
            self._waiting[ticket] = (topic, message)

    def _commit(self, topic: str, message: dict[str, Any], durable: bool) -> int | None:
        if self.commit is None:
            return None
        try:
            return self.commit.commit(topic, message, durable)
        except SINK_ERRORS as exc:
            self.sink_failures += 1
            log.error("reporting commit to %s failed on %s: %s", type(self.commit).__name__, topic, exc)
            return None

    def _publish(self, sink: Sink, topic: str, message: dict[str, Any], durable: bool) -> None:
        try:
            sink.publish(topic, message, durable)
        except SINK_ERRORS as exc:
            # One broken sink (full disk, dead socket) must not silence the others.
            self.sink_failures += 1
            log.error("reporting sink %s failed on %s: %s", type(sink).__name__, topic, exc)

    def release_settled(self) -> None:
        """Write the on-disk copies of held events that are now safe in the outbox or at the broker."""
        if self.commit is None:
            return
        for ticket in self.commit.settled():
            waiting = self._waiting.pop(ticket, None)
            if waiting is None:
                continue
            for sink in self.sinks:
                if getattr(sink, "keeps_on_disk", False):
                    self._publish(sink, waiting[0], waiting[1], True)

    def storage_health(self) -> dict[str, MetricValue]:
        """Metrics of the files behind the outbox and the journals (see storage_health.py)."""
        stores = [s for s in self.sinks if getattr(s, "keeps_on_disk", False)]
        outbox = getattr(self.commit, "outbox", None)
        return storage_metrics(([outbox] if outbox is not None else []) + stores)

    def close(self) -> None:
        if self.windows is not None and self._latest is not None:
            for body in self.windows.close_all(self._latest[0]):  # the last partial windows go out too
                self._send_report(body, *self._latest)
        if self.commit is not None:
            self.commit.close()  # drains what it can to the broker first
            self.release_settled()
        for sink in self.sinks:
            sink.close()


class LogSink:
    """Issue and action events as readable log lines: what the demo shows as issues are detected."""

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        if topic == "event/issue":
            log.warning(
                "ISSUE %s: %s on %s [%s] %s",
                message["change"].upper(),
                message["type"],
                message["subject"],
                message["severity"],
                message["summary"] if message["change"] == "opened" else message["transitions"][-1]["reason"],
            )
        elif topic == "event/action":
            log.warning("ACTION %s for issue %s: %s", message["name"], message["issue_id"], message["outcome"])

    def close(self) -> None:
        pass

