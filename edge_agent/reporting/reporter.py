"""Fans events and telemetry out to sinks (journal, log, MQTT), each message wrapped in the envelope."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from edge_agent.model import Event, EventKind, Sample
from edge_agent.reporting.envelope import SCHEMA_ACTION, SCHEMA_ISSUE, SCHEMA_TELEMETRY, EnvelopeFactory

log = logging.getLogger(__name__)

_EVENT_ROUTES = {EventKind.ISSUE: ("event/issue", SCHEMA_ISSUE), EventKind.ACTION: ("event/action", SCHEMA_ACTION)}


class Sink(Protocol):
    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        """`topic` is relative to the device's subtree; durable messages must never be lost."""
        ...

    def close(self) -> None: ...


class Reporter:
    def __init__(self, envelopes: EnvelopeFactory, sinks: list[Sink]):
        self.envelopes = envelopes
        self.sinks = list(sinks)
        self.published_events = 0
        self.published_samples = 0

    def event(self, event: Event) -> None:
        topic, schema = _EVENT_ROUTES[event.kind]
        message = self.envelopes.wrap(schema, {"change": event.change, **event.body}, event.ts, event.mono)
        self._fan_out(topic, message, durable=True)
        self.published_events += 1

    def telemetry(self, sample: Sample) -> None:
        stream = sample.stream.split(".")[0]
        body = {"stream": sample.stream, "subject": sample.subject, "metrics": dict(sample.metrics)}
        message = self.envelopes.wrap(SCHEMA_TELEMETRY, body, sample.ts, sample.mono)
        self._fan_out(f"telemetry/{stream}", message, durable=False)
        self.published_samples += 1

    def _fan_out(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        for sink in self.sinks:
            try:
                sink.publish(topic, message, durable)
            except OSError as exc:
                # One broken sink (full disk, dead socket) must not silence the others.
                log.error("reporting sink %s failed on %s: %s", type(sink).__name__, topic, exc)

    def close(self) -> None:
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

