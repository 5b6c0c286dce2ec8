"""Sample fast, report slow: samples of one stream family gathered into report windows (contract v2). Pure, no I/O.

Per window and subject, a numeric field becomes [min, mean, max, last, count] (and a histogram for latency
fields), a text field its last value. A field is reported only when it moved beyond its deadband since it was
last reported, or when its heartbeat is due, so slow-moving values (camera status, radio config, static facts)
cost nothing while they hold. Memory is bounded by subjects and fields, never by the number of samples.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edge_agent.model import MetricValue, Sample
from edge_agent.reporting.metric_values import HISTOGRAM_BOUNDS_MS, as_number

MAX_TEXT = 256  # a text value longer than this is cut: one runaway string must not swell every report


@dataclass(frozen=True)
class WindowPolicy:
    report_interval_s: float = 120.0
    heartbeat_s: float = 900.0
    # "field", "family.field" or "family.kind.field" -> deadband; the most specific key wins.
    deadbands: Mapping[str, float] = field(default_factory=dict)
    histogram_fields: frozenset[str] = frozenset()
    max_series: int = 256  # subjects per window (a station storm must not grow one message without bound)
    max_fields: int = 64  # fields per subject

    def deadband(self, stream: str, name: str) -> float:
        parts = stream.split(".")
        for depth in range(len(parts), 0, -1):
            key = ".".join(parts[:depth]) + "." + name
            if key in self.deadbands:
                return self.deadbands[key]
        return self.deadbands.get(name, 0.0)


def _scalar(value: Any) -> MetricValue:
    """A text value as the contract carries it: a string cut to MAX_TEXT, or null; anything else as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text[:MAX_TEXT]


def _significant(number: float) -> float:
    """Four significant digits: a mean needs no more, and every digit is sent a million times a day. Near the
    float limit rounding up would overflow to infinity (not JSON): such a number is kept as it is."""
    rounded = float(f"{number:.4g}")
    return rounded if math.isfinite(rounded) else number


class _FieldWindow:
    """One field of one subject within the current window: running aggregates, no sample list."""

    __slots__ = ("count", "total", "low", "high", "last_number", "last", "varied", "first", "hist")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low: tuple[float, MetricValue] | None = None
        self.high: tuple[float, MetricValue] | None = None
        self.last_number: MetricValue = None
        self.last: MetricValue = None  # the last value of any kind (for a field without numbers)
        self.varied = False  # a value other than the first one showed in this window (news for a text field)
        self.first: Any = _UNSET
        self.hist: list[int] | None = None

    def add(self, value: MetricValue, histogram: bool) -> None:
        number = as_number(value)
        if number is None:
            value = _scalar(value) if not isinstance(value, bool | int | float) else None  # NaN, inf: no value
        else:
            self.count += 1
            self.total += number
            if self.low is None or number < self.low[0]:
                self.low = (number, value)
            if self.high is None or number > self.high[0]:
                self.high = (number, value)
            self.last_number = value
            if histogram:
                if self.hist is None:
                    self.hist = [0] * (len(HISTOGRAM_BOUNDS_MS) + 1)
                self.hist[bisect.bisect_left(HISTOGRAM_BOUNDS_MS, number)] += 1
        if self.first is _UNSET:
            self.first = value
        elif value != self.first:
            self.varied = True
        self.last = value

    def mean(self) -> float:
        mean = self.total / self.count
        if not math.isfinite(mean):  # the sum of values near the float limit overflowed: the midpoint stays finite
            mean = self.low[0] / 2 + self.high[0] / 2
        return _significant(mean)


_UNSET = object()


@dataclass
class _Reported:
    """What a consumer last heard about one field: its kind, value and when."""

    numeric: bool
    value: Any
    at: float


@dataclass
class _Series:
    stream: str
    subject: str
    samples: int = 0
    last_sample: float = 0.0
    fields: dict[str, _FieldWindow] = field(default_factory=dict)
    reported: dict[str, _Reported] = field(default_factory=dict)
    dropped_fields: int = 0  # in the current window: values of fields beyond max_fields


class StreamWindow:
    """The report windows of one stream family (the first part of a stream: wifi, connectivity, ...)."""

    def __init__(self, family: str, policy: WindowPolicy):
        self.family = family
        self.policy = policy
        self.start: float | None = None  # the agent's monotonic clock
        self.series: dict[tuple[str, str], _Series] = {}
        self.dropped_series = 0  # in the current window
        self.dropped_fields = 0  # since start: fields beyond max_fields

    def add(self, sample: Sample) -> None:
        if self.start is None:
            self.start = sample.mono
        key = (sample.stream, sample.subject)
        series = self.series.get(key)
        if series is None:
            if len(self.series) >= self.policy.max_series:
                self.dropped_series += 1
                return
            series = self.series[key] = _Series(sample.stream, sample.subject)
        series.samples += 1
        series.last_sample = sample.mono
        for name, value in sample.metrics.items():
            window = series.fields.get(name)
            if window is None:
                if len(series.fields) >= self.policy.max_fields:
                    self.dropped_fields += 1
                    series.dropped_fields += 1
                    continue
                window = series.fields[name] = _FieldWindow()
            window.add(value, name in self.policy.histogram_fields)

    def due_at(self) -> float | None:
        return None if self.start is None else self.start + self.policy.report_interval_s

    def close(self, mono: float) -> dict[str, Any] | None:
        """End the window at `mono`: the contract-v2 body to send, or None when there is nothing to say."""
        if self.start is None:
            return None
        window_s = max(mono - self.start, 1e-3)
        reports = []
        gone_after = 2 * self.policy.heartbeat_s
        for key, series in list(self.series.items()):
            if series.samples == 0:
                if mono - series.last_sample > gone_after:
                    del self.series[key]
                    reports.append({"stream": series.stream, "subject": series.subject, "n": 0})
                continue
            report = self._report(series, mono)
            if report is not None:
                reports.append(report)
            series.samples = 0
            series.fields = {}
            series.dropped_fields = 0
        body: dict[str, Any] | None = None
        if reports or self.dropped_series:
            body = {"stream": self.family, "window_s": round(window_s, 3), "series": reports}
            if self.dropped_series:
                body["dropped_series"] = self.dropped_series
        self.dropped_series = 0
        interval = self.policy.report_interval_s
        # Keep the cadence; after a long silence (no samples, a suspended host) start afresh from now.
        self.start = self.start + interval if mono < self.start + 2 * interval else mono
        return body

    def _report(self, series: _Series, mono: float) -> dict[str, Any] | None:
        stats: dict[str, list] = {}
        values: dict[str, MetricValue] = {}
        hists: dict[str, list[int]] = {}
        for name, window in series.fields.items():
            before = series.reported.get(name)
            heartbeat = before is None or mono - before.at >= self.policy.heartbeat_s
            if window.count:
                deadband = self.policy.deadband(series.stream, name)
                moved = (before is None or not before.numeric or window.low[0] < before.value - deadband
                         or window.high[0] > before.value + deadband)
                if not (moved or heartbeat):
                    continue
                stats[name] = [window.low[1], window.mean(), window.high[1], window.last_number, window.count]
                if window.hist is not None:
                    while window.hist and window.hist[-1] == 0:
                        window.hist.pop()
                    hists[name] = window.hist
                series.reported[name] = _Reported(True, as_number(window.last_number), mono)
            else:
                changed = before is None or before.numeric or before.value != window.last or window.varied
                if not (changed or heartbeat):
                    continue
                values[name] = window.last
                series.reported[name] = _Reported(False, window.last, mono)
        if not (stats or values or series.dropped_fields):
            return None
        report: dict[str, Any] = {"stream": series.stream, "subject": series.subject, "n": series.samples}
        if series.dropped_fields:  # what a fleet never sees must at least be counted where it can see it
            report["dropped_fields"] = series.dropped_fields
        if stats:
            report["stats"] = stats
        if values:
            report["values"] = values
        if hists:
            report["hist"] = hists
        return report


class TelemetryWindows:
    """Every stream family's windows, each with its own policy."""

    def __init__(self, default: WindowPolicy, per_family: Mapping[str, WindowPolicy] | None = None):
        self.default = default
        self.per_family = dict(per_family or {})
        self.windows: dict[str, StreamWindow] = {}

    def add(self, sample: Sample) -> None:
        family = sample.stream.split(".")[0]
        window = self.windows.get(family)
        if window is None:
            window = self.windows[family] = StreamWindow(family, self.per_family.get(family, self.default))
        window.add(sample)

    def due(self, mono: float) -> list[dict[str, Any]]:
        """Close every window that is due at `mono`; the bodies to send."""
        bodies = []
        for window in self.windows.values():
            due = window.due_at()
            if due is not None and mono >= due:
                body = window.close(mono)
                if body is not None:
                    bodies.append(body)
        return bodies

    def close_all(self, mono: float) -> list[dict[str, Any]]:
        """At shutdown: what every open window holds, so a restart loses no aggregate."""
        return [body for window in self.windows.values() if (body := window.close(mono)) is not None]

    def next_due(self) -> float | None:
        dues = [d for w in self.windows.values() if (d := w.due_at()) is not None]
        return min(dues) if dues else None


# Built-in deadbands for values that drift slowly or only count up: reported when they moved this far, or at the
# heartbeat. `[reporting] deadbands` overrides them key by key (0: every change). Counters and clocks (bytes,
# uptime, connected time) say little between heartbeats that the rates and events do not already say.
DEFAULT_DEADBANDS: dict[str, float] = {
    "system.temperature_c": 2.0,
    "system.memory_percent": 2.0,
    "system.memory_available_mb": 32.0,
    "system.swap_percent": 2.0,
    "system.uptime_s": 1e9,
    "system.disk.disk_percent": 1.0,
    "system.disk.free_mb": 256.0,
    "interface.rx_bytes": 1e15,
    "interface.tx_bytes": 1e15,
    "wifi.station.connected_s": 1e9,
    "agent.outbox_bytes": 1e6,
    "agent.mqtt_published": 1e9,
}


def window_policies(reporting: Any) -> tuple[WindowPolicy, dict[str, WindowPolicy]]:
    """The default policy and the per-family ones from a `[reporting]` config section."""
    deadbands = {**DEFAULT_DEADBANDS, **reporting.deadbands}
    default = WindowPolicy(reporting.report_interval_s, reporting.heartbeat_s, deadbands,
                           frozenset(reporting.histogram_fields))
    per_family = {
        family: WindowPolicy(stream.report_interval_s or default.report_interval_s,
                             stream.heartbeat_s or default.heartbeat_s, deadbands, default.histogram_fields)
        for family, stream in reporting.streams.items()
    }
    return default, per_family


def telemetry_windows(reporting: Any) -> TelemetryWindows | None:
    """Report windows for contract v2; None for v1 (one message per sample)."""
    if reporting.contract == "v1":
        return None
    return TelemetryWindows(*window_policies(reporting))
