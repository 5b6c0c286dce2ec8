"""Fixtures shared by the unit tests: a sink that records what the reporter hands it."""

from __future__ import annotations

from typing import Any

import pytest

from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.reporter import Reporter


class RecordingSink:
    """A reporting sink that keeps every (topic, message, durable) it is given."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any], bool]] = []
        self.closed = False

    def publish(self, topic: str, message: dict[str, Any], durable: bool) -> None:
        self.published.append((topic, message, durable))

    def topics(self) -> list[str]:
        return [topic for topic, _, _ in self.published]

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def recording_sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def envelopes() -> EnvelopeFactory:
    return EnvelopeFactory("gw-test", "site-test", clock_synced=lambda: True)


@pytest.fixture
def reporter(envelopes: EnvelopeFactory, recording_sink: RecordingSink) -> Reporter:
    return Reporter(envelopes, [recording_sink])
