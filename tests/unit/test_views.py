"""What the technician reads: status summary and issues, with guidance only where something is still wrong."""

from __future__ import annotations

from edge_agent.views import render_issues, render_status

from .support import example_issue as issue
from .support import example_status as status


def test_no_issues_says_so():
    assert render_issues([]) == "no issues"


def test_guidance_is_shown_for_an_active_issue():
    text = render_issues([issue("open", "wlan0", "Move the access point to a quieter channel.")])
    assert "What to do about wifi_interference on wlan0:" in text
    assert "Move the access point to a quieter channel." in text


def test_guidance_is_not_shown_for_a_resolved_issue():
    text = render_issues([issue("resolved", "wlan1", "Unplug the microwave.")])
    assert "Unplug the microwave." not in text
    assert "What to do" not in text


def test_resolved_issue_is_still_listed_in_the_table():
    text = render_issues([issue("resolved", "wlan1", "Unplug the microwave.")])
    assert "resolved" in text.splitlines()[1] and "wlan1" in text.splitlines()[1]


def test_only_active_issues_get_guidance_when_both_are_listed():
    text = render_issues([
        issue("resolved", "wlan1", "Guidance for the resolved one."),
        issue("open", "wlan0", "Guidance for the open one."),
    ])
    assert "Guidance for the open one." in text
    assert "Guidance for the resolved one." not in text


def test_status_headline_names_device_site_premises_and_uptime():
    first = render_status(status()).splitlines()[0]
    assert first == "edge-agent 0.1.0 on gw-7 (site site-3), simulated premises, up 2h05m"


def test_status_shows_issue_counters():
    assert "detected 4, resolved 3, flaps prevented 2" in render_status(status())


def test_status_without_a_config_file_says_built_in_defaults():
    assert "config: built-in defaults" in render_status(status())


def test_status_names_the_config_file_when_there_is_one():
    text = render_status(status(config_path="/etc/edge-agent/edge-agent.toml"))
    assert "config: /etc/edge-agent/edge-agent.toml" in text


def test_status_shows_a_dash_for_a_collector_that_never_ran():
    system_row = next(line for line in render_status(status()).splitlines() if line.startswith("system "))
    assert system_row.split()[4] == "-"


def test_status_shows_detector_errors():
    assert "KeyError: 'x'" in render_status(status())


def test_status_leaves_unknown_metrics_out_of_the_latest_samples():
    row = next(line for line in render_status(status()).splitlines() if line.startswith("wifi.radio"))
    assert "channel=6" in row
    assert "noise_dbm" not in row
