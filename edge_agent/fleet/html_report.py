"""`fleet report --html FILE`: the report as one self-contained page a manager opens in any browser, offline.

Inline CSS and inline SVG charts drawn here (no script, no font, no image, nothing fetched: the page's
Content-Security-Policy forbids every fetch). Pure: a FleetReport in, HTML text out.
"""

from __future__ import annotations

from html import escape
from typing import Any

from edge_agent.fleet.outcomes import CATEGORIES, CATEGORY_LABELS
from edge_agent.fleet.report import FleetReport, plural
from edge_agent.fleet.report import utc_time as _utc

CATEGORY_COLOURS = {
    "fixed_by_agent": "#2e7d32",
    "resolved_by_itself": "#90a4ae",
    "resolved_after_person": "#1565c0",
    "escalated": "#c62828",
    "still_open": "#f9a825",
}
OPENED_COLOUR, RESOLVED_COLOUR = "#ef6c00", "#2e7d32"
# Bins for detection and fix times: upper bounds in seconds, the last open-ended.
DURATION_BINS = ((5, "<5 s"), (10, "5–10 s"), (30, "10–30 s"), (60, "30–60 s"), (120, "1–2 min"), (300, "2–5 min"),
                 (600, "5–10 min"), (1800, "10–30 min"), (None, "≥30 min"))
WIDTH = 760
STILL_OPEN_ROWS = 100  # a page a person reads; the JSON report has every one

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#666;margin:0 0 16px}.kpis{display:flex;flex-wrap:wrap;gap:8px}
.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.kpi .value{font-size:24px;font-weight:600;display:block}.kpi .label{color:#555;font-size:12px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 8px;border-bottom:1px solid #eee}
th{font-size:12px;color:#555}td.n{text-align:right}td:first-child{white-space:nowrap}
.legend span{margin-right:14px;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}svg text{font:11px system-ui,sans-serif}
.note{color:#666;font-size:12px}
"""


def write_html(report: FleetReport, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(render_html(report))


def render_html(report: FleetReport) -> str:
    kpis = report.kpis()
    outcomes = kpis["outcomes"]
    sections = [
        _header(kpis),
        _kpi_tiles(kpis),
        "<h2>Issues opened and resolved over time</h2>" + _timeline_chart(kpis["timeline"]),
        "<h2>Share of resolved issues fixed by the agent</h2>" + _share_chart(kpis["timeline"]),
        "<h2>Outcome per issue type</h2>" + _legend() + _outcome_chart(kpis["by_type"]),
        "<h2>How long detection and fixes took</h2>"
        + _histogram("Detection delay (first bad sample → issue opened)",
                     [d for i in report.issues if (d := i.detection_delay_s) is not None], "detection")
        + _histogram("Time to fix (the agent's verified fixes)",
                     [i.time_to_fix_s for i in report.issues
                      if i.category == "fixed_by_agent" and i.time_to_fix_s is not None], "fix"),
        "<h2>Worst devices</h2>" + _worst_devices(kpis["worst_devices"]),
        "<h2>Still open</h2>" + _still_open(kpis["still_open"]),
        '<p class="note">Each issue is counted once, in one final category. Resolved before customer impact: '
        "resolved without ever becoming critical, and not an outage type (an unreachable gateway, an unplugged "
        f"WAN cable, a silent resolver are the impact itself). {outcomes['fixed_by_agent']} of "
        f"{kpis['resolved']} resolved issues were fixed by the agent.</p>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>{escape(_title(kpis))}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def _title(kpis: dict[str, Any]) -> str:
    return f"Fleet report: {plural(kpis['devices'], 'gateway')}, {plural(kpis['issues'], 'issue')}"


def _header(kpis: dict[str, Any]) -> str:
    window = kpis["window"]
    span = (f"issues opened from {_utc(window['since']) if window['since'] else 'the start'} to "
            f"{_utc(window['until']) if window['until'] else 'now'}")
    return f"<h1>{escape(_title(kpis))}</h1><p class=\"sub\">{escape(span)}</p>"


def _kpi_tiles(kpis: dict[str, Any]) -> str:
    share = kpis["share_fixed_by_agent"]
    tiles = [("devices", kpis["devices"], "gateway" if kpis["devices"] == 1 else "gateways"),
             ("issues", kpis["issues"], "issue" if kpis["issues"] == 1 else "issues")]
    tiles += [(c, kpis["outcomes"][c], CATEGORY_LABELS[c]) for c in CATEGORIES]
    tiles += [("resolved_before_impact", kpis["resolved_before_impact"], "resolved before customer impact"),
              ("share_fixed_by_agent", "–" if share is None else f"{share:.0%}", "of resolved fixed by the agent"),
              ("median_detection_delay_s", _seconds(kpis["median_detection_delay_s"]), "median detection delay"),
              ("median_time_to_fix_s", _seconds(kpis["median_time_to_fix_s"]), "median time to fix")]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi" data-kpi="{key}"><span class="value">{escape(str(value))}</span>'
        f'<span class="label">{escape(label)}</span></div>' for key, value, label in tiles) + "</div>"


def _timeline_chart(timeline: dict[str, Any]) -> str:
    buckets = timeline["buckets"]
    if not buckets:
        return '<p class="note">No issues in the window.</p>'
    step = timeline["bucket_s"]
    top = max(max(b["opened"], b["resolved"]) for b in buckets) or 1
    chart = _Frame(len(buckets), top, f"issues per {_step_name(step)}")
    bars = []
    slot = chart.slot
    for n, bucket in enumerate(buckets):
        for k, (key, colour) in enumerate((("opened", OPENED_COLOUR), ("resolved", RESOLVED_COLOUR))):
            value = bucket[key]
            if value:
                x = chart.x(n) + slot * (0.1 + 0.4 * k)
                bars.append(f'<rect class="bar-{key}" x="{x:.1f}" y="{chart.y(value):.1f}" width="{slot * 0.4:.1f}" '
                            f'height="{chart.y(0) - chart.y(value):.1f}" fill="{colour}">'
                            f"<title>{value} {key}, {escape(_utc(bucket['start']))}</title></rect>")
    legend = (f'<div class="legend"><span><i class="swatch" style="background:{OPENED_COLOUR}"></i>opened</span>'
              f'<span><i class="swatch" style="background:{RESOLVED_COLOUR}"></i>resolved</span></div>')
    return legend + chart.svg("timeline", bars + chart.time_axis(buckets, step))


def _share_chart(timeline: dict[str, Any]) -> str:
    buckets = timeline["buckets"]
    points = [(n, b["fixed_by_agent"] / b["resolved"]) for n, b in enumerate(buckets) if b["resolved"]]
    if not points:
        return '<p class="note">Nothing resolved in the window.</p>'
    chart = _Frame(len(buckets), 1.0, "share fixed by the agent", percent=True)
    coords = [(chart.x(n) + chart.slot / 2, chart.y(share)) for n, share in points]
    marks = [f'<polyline fill="none" stroke="{RESOLVED_COLOUR}" stroke-width="2" points="'
             + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>']
    marks += [f'<circle class="share-point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{RESOLVED_COLOUR}">'
              f"<title>{share:.0%}</title></circle>" for (x, y), (_, share) in zip(coords, points, strict=True)]
    return chart.svg("share", marks + chart.time_axis(buckets, timeline["bucket_s"], "one point"))


def _outcome_chart(by_type: dict[str, dict[str, int]]) -> str:
    if not by_type:
        return '<p class="note">No issues in the window.</p>'
    rows = sorted(by_type.items(), key=lambda kv: (-kv[1]["issues"], kv[0]))
    label_w, row_h = 190, 22
    most = max(b["issues"] for _, b in rows)
    scale = (WIDTH - label_w - 50) / most
    parts = []
    for n, (issue_type, counts) in enumerate(rows):
        y = 6 + n * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(issue_type)}</text>')
        x = float(label_w)
        for category in CATEGORIES:
            if counts[category]:
                w = counts[category] * scale
                parts.append(f'<rect class="outcome-{category}" data-type="{escape(issue_type)}" '
                             f'data-count="{counts[category]}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="16" '
                             f'fill="{CATEGORY_COLOURS[category]}"><title>{escape(issue_type)}: {counts[category]} '
                             f"{escape(CATEGORY_LABELS[category])}</title></rect>")
                x += w
        parts.append(f'<text x="{x + 5:.1f}" y="{y + 14}">{counts["issues"]}</text>')
    height = 12 + len(rows) * row_h
    return (f'<svg id="outcomes" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img">' + "".join(parts) + "</svg>")


def _legend() -> str:
    return '<div class="legend">' + "".join(
        f'<span><i class="swatch" style="background:{CATEGORY_COLOURS[c]}"></i>{escape(CATEGORY_LABELS[c])}</span>'
        for c in CATEGORIES) + "</div>"


def _histogram(title: str, durations: list[float], name: str) -> str:
    counts = [0] * len(DURATION_BINS)
    for value in durations:
        counts[next(n for n, (bound, _) in enumerate(DURATION_BINS) if bound is None or value < bound)] += 1
    heading = f"<h3>{escape(title)}: {plural(len(durations), 'issue')}</h3>"
    if not durations:
        return heading
    chart = _Frame(len(DURATION_BINS), max(counts), "issues")
    parts = [f'<rect class="hist-{name}" data-count="{count}" x="{chart.x(n) + chart.slot * 0.1:.1f}" '
             f'y="{chart.y(count):.1f}" width="{chart.slot * 0.8:.1f}" height="{chart.y(0) - chart.y(count):.1f}" '
             f'fill="#546e7a"><title>{count} {escape(label)}</title></rect>'
             for n, (count, (_, label)) in enumerate(zip(counts, DURATION_BINS, strict=True)) if count]
    parts += [f'<text x="{chart.x(n) + chart.slot / 2:.1f}" y="{chart.bottom + 14}" text-anchor="middle">'
              f"{escape(label)}</text>" for n, (_, label) in enumerate(DURATION_BINS)]
    return heading + chart.svg(f"hist-{name}", parts)


def _worst_devices(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="note">No issues in the window.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in ("device", "issues", "still open", "fixed by the agent",
                                                     "escalated", "issue types"))
    body = "".join(
        f'<tr class="worst-device"><td>{escape(r["device_id"])}</td><td class="n">{r["issues"]}</td>'
        f'<td class="n">{r["open"]}</td><td class="n">{r["fixed_by_agent"]}</td><td class="n">{r["escalated"]}</td>'
        f'<td>{escape(", ".join(f"{t} ({n})" for t, n in r["types"].items()))}</td></tr>' for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _still_open(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="note">Nothing is still open.</p>'
    head = "".join(f"<th>{h}</th>" for h in ("device", "issue type", "state", "worst severity", "opened"))
    oldest = sorted(rows, key=lambda r: r["opened_ts"])
    body = "".join(
        f'<tr class="still-open"><td>{escape(r["device_id"])}</td><td>{escape(str(r["type"]))}</td>'
        f'<td>{escape(str(r["state"]))}</td><td>{escape(r["severity"])}</td><td>{escape(_utc(r["opened_ts"]))}</td>'
        "</tr>" for r in oldest[:STILL_OPEN_ROWS])
    more = (f'<p class="note">and {len(rows) - STILL_OPEN_ROWS} more (fleet report --json lists them all)</p>'
            if len(rows) > STILL_OPEN_ROWS else "")
    return f"<p>{plural(len(rows), 'issue')} still open, oldest first:</p><table><tr>{head}</tr>{body}</table>{more}"


class _Frame:
    """A bar/line chart's plotting area: n slots along x, 0..top along y, with a y axis and grid lines."""

    left, right, top_margin, height = 48, 12, 10, 200

    def __init__(self, slots: int, top: float, y_label: str, percent: bool = False):
        self.slots, self.top, self.y_label, self.percent = slots, top, y_label, percent
        self.bottom = self.top_margin + self.height
        self.slot = (WIDTH - self.left - self.right) / slots

    def x(self, n: int) -> float:
        return self.left + n * self.slot

    def y(self, value: float) -> float:
        return self.bottom - self.height * value / self.top

    def svg(self, name: str, marks: list[str]) -> str:
        total = self.bottom + 44
        grid = []
        for tick in self._ticks():
            y = self.y(tick)
            label = f"{tick:.0%}" if self.percent else f"{tick:g}"
            grid.append(f'<line x1="{self.left}" x2="{WIDTH - self.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
                        f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        axis = (f'<line x1="{self.left}" x2="{WIDTH - self.right}" y1="{self.bottom}" y2="{self.bottom}" '
                f'stroke="#555"/><text x="12" y="{self.top_margin + self.height / 2}" text-anchor="middle" '
                f'transform="rotate(-90 12 {self.top_margin + self.height / 2})">{escape(self.y_label)}</text>')
        return (f'<svg id="{name}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" '
                f'viewBox="0 0 {WIDTH} {total}" role="img">' + "".join(grid) + axis + "".join(marks) + "</svg>")

    def _ticks(self) -> list[float]:
        if self.percent:
            return [0.0, 0.25, 0.5, 0.75, 1.0]
        step = max(1, round(self.top / 4 + 0.49))
        return [float(v) for v in range(0, int(self.top) + 1, step)]

    def time_axis(self, buckets: list[dict[str, Any]], step: int, mark: str = "one bar pair") -> list[str]:
        """Tick labels under the slots, about six, in UTC: the date where it changes, else the time of day."""
        every = max(1, -(-len(buckets) // 6))
        ticks, last_day = [], None
        for n, bucket in enumerate(buckets):
            if n % every:
                continue
            day = _utc(bucket["start"], "%d %b")
            label = day if step >= 86400 else (_utc(bucket["start"], "%H:%M") if day == last_day
                                                else _utc(bucket["start"], "%d %b %H:%M"))
            last_day = day
            ticks.append(f'<text class="time-tick" x="{self.x(n) + self.slot / 2:.1f}" y="{self.bottom + 14}" '
                         f'text-anchor="middle">{escape(label)}</text>')
        return ticks + [f'<text x="{(self.left + WIDTH - self.right) / 2:.1f}" y="{self.bottom + 34}" '
                        f'text-anchor="middle">time (UTC), {mark} per {_step_name(step)}</text>']


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g} s" if value < 120 else f"{value / 60:.1f} min"


def _step_name(step: int | None) -> str:
    return {60: "minute", 600: "10 minutes", 3600: "hour", 86400: "day"}.get(step or 0, f"{step} s")
