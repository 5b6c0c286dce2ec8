"""`edge-agent fleet report`: what preemptive care did for a fleet over a time window, from a fleet store
(`fleet watch --store URL`) or from recordings (`fleet watch --json > events.jsonl`). Pure: issue lives in, KPIs out.

Every issue opened in the window is counted once, in exactly one final category (see `outcomes`): fixed by the
agent, resolved by itself, resolved after a person acted, escalated (still open), still open. Beside them:

- resolved_before_impact: resolved issues that never became a customer impact (defined per type in `outcomes`);
- detection delay: opened_ts − first_bad_ts (how long the agent's hysteresis took to be sure);
- time to fix: the agent's own measure on its verified fix; time to resolve: opened → resolved, any cause.
"""

from __future__ import annotations

import datetime
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import ValidationError

from edge_agent.fleet.outcomes import CATEGORIES, CATEGORY_LABELS, IssueLife, fold_events
from edge_agent.reporting.contract import ActionEvent, IssueEvent
from edge_agent.untrusted_json import FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH, loads_untrusted

BUCKETS_S = (60, 600, 3600, 86400)  # the timeline's step: the smallest that keeps it within MAX_BUCKETS
MAX_BUCKETS = 60
WORST_DEVICES = 10
REPORTED_MODELS = {"event/issue": IssueEvent, "event/action": ActionEvent}


class ReportInputError(Exception):
    pass


@dataclass
class FleetReport:
    since: float | None
    until: float | None
    devices: int = 0
    issues: list[IssueLife] = field(default_factory=list)

    def kpis(self) -> dict[str, Any]:
        issues = self.issues
        outcomes = Counter(i.category for i in issues)
        resolved = [i for i in issues if i.state == "resolved"]
        repeats = Counter((i.device_id, i.type) for i in issues)
        fixed = outcomes["fixed_by_agent"]
        return {
            "window": {"since": self.since, "until": self.until},
            "devices": self.devices,
            "issues": len(issues),
            "outcomes": {c: outcomes[c] for c in CATEGORIES},
            "share_fixed_by_agent": round(fixed / len(resolved), 3) if resolved else None,
            "resolved": len(resolved),
            "resolved_before_impact": sum(1 for i in resolved if i.before_impact),
            "median_detection_delay_s": _median([d for i in issues if (d := i.detection_delay_s) is not None]),
            "median_time_to_fix_s": _median([i.time_to_fix_s for i in issues
                                             if i.category == "fixed_by_agent" and i.time_to_fix_s is not None]),
            "median_time_to_resolve_s": _median([t for i in resolved if (t := i.time_to_resolve_s) is not None]),
            "by_type": {t: _type_breakdown([i for i in issues if i.type == t])
                        for t in sorted({i.type or "?" for i in issues})},
            "fixed_by_action": dict(Counter(i.agent_fixed_by for i in issues
                                            if i.category == "fixed_by_agent").most_common()),
            "worst_devices": worst_devices(issues),
            "devices_with_repeated_issues": sorted(
                [{"device_id": d, "type": t, "count": n} for (d, t), n in repeats.items() if n > 1],
                key=lambda r: (-r["count"], r["device_id"], r["type"])),
            "still_open": [{"device_id": i.device_id, "issue_id": i.issue_id, "type": i.type, "state": i.state,
                            "severity": i.worst_severity, "opened_ts": i.opened_ts}
                           for i in issues if i.category in ("still_open", "escalated")],
            "timeline": timeline(issues),
        }


def _type_breakdown(issues: list[IssueLife]) -> dict[str, int]:
    counts = Counter(i.category for i in issues)
    return {"issues": len(issues), **{c: counts[c] for c in CATEGORIES},
            "before_impact": sum(1 for i in issues if i.before_impact)}


def worst_devices(issues: list[IssueLife], limit: int = WORST_DEVICES) -> list[dict[str, Any]]:
    """The devices with the most issues (then the most still open), each with its outcome counts."""
    per_device: dict[str, list[IssueLife]] = {}
    for issue in issues:
        per_device.setdefault(issue.device_id, []).append(issue)
    rows = []
    for device_id, own in per_device.items():
        counts = Counter(i.category for i in own)
        rows.append({"device_id": device_id, "issues": len(own), "open": counts["still_open"] + counts["escalated"],
                     **{c: counts[c] for c in CATEGORIES},
                     "types": dict(Counter(i.type for i in own).most_common())})
    rows.sort(key=lambda r: (-r["issues"], -r["open"], r["device_id"]))
    return rows[:limit]


def timeline(issues: list[IssueLife]) -> dict[str, Any]:
    """Issues opened, resolved and fixed by the agent per step of time (a minute to a day, by the span)."""
    times = [i.opened_ts for i in issues if i.opened_ts is not None]
    times += [i.resolved_ts for i in issues if i.state == "resolved" and i.resolved_ts is not None]
    if not times:
        return {"bucket_s": None, "buckets": []}
    first, last = min(times), max(times)
    step = next((b for b in BUCKETS_S if (last - first) / b < MAX_BUCKETS), BUCKETS_S[-1])
    origin = first - first % step
    count = int((last - origin) // step) + 1
    buckets = [{"start": origin + n * step, "opened": 0, "resolved": 0, "fixed_by_agent": 0} for n in range(count)]
    for issue in issues:
        if issue.opened_ts is not None:
            buckets[int((issue.opened_ts - origin) // step)]["opened"] += 1
        if issue.state == "resolved" and issue.resolved_ts is not None:
            bucket = buckets[int((issue.resolved_ts - origin) // step)]
            bucket["resolved"] += 1
            bucket["fixed_by_agent"] += issue.category == "fixed_by_agent"
    return {"bucket_s": step, "buckets": buckets}


def plural(count: int, noun: str) -> str:
    """'1 gateway', '3 gateways', '0 issues'."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def in_window(lives: Iterable[IssueLife], since: float | None, until: float | None) -> list[IssueLife]:
    """Issues opened within [since, until), with everything that happened to them after; an issue whose opening
    the fleet never saw (only its actions) has no place in time and is left out."""
    chosen = [i for i in lives if i.opened_ts is not None and (since is None or i.opened_ts >= since)
              and (until is None or i.opened_ts < until)]
    return sorted(chosen, key=lambda i: (i.opened_ts, i.device_id, i.issue_id))


def build_report(events: Iterable[dict[str, Any]], since: float | None = None,
                 until: float | None = None) -> FleetReport:
    """The report over recorded events: issues opened within [since, until) and what happened to them."""
    events = list(events)
    devices = {e["device_id"] for e in events}
    return FleetReport(since, until, len(devices), in_window(fold_events(events).values(), since, until))


def report_from_store(url: str, since: float | None = None, until: float | None = None) -> FleetReport:
    """The report over a fleet store (`fleet watch --store URL`): the same issue lives, kept by the database."""
    from edge_agent.fleet.store import FleetStore

    store = FleetStore(url, must_exist=True)
    try:
        return FleetReport(since, until, len(store.devices()), store.issue_lives(since, until))
    finally:
        store.close()


def read_events(stream: TextIO, source: str) -> list[dict[str, Any]]:
    """JSON lines as `fleet watch --json` writes them; a bad line is an error naming the line."""
    events = []
    # Each line is read bounded: iterating over the stream would first hold a line of any length (a file
    # without a newline, /dev/zero) in memory, and only then learn it was too long.
    for number, line in enumerate(iter(lambda: stream.readline(FLEET_MESSAGE_BYTES + 1), ""), start=1):
        if len(line) > FLEET_MESSAGE_BYTES:
            raise ReportInputError(f"{source}:{number}: a line longer than {FLEET_MESSAGE_BYTES} characters")
        if not line.strip():
            continue
        try:
            event = loads_untrusted(line.encode("utf-8", "surrogateescape"), FLEET_MESSAGE_BYTES, FLEET_MESSAGE_DEPTH)
        except ValueError as exc:
            raise ReportInputError(f"{source}:{number}: not JSON ({exc})") from None
        if isinstance(event, dict) and event.keys() == {"summary"}:
            continue  # the watcher's closing summary line
        if not isinstance(event, dict) or not {"message", "topic", "device_id"} <= event.keys():
            raise ReportInputError(f"{source}:{number}: not a fleet watch event (needs message, topic, device_id)")
        model = REPORTED_MODELS.get(event["topic"])
        if model is not None:  # what the report reads of a line must be a contract message, or a clear error
            try:
                model.model_validate(event["message"])
            except ValidationError as exc:
                raise ReportInputError(f"{source}:{number}: not a valid {event['topic']} message: "
                                       f"{str(exc).splitlines()[0]}") from None
        elif not isinstance(event["message"], dict) or not isinstance(event["message"].get("id"), str):
            raise ReportInputError(f"{source}:{number}: the message has no id")
        events.append(event)
    return events


def render_report(kpis: dict[str, Any]) -> str:
    from edge_agent.output import duration, table

    def s(value: float | None) -> str:
        return "-" if value is None else f"{value:g} s"

    outcomes = kpis["outcomes"]
    share = kpis["share_fixed_by_agent"]
    lines = [f"{plural(kpis['devices'], 'gateway')}, {plural(kpis['issues'], 'issue')} opened in the window; "
             f"each counted once:"]
    rows = [(CATEGORY_LABELS[c], outcomes[c]) for c in CATEGORIES] + [
        ("resolved before customer impact", f"{kpis['resolved_before_impact']} of {kpis['resolved']} resolved "
                                            "(outages such as an unreachable gateway never count)"),
        ("share fixed by the agent", f"{'-' if share is None else f'{share:.0%}'} of the resolved"),
        ("median detection delay", s(kpis["median_detection_delay_s"])),
        ("median time to fix", f"{s(kpis['median_time_to_fix_s'])} (the agent's verified fixes)"),
        ("median time to resolve", f"{s(kpis['median_time_to_resolve_s'])} (any cause)"),
    ]
    lines += [f"  {label:<33}{value}" for label, value in rows]
    lines += [
        "",
        table(["ISSUE TYPE", "ISSUES", *(c.upper().replace("_", " ") for c in CATEGORIES)],
              [[t, b["issues"], *(b[c] for c in CATEGORIES)]
               for t, b in sorted(kpis["by_type"].items(), key=lambda kv: (-kv[1]["issues"], kv[0]))]),
    ]
    if kpis["worst_devices"]:
        lines += ["", "worst devices:",
                  table(["DEVICE", "ISSUES", "OPEN", "TYPES"],
                        [[r["device_id"], r["issues"], r["open"], ", ".join(r["types"])]
                         for r in kpis["worst_devices"]])]
    if kpis["still_open"]:
        until = kpis["window"]["until"]
        lines += ["", "still open:",
                  table(["DEVICE", "ISSUE TYPE", "STATE", "SEVERITY", "OPEN FOR" if until else "OPENED"],
                        [[r["device_id"], r["type"], r["state"], r["severity"],
                          duration(until - r["opened_ts"]) if until else utc_time(r["opened_ts"])]
                         for r in kpis["still_open"]])]
    return "\n".join(lines)


def utc_time(ts: float, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime(fmt)


def write_chart(kpis: dict[str, Any], path: str) -> None:
    """Issues per type by final category (each issue in one), as PNG or SVG by the file's suffix."""
    try:
        import matplotlib
    except ImportError:
        raise ReportInputError("--chart needs matplotlib: install the report extra into the venv edge-agent runs "
                               "from (in a checkout: pip install '.[report]')") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edge_agent.fleet.html_report import CATEGORY_COLOURS

    by_type = sorted(kpis["by_type"].items(), key=lambda kv: kv[1]["issues"])
    names = [t for t, _ in by_type]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.8))
    left = [0] * len(names)
    for category in CATEGORIES:
        values = [b[category] for _, b in by_type]
        ax.barh(names, values, left=left, label=CATEGORY_LABELS[category], color=CATEGORY_COLOURS[category])
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel("issues")
    ax.set_title(f"{plural(kpis['issues'], 'issue')} on {plural(kpis['devices'], 'gateway')}: "
                 f"{kpis['outcomes']['fixed_by_agent']} fixed by the agent, "
                 f"{kpis['outcomes']['escalated']} escalated")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def merge_streams(streams: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several watchers' recordings (shared subscriptions split the fleet) as one, each message once. Their order
    does not matter: an issue's life is folded the same in any order (see `outcomes`)."""
    seen: dict[str, dict[str, Any]] = {}
    for events in streams:
        for event in events:
            seen.setdefault(event["message"]["id"], event)
    return list(seen.values())
