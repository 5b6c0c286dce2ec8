"""`edge-agent fleet report`: what preemptive care did for a fleet over a time window, from the events a fleet
watch recorded (`edge-agent fleet watch --json > events.jsonl`). Pure: events in, KPIs out.

- detected: issues opened in the window;
- auto_resolved: issues an agent's action fixed (verified against the issue's own evidence);
- resolved_before_impact: issues that closed while still a degradation, never critical;
- escalated: issues handed to a person (each one a possible truck roll);
- detection delay: opened_ts − first_bad_ts (how long the agent's hysteresis took to be sure);
- time to fix: the agent's own measure on each fixed action; time to resolve: opened → resolved, any cause.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from edge_agent.untrusted_json import FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH, loads_untrusted


class ReportInputError(Exception):
    pass


@dataclass
class IssueRecord:
    device_id: str
    issue_id: str
    type: str
    opened_ts: float
    first_bad_ts: float | None
    worst: str = "info"
    resolved_ts: float | None = None
    escalated: bool = False
    fixed_by: str | None = None
    time_to_fix_s: float | None = None


@dataclass
class FleetReport:
    since: float | None
    until: float | None
    devices: int = 0
    issues: list[IssueRecord] = field(default_factory=list)

    def kpis(self) -> dict[str, Any]:
        issues = self.issues
        resolved = [i for i in issues if i.resolved_ts is not None]
        delays = [i.opened_ts - i.first_bad_ts for i in issues if i.first_bad_ts is not None]
        fixes = [i.time_to_fix_s for i in issues if i.time_to_fix_s is not None]
        repeats = Counter((i.device_id, i.type) for i in issues)
        by_type = Counter(i.type for i in issues)
        return {
            "window": {"since": self.since, "until": self.until},
            "devices": self.devices,
            "detected": len(issues),
            "auto_resolved": sum(1 for i in issues if i.fixed_by),
            "resolved": len(resolved),
            "resolved_before_impact": sum(1 for i in resolved if i.worst != "critical"),
            "escalated": sum(1 for i in issues if i.escalated),
            "median_detection_delay_s": _median(delays),
            "median_time_to_fix_s": _median(fixes),
            "median_time_to_resolve_s": _median([i.resolved_ts - i.opened_ts for i in resolved]),
            "top_issue_types": by_type.most_common(10),
            "fixed_by_action": dict(Counter(i.fixed_by for i in issues if i.fixed_by).most_common()),
            "devices_with_repeated_issues": sorted(
                [{"device_id": d, "type": t, "count": n} for (d, t), n in repeats.items() if n > 1],
                key=lambda r: (-r["count"], r["device_id"], r["type"])),
            "by_type": {t: _type_breakdown([i for i in issues if i.type == t]) for t in sorted(by_type)},
        }


def _type_breakdown(issues: list[IssueRecord]) -> dict[str, int]:
    return {"detected": len(issues), "auto_resolved": sum(1 for i in issues if i.fixed_by),
            "escalated": sum(1 for i in issues if i.escalated),
            "resolved_otherwise": sum(1 for i in issues if i.resolved_ts is not None and not i.fixed_by)}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def build_report(events: Iterable[dict[str, Any]], since: float | None = None,
                 until: float | None = None) -> FleetReport:
    """Issues opened within [since, until) and everything that happened to them (later events count too)."""
    records: dict[tuple[str, str], IssueRecord] = {}  # by (device, issue id): ids are only unique per device
    devices: set[str] = set()
    for event in events:
        message, topic = event["message"], event["topic"]
        devices.add(event["device_id"])
        if topic == "event/issue":
            _apply_issue(records, event["device_id"], message, since, until)
        elif topic == "event/action" and (event["device_id"], message.get("issue_id")) in records:
            record = records[(event["device_id"], message["issue_id"])]
            if message["outcome"] == "fixed":
                record.fixed_by = message["name"] + (f":{message['target']}" if message.get("target") else "")
                record.time_to_fix_s = message["details"].get("time_to_fix_s")
    return FleetReport(since, until, len(devices), sorted(records.values(), key=lambda r: r.opened_ts))


def _apply_issue(records: dict[tuple[str, str], IssueRecord], device_id: str, m: dict[str, Any],
                 since: float | None, until: float | None) -> None:
    record = records.get((device_id, m["issue_id"]))
    if record is None:
        inside = (since is None or m["opened_ts"] >= since) and (until is None or m["opened_ts"] < until)
        if not inside:
            return
        record = records[(device_id, m["issue_id"])] = IssueRecord(device_id, m["issue_id"], m["type"], m["opened_ts"],
                                                      m.get("first_bad_ts"))
    if SEVERITY_RANK[m["severity"]] > SEVERITY_RANK[record.worst]:
        record.worst = m["severity"]
    if m["change"] == "escalated":
        record.escalated = True
    if m["change"] == "resolved":
        record.resolved_ts = m["resolved_ts"]


def read_events(stream: TextIO, source: str) -> list[dict[str, Any]]:
    """JSON lines as `fleet watch --json` writes them; a bad line is an error naming the line."""
    events = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            event = loads_untrusted(line.encode("utf-8", "surrogateescape"), FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH)
        except ValueError as exc:
            raise ReportInputError(f"{source}:{number}: not JSON ({exc})") from None
        if not isinstance(event, dict) or not {"message", "topic", "device_id"} <= event.keys():
            raise ReportInputError(f"{source}:{number}: not a fleet watch event (needs message, topic, device_id)")
        events.append(event)
    return events


def render_report(kpis: dict[str, Any]) -> str:
    from edge_agent.output import table

    def s(value: float | None) -> str:
        return "-" if value is None else f"{value:g} s"

    lines = [
        f"{kpis['devices']} devices, {kpis['detected']} issues detected",
        f"  auto-resolved by the agents   {kpis['auto_resolved']}",
        f"  resolved before impact        {kpis['resolved_before_impact']} (closed while still a degradation)",
        f"  escalated to a person         {kpis['escalated']} (possible truck rolls)",
        f"  median detection delay        {s(kpis['median_detection_delay_s'])}",
        f"  median time to fix            {s(kpis['median_time_to_fix_s'])} (by an action)",
        f"  median time to resolve        {s(kpis['median_time_to_resolve_s'])} (any cause)",
        "",
        table(["ISSUE TYPE", "DETECTED", "AUTO-RESOLVED", "ESCALATED", "RESOLVED OTHERWISE"],
              [[t, b["detected"], b["auto_resolved"], b["escalated"], b["resolved_otherwise"]]
               for t, b in sorted(kpis["by_type"].items(), key=lambda kv: -kv[1]["detected"])]),
    ]
    if kpis["devices_with_repeated_issues"]:
        lines += ["", "devices with repeated issues:",
                  table(["DEVICE", "ISSUE TYPE", "TIMES"],
                        [[r["device_id"], r["type"], r["count"]] for r in kpis["devices_with_repeated_issues"]])]
    return "\n".join(lines)


def write_chart(kpis: dict[str, Any], path: str) -> None:
    """Issues per type: auto-resolved, resolved otherwise, escalated — as PNG or SVG by the file's suffix."""
    try:
        import matplotlib
    except ImportError:
        raise ReportInputError("--chart needs matplotlib: pip install 'edge-agent[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_type = sorted(kpis["by_type"].items(), key=lambda kv: kv[1]["detected"])
    names = [t for t, _ in by_type]
    parts = [("auto_resolved", "fixed by the agent", "#2e7d32"), ("resolved_otherwise", "resolved otherwise",
             "#90a4ae"), ("escalated", "escalated to a person", "#c62828")]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.8))
    left = [0] * len(names)
    for key, label, colour in parts:
        values = [b[key] for _, b in by_type]
        ax.barh(names, values, left=left, label=label, color=colour)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("issues")
    ax.set_title(f"{kpis['detected']} issues on {kpis['devices']} gateways: {kpis['auto_resolved']} fixed by the "
                 f"agents, {kpis['escalated']} escalated")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def merge_streams(streams: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several watchers' recordings (shared subscriptions split the fleet) as one, each message once, in order."""
    seen: dict[str, dict[str, Any]] = {}
    for events in streams:
        for event in events:
            seen.setdefault(event["message"]["id"], event)
    return sorted(seen.values(), key=lambda e: (e["message"]["ts"], e["message"]["seq"]))
