"""Fleet KPIs from recorded watch streams."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from edge_agent.fleet.report import ReportInputError, build_report, merge_streams, read_events, write_chart

T0 = 1_700_000_000.0


def issue(device: str, issue_id: str, change: str, t: float, severity: str = "warning", type_: str = "dns_failure",
          first_bad: float | None = None, seq: int = 1) -> dict:
    message = {"id": f"{issue_id}-{change}-{t}", "ts": T0 + t, "seq": seq, "issue_id": issue_id, "type": type_,
               "change": change, "severity": severity, "opened_ts": T0 + (first_bad or 0) + 10,
               "first_bad_ts": None if first_bad is None else T0 + first_bad,
               "resolved_ts": T0 + t if change == "resolved" else None}
    return {"device_id": device, "topic": "event/issue", "message": message}


def action(device: str, issue_id: str, outcome: str, t: float, took: float | None = None) -> dict:
    message = {"id": f"{issue_id}-{outcome}-{t}", "ts": T0 + t, "seq": 1, "issue_id": issue_id,
               "name": "restart_service", "target": "dnsmasq", "outcome": outcome,
               "details": {} if took is None else {"time_to_fix_s": took}}
    return {"device_id": device, "topic": "event/action", "message": message}


EVENTS = [
    # gw-1: dns fixed by a restart, then again (a repeated issue)
    issue("gw-1", "a", "opened", 10, "critical", first_bad=0), action("gw-1", "a", "attempted", 11),
    action("gw-1", "a", "fixed", 40, took=30.0), issue("gw-1", "a", "resolved", 40, "critical", first_bad=0),
    issue("gw-1", "b", "opened", 210, first_bad=200), action("gw-1", "b", "fixed", 230, took=20.0),
    issue("gw-1", "b", "resolved", 230, first_bad=200),
    # gw-2: interference that cleared by itself while a warning
    issue("gw-2", "c", "opened", 20, type_="wifi_interference", first_bad=15),
    issue("gw-2", "c", "resolved", 80, type_="wifi_interference", first_bad=15),
    # gw-3: an outage escalated
    issue("gw-3", "d", "opened", 30, "critical", type_="gateway_unreachable", first_bad=25),
    issue("gw-3", "d", "escalated", 90, "critical", type_="gateway_unreachable", first_bad=25),
]


def test_kpis_count_what_the_agents_fixed_what_cleared_early_and_what_needed_a_person():
    kpis = build_report(EVENTS).kpis()
    assert (kpis["devices"], kpis["detected"], kpis["auto_resolved"], kpis["resolved"]) == (3, 4, 2, 3)
    assert kpis["resolved_before_impact"] == 2  # b and c never became critical
    assert kpis["escalated"] == 1
    assert kpis["median_detection_delay_s"] == 10.0
    assert kpis["median_time_to_fix_s"] == 25.0
    assert kpis["top_issue_types"][0] == ("dns_failure", 2)
    assert kpis["devices_with_repeated_issues"] == [{"device_id": "gw-1", "type": "dns_failure", "count": 2}]
    assert kpis["by_type"]["wifi_interference"] == {"detected": 1, "auto_resolved": 0, "escalated": 0,
                                                    "resolved_otherwise": 1}


def test_the_window_takes_issues_opened_inside_it_and_follows_them_after():
    kpis = build_report(EVENTS, since=T0 + 100, until=T0 + 300).kpis()
    assert kpis["detected"] == 1 and kpis["auto_resolved"] == 1


def test_streams_of_shared_watchers_merge_with_each_message_once():
    halves = [EVENTS[::2], EVENTS[1::2] + EVENTS[:3]]  # overlapping on purpose
    merged = merge_streams(halves)
    assert len(merged) == len(EVENTS)
    assert build_report(merged).kpis() == build_report(EVENTS).kpis()


def test_a_bad_line_names_the_file_and_line():
    stream = io.StringIO(json.dumps(EVENTS[0]) + "\n{\"topic\": 1}\n")
    with pytest.raises(ReportInputError, match=r"rec.jsonl:2: not a fleet watch event"):
        read_events(stream, "rec.jsonl")


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_the_chart_is_drawn_as_png_or_svg(tmp_path: Path, suffix: str, magic: bytes):
    path = tmp_path / f"fleet{suffix}"
    write_chart(build_report(EVENTS).kpis(), str(path))
    assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize("line", ["[" * 50_000 + "]" * 50_000, '{"n": ' + "9" * 5000 + "}", '{"x": NaN}'])
def test_a_hostile_recorded_line_is_an_error_naming_the_line_not_a_traceback(line):
    with pytest.raises(ReportInputError, match="^rec.jsonl:2: not JSON"):
        read_events(io.StringIO('{"message": {}, "topic": "t", "device_id": "d"}\n' + line + "\n"), "rec.jsonl")
