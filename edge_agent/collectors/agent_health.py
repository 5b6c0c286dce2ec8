"""The agent's own health as telemetry: what it has queued, dropped and delivered, and what keeps failing.

This is how the cloud learns that telemetry was dropped to keep the outbox within its budget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from edge_agent.model import MetricValue, Sample


class AgentHealthCollector:
    name = "agent"

    def __init__(self, interval_s: float, device_id: str, read_stats: Callable[[], Mapping[str, MetricValue]]):
        self.interval_s = interval_s
        self.device_id = device_id
        self._read_stats = read_stats

    def collect(self, mono: float, ts: float) -> list[Sample]:
        return [Sample("agent", self.device_id, dict(self._read_stats()), mono, ts)]
