"""Collectors: each reads one part of the premises and returns Samples; none knows where they go."""

from __future__ import annotations

from typing import Protocol

from edge_agent.model import Sample


class Collector(Protocol):
    name: str
    interval_s: float

    def collect(self, mono: float, ts: float) -> list[Sample]: ...
