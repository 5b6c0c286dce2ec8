"""Threshold rules: the obvious problems, each with its evidence (value, limit) for people and the cloud."""

from __future__ import annotations

from edge_agent.config import InterfaceThresholds, SystemThresholds, WifiThresholds
from edge_agent.model import Finding, Sample, Severity
from edge_agent.reporting.metric_values import as_number


def finite_number(value: object) -> float | None:
    """A metric as a float, or None when it is no finite number (text, null, true/false, NaN, infinity, an
    integer beyond a float's range): a hostile or broken sample never reaches the arithmetic."""
    return None if isinstance(value, bool) else as_number(value)


def above_limit(
    sample: Sample,
    metric: str,
    limit: float,
    issue_type: str,
    detector: str,
    severity: Severity = Severity.WARNING,
    **context: object,
) -> list[Finding]:
    """A finding on `metric > limit`; none when the metric is missing or unknown (unknown is not healthy)."""
    value = sample.metrics.get(metric)
    if value is None or isinstance(value, (bool, str)):
        return []
    present = value > limit
    summary = f"{metric} on {sample.subject} is {value}, limit {limit}" if present else ""
    evidence = {metric: value, "limit": limit, **context}
    return [Finding(issue_type, sample.subject, present, severity, detector, summary, evidence)]


class SystemRules:
    name = "rules.system"

    def __init__(self, thresholds: SystemThresholds):
        self.t = thresholds

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream == "system":
            return [
                *above_limit(sample, "cpu_percent", self.t.cpu_percent_max, "high_cpu", self.name),
                *above_limit(sample, "memory_percent", self.t.memory_percent_max, "high_memory", self.name),
                *above_limit(sample, "temperature_c", self.t.temperature_c_max, "high_temperature", self.name),
            ]
        if sample.stream == "system.disk":
            return above_limit(sample, "disk_percent", self.t.disk_percent_max, "disk_full", self.name)
        if sample.stream == "system.process":
            if sample.metrics.get("running") is None:
                return []  # unknown is not healthy, nor down
            running = bool(sample.metrics["running"])
            summary = "" if running else f"process {sample.subject} is not running"
            return [
                Finding("process_down", sample.subject, not running, Severity.CRITICAL, self.name, summary,
                        {"running": running})
            ]
        return []


class InterfaceRules:
    name = "rules.interfaces"

    def __init__(self, thresholds: InterfaceThresholds):
        self.t = thresholds

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream != "interface":
            return []
        errors = sample.metrics.get("errors_per_s")
        drops = sample.metrics.get("drops_per_s")
        if errors is None or drops is None:
            return []
        present = errors > self.t.errors_per_s_max or drops > self.t.drops_per_s_max
        evidence = {
            "errors_per_s": round(errors, 2),
            "drops_per_s": round(drops, 2),
            "errors_limit": self.t.errors_per_s_max,
            "drops_limit": self.t.drops_per_s_max,
        }
        summary = f"{sample.subject}: {errors:.2f} errors/s, {drops:.2f} drops/s" if present else ""
        return [Finding("interface_errors", sample.subject, present, Severity.WARNING, self.name, summary, evidence)]


class WifiRules:
    name = "rules.wifi"

    def __init__(self, thresholds: WifiThresholds):
        self.t = thresholds

    def evaluate(self, sample: Sample) -> list[Finding]:
        if sample.stream == "wifi.station":
            return self._station(sample)
        if sample.stream != "wifi.radio":
            return []
        available = sample.metrics.get("available", True) is not False
        error = sample.metrics.get("error")
        down = Finding("wifi_radio_down", sample.subject, not available, Severity.CRITICAL, self.name,
                       "" if available else f"radio {sample.subject} cannot be read: {error}", {"error": error})
        if not available:
            return [down]
        # The band goes with the channel: channel 1 of 2.4 GHz and channel 1 of 6 GHz are different channels.
        # The radio goes too: a gateway's 2.4, 5 and 6 GHz radios each have their own issues (the subject).
        where = {"interface": sample.subject, "channel": sample.metrics.get("channel"),
                 "band": sample.metrics.get("band")}
        return [
            down,
            *above_limit(sample, "busy_ratio", self.t.channel_busy_ratio_max, "wifi_interference", self.name,
                         **where),
            *above_limit(sample, "noise_dbm", self.t.noise_dbm_max, "wifi_high_noise", self.name, **where),
        ]

    def _station(self, sample: Sample) -> list[Finding]:
        findings = []
        signal = sample.metrics.get("signal_dbm")
        band = sample.metrics.get("band_ghz")
        # The radio the station is on, where the collector said (a gateway with several radios).
        radio = {"interface": sample.metrics["interface"]} if sample.metrics.get("interface") else {}
        if isinstance(signal, (int, float)):
            weak = signal < self.t.station_signal_dbm_min
            on = f" on {radio['interface']}" if radio else ""
            findings.append(Finding(
                "wifi_weak_station", sample.subject, weak, Severity.WARNING, self.name,
                f"station {sample.subject} is heard at {signal} dBm{on}" if weak else "",
                {"signal_dbm": signal, "limit": self.t.station_signal_dbm_min, "band_ghz": band, **radio},
            ))
        findings += above_limit(sample, "retry_ratio", self.t.station_retry_ratio_max, "wifi_high_retries",
                                self.name, band_ghz=band, **radio)
        return findings
