"""What the status views and the command handlers may see of the running agent (implemented by daemon.Agent)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from edge_agent.agent.pipeline import Pipeline
    from edge_agent.agent.schedule import Schedule
    from edge_agent.backends import PremisesBackends
    from edge_agent.clock import Clock
    from edge_agent.collectors import Collector
    from edge_agent.config import AgentConfig
    from edge_agent.detectors.ml_catalog import MlComponents
    from edge_agent.issues import IssueTracker
    from edge_agent.reporting.command_intake import CommandIntake
    from edge_agent.reporting.envelope import EnvelopeFactory
    from edge_agent.reporting.journal import EventJournal
    from edge_agent.reporting.mqtt import OutboxSink
    from edge_agent.reporting.reporter import Reporter


class RunningAgent(Protocol):
    config: AgentConfig
    config_path: Path | None
    clock: Clock
    envelopes: EnvelopeFactory
    backends: PremisesBackends
    started_mono: float
    reloads: int
    reload_failures: int
    tracker: IssueTracker
    schedule: Schedule
    pipeline: Pipeline
    reporter: Reporter
    journal: EventJournal
    mqtt: OutboxSink | None
    intake: CommandIntake | None
    ml: MlComponents
    collectors: Mapping[str, Collector]

    def kpi_snapshot(self) -> dict[str, Any]: ...

    def remediate(self, action: str | None, issue_id: str | None, dry_run: bool, origin: str) -> dict[str, Any]: ...
