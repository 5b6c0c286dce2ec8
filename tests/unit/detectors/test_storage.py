"""The agent's own storage: telemetry/agent's storage_failing metric becomes a critical storage_failing finding."""

from __future__ import annotations

from edge_agent.detectors.storage import StorageRules
from edge_agent.guidance import guidance_for
from edge_agent.model import Sample, Severity


def agent_sample(**metrics) -> Sample:
    return Sample("agent", "gw-1", metrics, 1.0, 1.0)


def test_a_state_directory_that_refuses_writes_is_a_critical_finding_on_that_directory():
    [finding] = StorageRules().evaluate(agent_sample(
        storage_failing=1, storage_dir="/var/lib/edge-agent", storage_error="outbox.sqlite: database or disk is full",
        held_events=4, dropped_events=0, journal_lost_lines=2,
    ))
    assert (finding.type, finding.subject, finding.present) == ("storage_failing", "/var/lib/edge-agent", True)
    assert finding.severity is Severity.CRITICAL and "disk is full" in finding.summary
    assert finding.evidence["held_events"] == 4


def test_writable_storage_is_a_finding_that_clears_the_issue():
    [finding] = StorageRules().evaluate(agent_sample(storage_failing=0, storage_dir="/var/lib/edge-agent"))
    assert not finding.present


def test_no_metric_no_finding_and_other_streams_are_ignored():
    assert StorageRules().evaluate(agent_sample(open_issues=0)) == []
    assert StorageRules().evaluate(Sample("system", "gw-1", {"storage_failing": 1}, 1.0, 1.0)) == []


def test_the_guidance_names_the_directory_the_error_and_what_waits_in_memory():
    text = guidance_for("storage_failing", "/var/lib/edge-agent",
                        {"storage_error": "outbox.sqlite: database or disk is full", "held_events": 4,
                         "dropped_events": 0})
    assert "/var/lib/edge-agent" in text and "disk is full" in text and "4 now" in text
