"""Fleet KPIs from recorded watch streams: every issue once, in one final category, on a fleet whose truth is known."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from edge_agent.fleet.report import (
    ReportInputError,
    build_report,
    merge_streams,
    read_events,
    render_report,
    write_chart,
)
from edge_agent.fleet.synthetic import STORIES, SyntheticIssue, build_fleet, parsed_events, story_messages
from edge_agent.reporting.envelope import EnvelopeFactory

T0 = 1_700_000_000.0


def ingest(messages: list[tuple[str, bytes]]) -> list[dict]:
    return parsed_events(messages, T0)  # through the real parser, as fleet watch does


def one_issue(story: str, issue_type: str = "dns_slow", device: str = "gw-1", t: float = 100.0) -> list[dict]:
    factory = EnvelopeFactory(device, "site", lambda: True)
    issue = SyntheticIssue(factory, issue_type, T0 + t)
    return ingest([(f"edge/v1/{device}/{topic}", json.dumps(m).encode()) for topic, m in story_messages(story, issue)])


@pytest.mark.parametrize("story", sorted(STORIES))
def test_each_story_ends_in_its_one_category(story: str):
    kpis = build_report(one_issue(story)).kpis()
    category = STORIES[story][0]
    assert kpis["issues"] == 1
    assert kpis["outcomes"] == {c: int(c == category) for c in kpis["outcomes"]}
    assert kpis["by_type"]["dns_slow"][category] == 1


def test_a_constructed_fleet_is_counted_exactly_as_it_was_built():
    fleet = build_fleet(devices=40, issues_per_device=6, start_ts=T0, span_s=2 * 86400, seed=7)
    kpis = build_report(ingest(fleet.messages)).kpis()
    truth = fleet.truth
    assert kpis["devices"] == truth.devices and kpis["issues"] == truth.issues
    assert kpis["outcomes"] == {c: truth.outcomes[c] for c in kpis["outcomes"]}
    assert sum(kpis["outcomes"].values()) == kpis["issues"]  # no overlap, nothing left out
    assert kpis["resolved_before_impact"] == truth.before_impact
    for issue_type, counts in truth.by_type.items():
        assert {c: kpis["by_type"][issue_type][c] for c in counts} == dict(counts)
        assert kpis["by_type"][issue_type]["issues"] == sum(counts.values())


def test_the_counts_do_not_depend_on_the_order_the_messages_arrive_in():
    fleet = build_fleet(devices=10, issues_per_device=8, start_ts=T0, span_s=3600, seed=3)
    events = ingest(fleet.messages)
    shuffled = list(events)
    random.Random(1).shuffle(shuffled)
    assert build_report(shuffled).kpis() == build_report(events).kpis()


@pytest.mark.parametrize("issue_type", ["gateway_unreachable", "gateway_cable_unplugged", "dns_failure"])
def test_an_outage_is_never_resolved_before_impact_however_mild_or_fast(issue_type: str):
    kpis = build_report(one_issue("agent_fix", issue_type)).kpis()
    assert kpis["outcomes"]["fixed_by_agent"] == 1 and kpis["resolved_before_impact"] == 0


def test_a_degradation_that_went_critical_is_not_resolved_before_impact():
    assert build_report(one_issue("clears_after_critical")).kpis()["resolved_before_impact"] == 0
    assert build_report(one_issue("clears")).kpis()["resolved_before_impact"] == 1


def test_the_window_takes_issues_opened_inside_it_and_follows_them_after():
    events = one_issue("agent_fix", t=100) + one_issue("open", device="gw-2", t=5000)
    kpis = build_report(events, since=T0 + 4000, until=T0 + 6000).kpis()
    assert kpis["issues"] == 1 and kpis["outcomes"]["still_open"] == 1
    assert build_report(events, since=T0, until=T0 + 200).kpis()["outcomes"]["fixed_by_agent"] == 1


def test_the_timeline_counts_openings_and_resolutions_in_their_buckets():
    events = one_issue("agent_fix", t=100) + one_issue("clears", device="gw-2", t=4000)
    timeline = build_report(events).kpis()["timeline"]
    assert timeline["bucket_s"] == 600
    assert sum(b["opened"] for b in timeline["buckets"]) == 2
    assert sum(b["resolved"] for b in timeline["buckets"]) == 2
    assert sum(b["fixed_by_agent"] for b in timeline["buckets"]) == 1


def test_streams_of_shared_watchers_merge_with_each_message_once():
    events = ingest(build_fleet(devices=6, issues_per_device=4, start_ts=T0, span_s=3600, seed=5).messages)
    halves = [events[::2], events[1::2] + events[:30]]  # overlapping on purpose
    merged = merge_streams(halves)
    assert len(merged) == len(events)
    assert build_report(merged).kpis() == build_report(events).kpis()


def test_the_text_report_says_one_gateway_not_one_gateways():
    text = render_report(build_report(one_issue("open")).kpis())
    assert text.startswith("1 gateway, 1 issue opened")
    assert "still open" in text


def test_a_recording_keeps_working_with_the_watchers_summary_line_at_its_end():
    events = one_issue("clears")
    lines = "".join(json.dumps(e) + "\n" for e in events) + json.dumps({"summary": {"devices": 1}}) + "\n"
    assert build_report(read_events(io.StringIO(lines), "rec.jsonl")).kpis()["issues"] == 1


def test_a_bad_line_names_the_file_and_line():
    stream = io.StringIO(json.dumps(one_issue("open")[0]) + "\n{\"topic\": 1}\n")
    with pytest.raises(ReportInputError, match=r"rec.jsonl:2: not a fleet watch event"):
        read_events(stream, "rec.jsonl")


def test_an_issue_line_missing_its_fields_is_an_error_naming_the_line_not_a_traceback():
    event = one_issue("open")[0]
    del event["message"]["transitions"]
    with pytest.raises(ReportInputError, match=r"^rec.jsonl:1: not a valid event/issue message"):
        read_events(io.StringIO(json.dumps(event) + "\n"), "rec.jsonl")


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_the_chart_is_drawn_as_png_or_svg(tmp_path: Path, suffix: str, magic: bytes):
    path = tmp_path / f"fleet{suffix}"
    write_chart(build_report(one_issue("agent_fix")).kpis(), str(path))
    assert path.read_bytes().startswith(magic)


@pytest.mark.parametrize("line", ["[" * 50_000 + "]" * 50_000, '{"n": ' + "9" * 5000 + "}", '{"x": NaN}'])
def test_a_hostile_recorded_line_is_an_error_naming_the_line_not_a_traceback(line):
    with pytest.raises(ReportInputError, match="^rec.jsonl:2: not JSON"):
        read_events(io.StringIO('{"message": {"id": "x"}, "topic": "t", "device_id": "d"}\n' + line + "\n"),
                    "rec.jsonl")


class EndlessLine(io.TextIOBase):
    """A recording whose first line never ends (a file without a newline, /dev/zero)."""

    def readable(self) -> bool:
        return True

    def readline(self, size: int = -1) -> str:
        assert size >= 0, "a line was read without a bound"
        return "a" * size


def test_a_line_that_never_ends_is_an_error_naming_the_line_not_read_whole():
    with pytest.raises(ReportInputError, match=r"^rec.jsonl:1: a line longer than 1048576 characters"):
        read_events(EndlessLine(), "rec.jsonl")
