"""Report windows (contract v2): aggregates per window, deadbands, heartbeats, subjects that leave, odd values."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.config import ReportingSection
from edge_agent.model import Sample
from edge_agent.reporting.contract import TelemetryBatch
from edge_agent.reporting.telemetry_window import (
    MAX_TEXT,
    StreamWindow,
    TelemetryWindows,
    WindowPolicy,
    telemetry_windows,
    window_policies,
)

POLICY = WindowPolicy(report_interval_s=60, heartbeat_s=600, histogram_fields=frozenset({"rtt_ms"}))


def sample(metrics: dict, mono: float, stream: str = "connectivity.gateway", subject: str = "gw") -> Sample:
    return Sample(stream, subject, metrics, mono, 1_700_000_000.0 + mono)


def window_with(values: list, name: str = "rtt_ms", policy: WindowPolicy = POLICY, start: float = 0.0,
                window: StreamWindow | None = None) -> StreamWindow:
    window = window or StreamWindow("connectivity", policy)
    for i, value in enumerate(values):
        window.add(sample({name: value}, start + i))
    return window


def only_series(body: dict) -> dict:
    [series] = body["series"]
    return series


def test_a_window_reports_min_mean_max_last_and_count_of_a_numeric_field():
    body = window_with([3.0, 1.0, 2.0, 6.0]).close(60.0)
    series = only_series(body)
    assert (body["stream"], body["window_s"]) == ("connectivity", 60.0)
    assert (series["stream"], series["subject"], series["n"]) == ("connectivity.gateway", "gw", 4)
    assert series["stats"]["rtt_ms"] == [1.0, 3.0, 6.0, 6.0, 4]


def test_a_latency_field_gets_a_histogram_with_trailing_empty_buckets_left_out():
    series = only_series(window_with([0.5, 1.5, 1.7, 30.0]).close(60.0))
    # bounds 1, 2, 5, 10, 20, 50, ...: one at or below 1 ms, two up to 2 ms, one in 20-50 ms
    assert series["hist"]["rtt_ms"] == [1, 2, 0, 0, 0, 1]


def test_the_next_window_starts_empty_and_keeps_the_cadence():
    window = window_with([1.0, 2.0])
    window.close(61.0)
    assert window.due_at() == 120.0
    window_with([5.0], start=70.0, window=window)
    assert only_series(window.close(120.0))["stats"]["rtt_ms"] == [5.0, 5.0, 5.0, 5.0, 1]


def test_a_value_that_stays_within_its_deadband_is_not_sent_again_until_the_heartbeat():
    policy = WindowPolicy(60, 600, {"temperature_c": 2.0})
    window = window_with([50.0, 50.5], "temperature_c", policy)
    assert only_series(window.close(60.0))["stats"]["temperature_c"][3] == 50.5
    quiet = []
    for start in range(60, 660, 60):  # windows ending at 120 ... 660
        window_with([49.0, 52.0], "temperature_c", policy, start=start, window=window)
        quiet.append(window.close(start + 60.0))
    assert quiet[:-1] == [None] * 9  # within 50.5 +- 2: nothing to say, no message at all
    # 600 s after it was last sent, the heartbeat sends it though it still holds
    assert only_series(quiet[-1])["stats"]["temperature_c"] == [49.0, 50.5, 52.0, 52.0, 2]


def test_a_value_that_leaves_its_deadband_is_sent_in_the_window_it_moved():
    policy = WindowPolicy(60, 600, {"temperature_c": 2.0})
    window = window_with([50.0], "temperature_c", policy)
    window.close(60.0)
    window_with([51.0, 53.0, 51.0], "temperature_c", policy, start=60.0, window=window)
    # the excursion to 53 counts even though the window ends back inside the band
    assert only_series(window.close(120.0))["stats"]["temperature_c"] == [51.0, 51.67, 53.0, 51.0, 3]


def test_deadband_keys_are_matched_most_specific_first():
    policy = WindowPolicy(deadbands={"free_mb": 1.0, "system.free_mb": 2.0, "system.disk.free_mb": 3.0})
    assert policy.deadband("system.disk", "free_mb") == 3.0
    assert policy.deadband("system", "free_mb") == 2.0
    assert policy.deadband("interface", "free_mb") == 1.0
    assert policy.deadband("interface", "rx_bytes") == 0.0


def test_a_constant_value_without_a_deadband_is_sent_once_then_at_each_heartbeat():
    window = window_with(["6"], "channel")
    sent = [window.close(60.0)]
    for start in range(60, 1260, 60):
        window_with(["6"], "channel", start=start, window=window)
        sent.append(window.close(start + 60.0))
    assert [i for i, body in enumerate(sent) if body is not None] == [0, 10, 20]  # 0 s, 600 s, 1200 s


def test_a_text_value_is_sent_when_it_changes_and_when_another_value_showed_within_the_window():
    window = window_with(["NOERROR"], "rcode")
    assert only_series(window.close(60.0))["values"] == {"rcode": "NOERROR"}
    window_with(["NOERROR", "SERVFAIL", "NOERROR"], "rcode", start=60.0, window=window)
    assert only_series(window.close(120.0))["values"] == {"rcode": "NOERROR"}  # a flip is news, even one undone
    window_with(["NOERROR"], "rcode", start=120.0, window=window)
    assert window.close(180.0) is None
    window_with(["timeout"], "rcode", start=180.0, window=window)
    assert only_series(window.close(240.0))["values"] == {"rcode": "timeout"}


def test_booleans_aggregate_as_the_share_of_true_and_keep_their_type():
    series = only_series(window_with([True, False, True, True], "ok").close(60.0))
    assert series["stats"]["ok"] == [False, 0.75, True, True, 4]


def test_nan_infinity_none_and_out_of_range_integers_are_no_value_and_never_reach_the_message():
    series = only_series(window_with([math.nan, 2.0, math.inf, None, -math.inf, 10 ** 400, 4.0]).close(60.0))
    assert series["n"] == 7
    assert series["stats"]["rtt_ms"] == [2.0, 3.0, 4.0, 4.0, 2]  # count leaves out the samples without a value
    json.dumps(series, allow_nan=False)


def test_values_near_the_float_limit_give_a_finite_mean():
    [low, mean, high, _, count] = only_series(window_with([1e308, 1.5e308, -1e308]).close(60.0))["stats"]["rtt_ms"]
    assert (low, high, count) == (-1e308, 1.5e308, 3) and low <= mean <= high
    json.dumps(mean, allow_nan=False)


def test_a_field_without_any_value_in_the_window_is_reported_as_null():
    window = window_with([1.0])
    window.close(60.0)
    window_with([None, math.nan], start=60.0, window=window)
    assert only_series(window.close(120.0))["values"] == {"rtt_ms": None}
    window_with([2.0], start=120.0, window=window)
    assert "rtt_ms" in only_series(window.close(180.0))["stats"]  # back from null: sent again


def test_a_field_missing_from_some_samples_counts_only_where_present():
    window = StreamWindow("connectivity", POLICY)
    window.add(sample({"rtt_ms": 1.0, "loss_pct": 0.0}, 0.0))
    window.add(sample({"loss_pct": 20.0}, 5.0))
    window.add(sample({}, 10.0))
    series = only_series(window.close(60.0))
    assert series["n"] == 3
    assert series["stats"] == {"rtt_ms": [1.0, 1.0, 1.0, 1.0, 1], "loss_pct": [0.0, 10.0, 20.0, 20.0, 2]}


def test_odd_values_become_text_and_long_text_is_cut():
    window = StreamWindow("camera", POLICY)
    window.add(sample({"label": "x" * 10_000, "boxes": [1, 2], "conf": {"a": 1}}, 0.0, "camera.vision", "cam"))
    values = only_series(window.close(60.0))["values"]
    assert values["label"] == "x" * MAX_TEXT
    assert values["boxes"] == "[1, 2]" and values["conf"] == "{'a': 1}"


def test_huge_counts_keep_memory_flat_and_the_aggregates_exact_enough():
    window = StreamWindow("connectivity", POLICY)
    for i in range(200_000):
        window.add(sample({"rtt_ms": float(i % 10)}, i * 1e-4))
    assert len(window.series) == 1 and len(window.series[("connectivity.gateway", "gw")].fields) == 1
    assert only_series(window.close(60.0))["stats"]["rtt_ms"] == [0.0, 4.5, 9.0, 9.0, 200_000]


def test_more_subjects_than_the_limit_are_counted_as_dropped_and_the_rest_reported():
    window = StreamWindow("wifi", WindowPolicy(max_series=3))
    for i in range(10):
        window.add(sample({"signal_dbm": -50.0}, 0.0, "wifi.station", f"mac-{i}"))
    body = window.close(120.0)
    assert len(body["series"]) == 3 and body["dropped_series"] == 7


def test_more_fields_than_the_limit_are_left_out():
    window = StreamWindow("system", WindowPolicy(max_fields=4))
    window.add(sample({f"f{i}": i for i in range(100)}, 0.0, "system", "host"))
    report = only_series(window.close(120.0))
    assert len(report["stats"]) == 4 and report["dropped_fields"] == 96
    assert window.dropped_fields == 96


def test_dropped_fields_are_reported_even_when_the_kept_ones_did_not_move():
    window = StreamWindow("system", WindowPolicy(60, 900, max_fields=2))
    window.add(sample({"a": 1.0, "b": 2.0}, 0.0, "system", "host"))
    window.close(60.0)
    window.add(sample({"a": 1.0, "b": 2.0, "c": 3.0}, 70.0, "system", "host"))
    report = only_series(window.close(120.0))
    assert report["dropped_fields"] == 1 and "stats" not in report
    window.add(sample({"a": 1.0, "b": 2.0}, 130.0, "system", "host"))
    assert window.close(180.0) is None  # nothing moved, nothing dropped: nothing to say


def test_a_subject_silent_for_twice_the_heartbeat_is_reported_gone_once_and_forgotten():
    window = StreamWindow("wifi", WindowPolicy(60, 300))
    window.add(sample({"signal_dbm": -50.0}, 0.0, "wifi.station", "mac-1"))
    window.close(60.0)
    bodies = [window.close(end) for end in range(120, 720, 60)]  # the last one 660 s after the sample
    assert [b for b in bodies[:-1] if b is not None] == []  # silence is not news while it may be a slow collector
    assert bodies[-1]["series"] == [{"stream": "wifi.station", "subject": "mac-1", "n": 0}]
    assert window.series == {} and window.close(840.0) is None


def test_a_long_gap_restarts_the_cadence_from_the_close():
    window = window_with([1.0])
    window.close(1000.0)
    assert window.due_at() == 1060.0


def test_windows_per_family_each_close_on_their_own_interval():
    windows = TelemetryWindows(WindowPolicy(60), {"system": WindowPolicy(300)})
    windows.add(sample({"rtt_ms": 1.0}, 0.0))
    windows.add(sample({"cpu_percent": 5.0}, 0.0, "system", "host"))
    assert windows.next_due() == 60.0
    assert [b["stream"] for b in windows.due(60.0)] == ["connectivity"]
    assert windows.due(120.0) == []  # connectivity had nothing new; system is not due yet
    assert [b["stream"] for b in windows.close_all(130.0)] == ["system"]


def test_the_config_builds_v2_windows_by_default_and_none_for_v1():
    assert telemetry_windows(ReportingSection(contract="v1")) is None
    windows = telemetry_windows(ReportingSection())
    assert windows.default.report_interval_s == 120.0 and windows.default.heartbeat_s == 900.0


def test_config_overrides_per_family_and_deadbands_over_the_built_in_ones():
    section = ReportingSection(report_interval_s=90, streams={"camera": {"report_interval_s": 600}},
                               deadbands={"system.temperature_c": 0.5, "signal_dbm": 3})
    default, per_family = window_policies(section)
    assert per_family["camera"].report_interval_s == 600 and per_family["camera"].heartbeat_s == 900
    assert default.report_interval_s == 90
    assert default.deadband("system", "temperature_c") == 0.5
    assert default.deadband("wifi.station", "signal_dbm") == 3
    assert default.deadband("system.disk", "free_mb") > 0  # a built-in one still applies


@pytest.mark.parametrize("bad", [{"contract": "v3"}, {"report_interval_s": 0}, {"deadbands": {"x": -1}},
                                 {"deadbands": {"x": math.inf}}, {"deadbands": {"a b": 1}},
                                 {"streams": {"Wifi!": {}}}, {"streams": {"wifi": {"interval": 5}}}])
def test_bad_reporting_settings_are_refused(bad):
    with pytest.raises(ValueError):
        ReportingSection(**bad)


metric = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10 ** 30, max_value=10 ** 30),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))


def test_a_mean_near_the_float_limit_is_not_rounded_up_to_infinity():
    window = StreamWindow("system", WindowPolicy(60, 600))
    window.add(sample({"x": 1.7975000000000001e+308}, 0, "system", "a"))
    body = window.close(60.0)
    assert "Infinity" not in json.dumps(body) and "inf" not in json.dumps(body)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.dictionaries(st.sampled_from(["x", "y", "z"]), metric)),
                max_size=30))
def test_any_samples_give_a_body_the_contract_accepts(samples):
    window = StreamWindow("system", WindowPolicy(60, 600, histogram_fields=frozenset({"x"})))
    for i, (subject, metrics) in enumerate(samples):
        window.add(sample(metrics, i, "system", subject))
    body = window.close(60.0)
    if body is None:
        return
    envelope = {"schema": "edge.telemetry/2", "id": "i", "device_id": "d", "site_id": "s", "agent_version": "0",
                "boot_id": "b", "seq": 1, "ts": 1.0, "mono_ms": 1, "clock_synced": None}
    TelemetryBatch.model_validate_json(json.dumps({**envelope, **body}, allow_nan=False))
