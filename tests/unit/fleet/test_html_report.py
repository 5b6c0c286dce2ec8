"""The self-contained report page, read as text (tests/integration/test_fleet_html_chromium.py renders it)."""

from __future__ import annotations

import json
import re

from edge_agent.fleet.html_report import render_html
from edge_agent.fleet.report import build_report
from edge_agent.fleet.synthetic import build_fleet, parsed_events

T0 = 1_700_000_000.0


def report_of(devices: int, issues_per_device: int):
    fleet = build_fleet(devices=devices, issues_per_device=issues_per_device, start_ts=T0, span_s=6 * 3600, seed=2)
    return build_report(parsed_events(fleet.messages, T0))


def test_one_gateway_is_one_gateway_in_the_title_and_tiles():
    page = render_html(report_of(devices=1, issues_per_device=1))
    assert "<title>Fleet report: 1 gateway, 1 issue</title>" in page
    assert '<span class="value">1</span><span class="label">gateway</span>' in page


def test_the_page_refers_to_nothing_outside_itself():
    page = render_html(report_of(devices=5, issues_per_device=3))
    assert not re.search(r"""(src|href)\s*=|url\(|@import|<script|<link""", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing


def test_device_and_issue_names_are_escaped():
    report = report_of(devices=1, issues_per_device=1)
    report.issues[0].device_id = "<script>alert(1)</script>"
    report.issues[0].type = 'x" onmouseover="y'
    page = render_html(report)
    assert "<script>" not in page and 'x" onmouseover' not in page


def test_an_empty_window_still_makes_a_page():
    page = render_html(build_report([]))
    assert "No issues in the window." in page and "0 gateways, 0 issues" in page
    json.dumps(build_report([]).kpis())  # and the KPIs serialise
