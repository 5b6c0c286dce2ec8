"""Guidance text for people: filled from the finding, never broken by missing evidence."""

from __future__ import annotations

import pytest

from edge_agent.config import DetectorsSection
from edge_agent.detectors.catalog import default_detectors
from edge_agent.guidance import FALLBACK, GUIDANCE, guidance_for
from edge_agent.model import Sample


def test_guidance_is_filled_from_subject_and_evidence():
    text = guidance_for("wifi_interference", "wlan0", {"channel": 6, "busy_ratio": 0.72, "limit": 0.6})
    assert text.startswith("Channel 6 on wlan0 is busy 72% of the time (limit 60%)")


def test_missing_evidence_shows_as_question_mark_even_with_a_format_spec():
    text = guidance_for("wifi_interference", "wlan0", {})
    assert text.startswith("Channel ? on wlan0 is busy ? of the time (limit ?)")


def test_unknown_issue_type_gets_the_fallback_text():
    assert guidance_for("toaster_on_fire", "kitchen", {"temperature_c": 300}) == FALLBACK


@pytest.mark.parametrize("issue_type", sorted(GUIDANCE))
def test_every_template_renders_without_any_evidence(issue_type):
    text = guidance_for(issue_type, "subject-x", {})
    assert "{" not in text and "}" not in text


# One bad sample per issue type the threshold rules raise, with the default thresholds.
BAD_SAMPLES = [
    Sample("system", "host", {"cpu_percent": 99.0, "memory_percent": 99.0, "temperature_c": 95.0}, 1.0, 1.0),
    Sample("system.disk", "/", {"disk_percent": 99.0}, 1.0, 1.0),
    Sample("system.process", "hostapd", {"running": False}, 1.0, 1.0),
    Sample("interface", "eth0", {"errors_per_s": 9.0, "drops_per_s": 9.0}, 1.0, 1.0),
    Sample("wifi.radio", "wlan0", {"channel": 6, "busy_ratio": 0.9, "noise_dbm": -60.0}, 1.0, 1.0),
    Sample("connectivity.gateway", "192.168.1.1",
           {"sent": 5, "received": 3, "loss_pct": 40.0, "rtt_ms": 300.0, "jitter_ms": 80.0}, 1.0, 1.0),
    Sample("connectivity.gateway", "192.168.9.1", {"sent": 5, "received": 0, "loss_pct": 100.0}, 1.0, 1.0),
    Sample("connectivity.uplink", "broker:8883", {"ok": False, "connect_ms": None, "error": "timeout"}, 1.0, 1.0),
    Sample("connectivity.uplink", "slow:443", {"ok": True, "connect_ms": 5000.0, "error": None}, 1.0, 1.0),
    Sample("connectivity.dhcp", "eth0", {"ok": False, "error": "no offer"}, 1.0, 1.0),
    Sample("wifi.radio", "wlan1", {"available": False, "error": "STATUS: no reply"}, 1.0, 1.0),
    Sample("wifi.station", "02:00:00:00:00:03", {"signal_dbm": -85.0, "band_ghz": 5, "retry_ratio": 0.6}, 1.0, 1.0),
    Sample("connectivity.probe", "icmp", {"ok": False, "error": "needs CAP_NET_RAW"}, 1.0, 1.0),
    Sample("connectivity.dns", "192.168.1.1", {"ok": False, "latency_ms": None, "rcode": "timeout"}, 1.0, 1.0),
    Sample("connectivity.dns", "9.9.9.9", {"ok": True, "latency_ms": 900.0, "rcode": "NOERROR"}, 1.0, 1.0),
]


def _present_findings():
    rules = default_detectors(DetectorsSection())
    return [f for sample in BAD_SAMPLES for rule in rules for f in rule.evaluate(sample) if f.present]


@pytest.mark.parametrize("finding", _present_findings(), ids=lambda f: f.type)
def test_rule_evidence_fills_every_placeholder_of_its_guidance(finding):
    assert finding.type in GUIDANCE
    assert "?" not in guidance_for(finding.type, finding.subject, finding.evidence)


def test_an_unknown_value_reads_as_a_question_mark_not_none():
    from edge_agent.guidance import guidance_for

    text = guidance_for("wifi_weak_station", "aa:bb:cc:dd:ee:ff", {"signal_dbm": -82, "band_ghz": None, "limit": -75})
    assert "None" not in text and "on ? GHz" in text
