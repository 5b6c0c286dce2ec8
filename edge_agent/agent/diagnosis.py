"""One diagnosis: every collector now (DHCP included), the detectors' verdicts, and guidance for each problem.

Used by the daemon (cloud `diagnose`, CLI through the control socket) and by `edge-agent diagnose` when no
agent is running.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from edge_agent.collectors import Collector
from edge_agent.guidance import guidance_for
from edge_agent.model import Finding, Sample


def run_diagnosis(
    collectors: Mapping[str, Collector],
    present_findings: Callable[[list[Sample]], list[Finding]],
    mono: float,
    ts: float,
) -> dict[str, Any]:
    samples: list[Sample] = []
    failures: dict[str, str] = {}
    for name, collector in collectors.items():
        try:
            # A one-off round waits for slow connections: it has no next round to report them late.
            samples.extend(getattr(collector, "collect_settled", collector.collect)(mono, ts))
            # DHCP and the path MTU are checked now, not left to the running agent's slower background pace
            # (a DISCOVER or a burst of full-size echoes every round would be noise on the customer's LAN).
            for on_demand in ("collect_dhcp", "collect_pmtu"):
                collect = getattr(collector, on_demand, None)
                if collect is not None:
                    samples.extend(collect(mono, ts))
        except Exception as exc:  # noqa: BLE001 — a diagnosis reports a broken collector instead of failing
            failures[name] = f"{type(exc).__name__}: {exc}"
    findings = present_findings(samples)
    return {
        "samples": [s.to_dict() for s in samples],
        "collector_failures": failures,
        "findings": [
            {
                "type": f.type,
                "subject": f.subject,
                "severity": f.severity.value,
                "summary": f.summary,
                "evidence": dict(f.evidence),
                "detector": f.detector,
                "guidance": guidance_for(f.type, f.subject, f.evidence),
            }
            for f in findings
        ],
    }


def diagnose_without_agent(config: Any, force_simulated: bool) -> dict[str, Any]:
    """The same diagnosis with no daemon: the configured collectors and detectors, built for one round."""
    from edge_agent.backends import premises_mode, select_backends
    from edge_agent.clock import SystemClock
    from edge_agent.collectors.catalog import build_collectors
    from edge_agent.detectors.catalog import default_detectors

    clock = SystemClock()
    backends = select_backends(config, clock, premises_mode(config, force_simulated))
    collectors = {c.name: c for c in build_collectors(config, backends)}
    detectors = default_detectors(config.detectors)

    def evaluate(samples: list[Sample]) -> list[Finding]:
        return [f for sample in samples for d in detectors for f in d.evaluate(sample) if f.present]

    report = run_diagnosis(collectors, evaluate, clock.monotonic(), clock.wall())
    report["open_issues"] = []
    report["source"] = f"standalone, {backends.mode} premises"
    report["unavailable"] = dict(backends.unavailable)
    return report
