"""Threshold rules: a finding per checked metric, healthy ones included, none where the metric is unknown."""

from __future__ import annotations

import pytest

from edge_agent.config import (
    ConnectivityThresholds,
    DetectorsSection,
    InterfaceThresholds,
    SystemThresholds,
    WifiThresholds,
)
from edge_agent.detectors.catalog import default_detectors
from edge_agent.detectors.connectivity import ConnectivityRules
from edge_agent.detectors.rules import (
    InterfaceRules,
    SystemRules,
    WifiRules,
    above_limit,
)
from edge_agent.model import Sample, Severity


def sample(stream: str, subject: str, **metrics) -> Sample:
    return Sample(stream, subject, metrics, 1.0, 1_700_000_001.0)


def by_type(findings) -> dict:
    return {f.type: f for f in findings}


# above_limit


def test_value_above_the_limit_is_a_present_finding_with_summary_and_evidence():
    [finding] = above_limit(sample("system", "host", cpu_percent=97.5), "cpu_percent", 90.0, "high_cpu", "rules.x")
    assert finding.present is True
    assert finding.summary == "cpu_percent on host is 97.5, limit 90.0"
    assert dict(finding.evidence) == {"cpu_percent": 97.5, "limit": 90.0}


def test_value_within_the_limit_is_a_healthy_finding_not_no_finding():
    [finding] = above_limit(sample("system", "host", cpu_percent=12.0), "cpu_percent", 90.0, "high_cpu", "rules.x")
    assert (finding.present, finding.summary) == (False, "")


def test_value_equal_to_the_limit_is_healthy():
    [finding] = above_limit(sample("system", "host", cpu_percent=90.0), "cpu_percent", 90.0, "high_cpu", "rules.x")
    assert finding.present is False


@pytest.mark.parametrize("metrics", [{"cpu_percent": None}, {}, {"cpu_percent": True}, {"cpu_percent": "n/a"}])
def test_unknown_or_non_numeric_value_gives_no_finding(metrics):
    assert above_limit(sample("system", "host", **metrics), "cpu_percent", 90.0, "high_cpu", "rules.x") == []


def test_context_is_added_to_the_evidence():
    [finding] = above_limit(sample("wifi.radio", "wlan0", busy_ratio=0.7), "busy_ratio", 0.6, "wifi_interference",
                            "rules.wifi", channel=6)
    assert finding.evidence["channel"] == 6


# SystemRules

SYSTEM = SystemRules(SystemThresholds(cpu_percent_max=90, memory_percent_max=80, temperature_c_max=70,
                                      disk_percent_max=95))


def test_system_rules_flag_the_metric_that_is_over_and_report_the_others_healthy():
    findings = by_type(SYSTEM.evaluate(sample("system", "host", cpu_percent=10.0, memory_percent=85.0,
                                              temperature_c=50.0)))
    assert {t: f.present for t, f in findings.items()} == {
        "high_cpu": False, "high_memory": True, "high_temperature": False}


def test_system_rules_give_no_temperature_finding_where_there_is_no_sensor():
    findings = SYSTEM.evaluate(sample("system", "host", cpu_percent=10.0, memory_percent=10.0, temperature_c=None))
    assert "high_temperature" not in by_type(findings)


def test_full_disk_is_flagged_per_mount_point():
    [finding] = SYSTEM.evaluate(sample("system.disk", "/var", disk_percent=97.0))
    assert (finding.type, finding.subject, finding.present) == ("disk_full", "/var", True)


def test_disk_that_cannot_be_read_gives_no_finding():
    assert SYSTEM.evaluate(sample("system.disk", "/mnt", disk_percent=None, error="not mounted")) == []


def test_watched_process_that_is_down_is_a_critical_finding():
    [finding] = SYSTEM.evaluate(sample("system.process", "hostapd", running=False, count=0))
    assert (finding.type, finding.present, finding.severity) == ("process_down", True, Severity.CRITICAL)
    assert finding.summary == "process hostapd is not running"


def test_watched_process_that_runs_is_a_healthy_finding():
    [finding] = SYSTEM.evaluate(sample("system.process", "hostapd", running=True, count=1))
    assert finding.present is False


def test_system_rules_ignore_other_streams():
    assert SYSTEM.evaluate(sample("wifi.radio", "wlan0", busy_ratio=0.99)) == []


# InterfaceRules

INTERFACES = InterfaceRules(InterfaceThresholds(errors_per_s_max=1.0, drops_per_s_max=5.0))


@pytest.mark.parametrize("errors, drops", [(1.5, 0.0), (0.0, 6.0)])
def test_errors_or_drops_over_their_limit_flag_the_interface(errors, drops):
    [finding] = INTERFACES.evaluate(sample("interface", "eth0", errors_per_s=errors, drops_per_s=drops))
    assert (finding.type, finding.present) == ("interface_errors", True)


def test_interface_within_both_limits_is_healthy():
    [finding] = INTERFACES.evaluate(sample("interface", "eth0", errors_per_s=0.5, drops_per_s=1.0))
    assert finding.present is False


@pytest.mark.parametrize("errors, drops", [(None, None), (None, 9.0), (9.0, None)])
def test_interface_without_rates_gives_no_finding(errors, drops):
    assert INTERFACES.evaluate(sample("interface", "eth0", errors_per_s=errors, drops_per_s=drops)) == []


def test_interface_evidence_carries_rates_and_both_limits():
    [finding] = INTERFACES.evaluate(sample("interface", "eth0", errors_per_s=2.3456, drops_per_s=0.0))
    assert dict(finding.evidence) == {"errors_per_s": 2.35, "drops_per_s": 0.0, "errors_limit": 1.0,
                                      "drops_limit": 5.0}


# WifiRules

WIFI = WifiRules(WifiThresholds(channel_busy_ratio_max=0.6, noise_dbm_max=-80.0))


def test_busy_channel_is_interference_with_the_channel_in_evidence():
    findings = by_type(WIFI.evaluate(sample("wifi.radio", "wlan0", channel=6, busy_ratio=0.75, noise_dbm=-95.0)))
    assert findings["wifi_interference"].present is True
    assert findings["wifi_interference"].evidence["channel"] == 6
    assert findings["wifi_high_noise"].present is False


def test_interference_and_noise_evidence_name_the_band_of_the_channel():
    findings = by_type(WIFI.evaluate(sample("wifi.radio", "wlan2", channel=1, band="6GHz", busy_ratio=0.75,
                                            noise_dbm=-70.0)))
    assert {t: (f.evidence["channel"], f.evidence["band"]) for t, f in findings.items() if t != "wifi_radio_down"} \
        == {"wifi_interference": (1, "6GHz"), "wifi_high_noise": (1, "6GHz")}


def test_each_radio_of_a_gateway_has_its_own_interference_issue_naming_it():
    five = by_type(WIFI.evaluate(sample("wifi.radio", "wlan1", channel=36, band="5GHz", busy_ratio=0.75)))
    two = by_type(WIFI.evaluate(sample("wifi.radio", "wlan0", channel=1, band="2.4GHz", busy_ratio=0.75)))
    assert (five["wifi_interference"].subject, five["wifi_interference"].evidence["interface"]) == ("wlan1", "wlan1")
    assert (two["wifi_interference"].subject, two["wifi_interference"].evidence["band"]) == ("wlan0", "2.4GHz")


def test_a_weak_station_names_the_radio_it_is_on():
    weak = by_type(WIFI.evaluate(sample("wifi.station", "02:00:00:00:00:03", signal_dbm=-82.0, band_ghz=6,
                                        interface="wlan2", retry_ratio=0.5)))
    assert weak["wifi_weak_station"].evidence["interface"] == "wlan2"
    assert "on wlan2" in weak["wifi_weak_station"].summary
    assert weak["wifi_high_retries"].evidence["interface"] == "wlan2"


def test_high_noise_floor_is_flagged():
    findings = by_type(WIFI.evaluate(sample("wifi.radio", "wlan0", channel=6, busy_ratio=0.2, noise_dbm=-70.0)))
    assert findings["wifi_high_noise"].present is True


def test_radio_without_busy_counters_gives_no_interference_finding():
    findings = by_type(WIFI.evaluate(sample("wifi.radio", "wlan0", channel=6, busy_ratio=None, noise_dbm=-95.0)))
    assert "wifi_interference" not in findings
    assert findings["wifi_radio_down"].present is False and findings["wifi_high_noise"].present is False


def test_a_radio_that_cannot_be_read_is_radio_down_and_nothing_else():
    findings = WIFI.evaluate(sample("wifi.radio", "wlan0", available=False, error="STATUS: no reply"))
    assert [(f.type, f.present) for f in findings] == [("wifi_radio_down", True)]
    assert "STATUS: no reply" in findings[0].summary


def test_a_station_below_the_signal_limit_is_weak_with_its_band_in_evidence():
    findings = by_type(WIFI.evaluate(sample("wifi.station", "02:00:00:00:00:03", signal_dbm=-82.0, band_ghz=5,
                                            retry_ratio=0.05)))
    weak = findings["wifi_weak_station"]
    assert weak.present and weak.evidence == {"signal_dbm": -82.0, "limit": -75.0, "band_ghz": 5}
    assert findings["wifi_high_retries"].present is False


def test_a_station_resending_many_packets_is_flagged():
    findings = by_type(WIFI.evaluate(sample("wifi.station", "02:00:00:00:00:03", signal_dbm=-60.0, band_ghz=2.4,
                                            retry_ratio=0.45)))
    assert findings["wifi_high_retries"].present and not findings["wifi_weak_station"].present


# ConnectivityRules

CONNECTIVITY = ConnectivityRules(ConnectivityThresholds(gateway_loss_pct_max=10, gateway_rtt_ms_max=100,
                                                        dns_latency_ms_max=500))


def test_a_gateway_that_answers_some_probes_is_reachable():
    findings = by_type(CONNECTIVITY.evaluate(sample("connectivity.gateway", "10.0.0.1", sent=5, received=2,
                                                    loss_pct=60.0, rtt_ms=2.0)))
    assert {t: f.present for t, f in findings.items()} == {"gateway_unreachable": False}


def test_gateway_that_answers_no_probe_is_unreachable_with_no_loss_or_latency_finding():
    rules = ConnectivityRules(ConnectivityThresholds())  # its own: this round's outage would excuse DNS failures
    findings = by_type(rules.evaluate(sample("connectivity.gateway", "10.0.0.1", sent=5, received=0,
                                                    loss_pct=100.0, rtt_ms=None)))
    assert list(findings) == ["gateway_unreachable"]
    assert findings["gateway_unreachable"].present
    assert findings["gateway_unreachable"].severity is Severity.CRITICAL


def test_a_resolver_that_does_not_answer_is_a_critical_dns_failure_without_a_slowness_finding():
    rules = ConnectivityRules(ConnectivityThresholds())
    findings = by_type(rules.evaluate(sample("connectivity.dns", "10.0.0.1", ok=False, latency_ms=None,
                                             rcode="timeout")))
    assert {t for t, f in findings.items() if f.present} == {"dns_failure"} and "dns_slow" not in findings
    failure = findings["dns_failure"]
    assert (failure.severity, failure.summary) == (Severity.CRITICAL, "resolver 10.0.0.1 for the probe name: no answer")


def test_slow_resolver_is_flagged_slow_and_healthy_for_failure():
    findings = by_type(CONNECTIVITY.evaluate(sample("connectivity.dns", "10.0.0.1", ok=True, latency_ms=800.0,
                                                    rcode="NOERROR")))
    assert {t: f.present for t, f in findings.items()} == {
        "dns_failure": False, "dns_upstream_failing": False, "dns_name_missing": False, "dns_resolver_lies": False,
        "dns_slow": True}


def test_connectivity_rules_ignore_other_streams():
    assert CONNECTIVITY.evaluate(sample("system", "host", cpu_percent=99.0)) == []


def test_default_detectors_cover_every_sample_family_with_distinct_names():
    detectors = default_detectors(DetectorsSection())
    assert sorted(d.name for d in detectors) == [
        "quality.gateway", "rules.connectivity", "rules.interfaces", "rules.reporting_path", "rules.storage",
        "rules.system", "rules.wifi",
        "watch.gateway_mac",
    ]


def test_a_process_sample_without_a_running_value_gives_no_finding():
    rules = SystemRules(SystemThresholds())
    assert rules.evaluate(Sample("system.process", "hostapd", {"running": None}, 1.0, 1.0)) == []


def test_a_dns_sample_without_an_ok_value_gives_no_finding():
    rules = ConnectivityRules(ConnectivityThresholds())
    assert rules.evaluate(Sample("connectivity.dns", "192.0.2.53", {"ok": None, "rcode": None}, 1.0, 1.0)) == []
