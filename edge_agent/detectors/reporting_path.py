"""The reporting path as a monitored component: an issue while reports do not get through to the broker well.

Reads telemetry/agent (reporting_* metrics from reporting/path_health.py). The issue is journaled like every
other and reaches the fleet when the path works again, with what went wrong while it did not.
"""

from __future__ import annotations

from edge_agent.model import Finding, Sample, Severity

PATH_EVIDENCE = ("reporting_reasons", "reporting_connection_losses", "reporting_stalls", "reporting_written",
                 "reporting_resent", "reporting_offline_s", "reporting_unacknowledged_s", "reporting_broker")


class ReportingPathRules:
    """No reporting_degraded metric (MQTT off), no finding."""

    name = "rules.reporting_path"

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != "agent" or sample.metrics.get("reporting_degraded") is None:
            return []
        present = bool(sample.metrics["reporting_degraded"])
        subject = str(sample.metrics.get("reporting_broker") or "broker")
        reasons = sample.metrics.get("reporting_reasons") or ""
        summary = f"reports to {subject} are not getting through well: {reasons}" if present else ""
        evidence = {key: sample.metrics.get(key) for key in PATH_EVIDENCE}
        return [Finding("reporting_degraded", subject, present, Severity.WARNING, self.name, summary, evidence)]
