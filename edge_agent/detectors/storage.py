"""The agent's own storage: an issue while its state directory refuses writes (full, read-only, failing card)."""

from __future__ import annotations

from edge_agent.model import Finding, Sample, Severity

STORAGE_EVIDENCE = ("storage_error", "held_events", "dropped_events", "journal_lost_lines")


class StorageRules:
    """Reads telemetry/agent (see reporting/storage_health.py); no metric, no finding (unknown is not healthy)."""

    name = "rules.storage"

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != "agent" or sample.metrics.get("storage_failing") is None:
            return []
        present = bool(sample.metrics["storage_failing"])
        subject = str(sample.metrics.get("storage_dir") or sample.subject)
        summary = f"the agent cannot write to {subject}: {sample.metrics.get('storage_error')}" if present else ""
        evidence = {key: sample.metrics.get(key) for key in STORAGE_EVIDENCE}
        return [Finding("storage_failing", subject, present, Severity.CRITICAL, self.name, summary, evidence)]
