"""Human-readable views of the agent's status and issues, for the technician CLI."""

from __future__ import annotations

import textwrap
from typing import Any

from edge_agent.output import clock_time, duration, table


def render_status(status: dict[str, Any]) -> str:
    counters = status["issue_counters"]
    lines = [
        f"edge-agent {status['agent_version']} on {status['device_id']} (site {status['site_id']}), "
        f"{status['premises']} premises, up {duration(status['uptime_s'])}",
        f"open issues: {status['open_issues']}   detected {counters['detected']}, resolved {counters['resolved']}, "
        f"flaps prevented {counters['flaps_prevented']}",
        f"config: {status['config_path'] or 'built-in defaults'} (reloads {status['reloads']}, "
        f"failed reloads {status['reload_failures']})",
        _mqtt_line(status.get("reporting", {}).get("mqtt")),
        "",
        table(
            ["COLLECTOR", "EVERY", "RUNS", "FAILURES", "LAST RUN", "LAST ERROR"],
            [
                [c["name"], duration(c["interval_s"]), c["runs"], c["failures"],
                 None if c["last_run_age_s"] is None else f"{duration(c['last_run_age_s'])} ago", c["last_error"]]
                for c in status["collectors"]
            ],
        ),
        "",
        table(
            ["DETECTOR", "RUNS", "FAILURES", "LAST ERROR"],
            [[d["name"], d["runs"], d["failures"], d["last_error"]] for d in status["detectors"]],
        ),
        "",
        table(["STREAM", "SUBJECT", "METRICS"], [
            [s["stream"], s["subject"], _metrics_summary(s["metrics"])] for s in status["latest"]
        ]),
    ]
    if status.get("models"):
        lines += ["", render_models(status["models"])]
    return "\n".join(lines)


def render_models(models: list[dict[str, Any]]) -> str:
    """On-device models: loaded, or disabled with the reason."""
    return table(["MODEL", "KIND", "VERSION", "RUNTIME", "STATE"], [
        [m["name"], m["kind"], m["version"], m["runtime"], "loaded" if m["loaded"] else f"DISABLED: {m['error']}"]
        for m in models
    ])


def _mqtt_line(mqtt: dict[str, Any] | None) -> str:
    if mqtt is None:
        return "mqtt: off (events go to the local journal only)"
    state = "connected to" if mqtt["connected"] else "NOT connected to"
    box = mqtt["outbox"]
    return (
        f"mqtt: {state} {mqtt['broker']}, {mqtt['published']} delivered; outbox {box['queued_events']} events, "
        f"{box['queued_telemetry']} telemetry waiting, {box['dropped_telemetry']} telemetry dropped"
    )


def _metrics_summary(metrics: dict[str, Any], limit: int = 6) -> str:
    shown = [f"{k}={v}" for k, v in metrics.items() if v is not None][:limit]
    return " ".join(shown)


def render_issues(issues: list[dict[str, Any]]) -> str:
    if not issues:
        return "no issues"
    rows = [
        [i["state"], i["severity"], i["type"], i["subject"], clock_time(i["opened_ts"]),
         clock_time(i["resolved_ts"]), i["summary"]]
        for i in issues
    ]
    parts = [table(["STATE", "SEVERITY", "TYPE", "SUBJECT", "OPENED", "RESOLVED", "SUMMARY"], rows)]
    active = [i for i in issues if i["state"] != "resolved"]
    for issue in active:
        wrapped = textwrap.fill(issue["guidance"], width=100, initial_indent="  ", subsequent_indent="  ")
        parts.append(f"\nWhat to do about {issue['type']} on {issue['subject']}:\n{wrapped}")
    return "\n".join(parts)


def render_diagnosis(report: dict[str, Any]) -> str:
    findings = report["findings"]
    parts = [f"{len(report['samples'])} samples taken now ({report.get('source', 'agent')})"]
    for name, error in report["collector_failures"].items():
        parts.append(f"collector {name} FAILED: {error}")
    if findings:
        parts.append(table(
            ["SEVERITY", "TYPE", "SUBJECT", "WHAT"],
            [[f["severity"], f["type"], f["subject"], f["summary"]] for f in findings],
        ))
        for f in findings:
            if f.get("guidance"):
                wrapped = textwrap.fill(f["guidance"], width=100, initial_indent="  ", subsequent_indent="  ")
                parts.append(f"\nWhat to do about {f['type']} on {f['subject']}:\n{wrapped}")
    else:
        parts.append("healthy: nothing wrong in these samples")
    if report["open_issues"]:
        parts.append("")
        parts.append(render_issues(report["open_issues"]))
    return "\n".join(parts)
