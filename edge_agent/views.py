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
        *_unavailable_lines(status),
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


def _unavailable_lines(answer: dict[str, Any]) -> list[str]:
    """Collectors the premises cannot run (Wi-Fi on a wired-only gateway), said once, not as failures."""
    return [f"collector {name} off: {reason}" for name, reason in answer.get("unavailable", {}).items()]


def render_diagnosis(report: dict[str, Any]) -> str:
    findings = report["findings"]
    parts = [f"{len(report['samples'])} samples taken now ({report.get('source', 'agent')})"]
    for name, error in report["collector_failures"].items():
        parts.append(f"collector {name} FAILED: {error}")
    parts += _unavailable_lines(report)
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


def render_actions(answer: dict[str, Any]) -> str:
    """The audit log, the cases in progress and the KPIs, for `edge-agent actions`."""
    entries = answer["entries"]
    parts = []
    if entries:
        parts.append(table(
            ["TIME", "OUTCOME", "ACTION", "ISSUE", "SUBJECT", "BY", "REASON"],
            [[clock_time(e["ts"]), e["outcome"], e["name"] + (f":{e['target']}" if e.get("target") else ""),
              e.get("issue_type") or "-", e.get("subject") or "-", e["origin"], e["reason"]] for e in entries],
        ))
    else:
        parts.append("no actions recorded")
    if answer["cases"]:
        parts.append("\nin progress:")
        parts.append(table(["ISSUE", "STATE", "NEXT ACTION", "TRIED"], [
            [c["issue_type"] or "manual", c["state"], c["action"], ", ".join(c["tried"]) or "-"]
            for c in answer["cases"]
        ]))
    k = answer["kpis"]
    parts.append(
        f"\nissues detected {k['detected']}, resolved {k['resolved']} ({k['auto_resolved']} by an action, "
        f"{k['resolved_before_outage']} before becoming an outage), escalated {k['escalated']}, "
        f"flaps prevented {k['flaps_prevented']}"
    )
    return "\n".join(parts)


def render_timeline(events: list[dict[str, Any]]) -> str:
    """A scenario's issue and action events, one line each, by time into the run."""
    lines = []
    for e in events:
        if e["topic"] == "event/issue":
            what = f"issue {e['change']:<11} {e['type']} on {e['subject']}"
            why = e["summary"] if e["change"] == "opened" else e["transitions"][-1]["reason"]
        else:
            ref = e["name"] + (f":{e['target']}" if e.get("target") else "")
            what, why = f"action {e['outcome']:<10} {ref}", e["reason"]
        lines.append(f"  {e['t']:7.1f} s  {what}: {why}")
    return "\n".join(lines) or "  (no issues, no actions)"


def render_scenario_reports(reports: list[Any]) -> str:
    rows = [
        [r.name, "PASS" if r.passed else "FAIL",
         ", ".join(f"{t} {s:g} s" for t, s in r.detection_s.items()) or "-",
         sum(1 for s in r.steps if s.endswith(("=attempted", "=completed"))), len(r.false_alarms),
         r.outcome, f"{r.wall_s:.1f} s"]
        for r in reports
    ]
    parts = [table(["SCENARIO", "RESULT", "DETECTED AFTER", "ACTIONS", "FALSE ALARMS", "OUTCOME", "WALL"], rows)]
    for r in reports:
        for failure in r.failures:
            parts.append(f"{r.name}: {failure}")
    passed = sum(r.passed for r in reports)
    parts.append(f"{passed} of {len(reports)} scenarios passed")
    return "\n".join(parts)
