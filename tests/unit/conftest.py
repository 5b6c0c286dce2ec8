"""Fixtures shared by the unit tests: a reporter whose only sink records what it is handed."""

from __future__ import annotations

import pytest

from edge_agent.reporting.envelope import EnvelopeFactory
from edge_agent.reporting.reporter import Reporter

from .support import RecordingSink


@pytest.fixture
def recording_sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def envelopes() -> EnvelopeFactory:
    return EnvelopeFactory("gw-test", "site-test", clock_synced=lambda: True)


@pytest.fixture
def reporter(envelopes: EnvelopeFactory, recording_sink: RecordingSink) -> Reporter:
    return Reporter(envelopes, [recording_sink])
