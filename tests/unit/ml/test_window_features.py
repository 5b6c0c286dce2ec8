"""Probe rounds → the window classifier's input: the weakest station, failures as timeouts, gaps filled."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.ml.window_features import (
    DNS_TIMEOUT_MS,
    FEATURE_NAMES,
    FEATURES,
    UNREACHABLE_RTT_MS,
    fill_gaps,
    round_row,
    window_array,
)

RADIO = {"noise_dbm": -92.0, "busy_ratio": 0.2}
GATEWAY = {"sent": 5, "received": 5, "rtt_ms": 1.5, "loss_pct": 0.0}
DNS_OK = {"ok": True, "latency_ms": 12.0, "rcode": "NOERROR"}


def feature(row, name):
    return row[FEATURE_NAMES.index(name)]


def test_the_row_describes_the_weakest_station_and_the_worst_retry_ratio():
    stations = [{"signal_dbm": -45.0, "tx_bitrate_mbps": 300.0, "retry_ratio": 0.4},
                {"signal_dbm": -70.0, "tx_bitrate_mbps": 60.0, "retry_ratio": 0.1}]
    row = round_row(RADIO, stations, GATEWAY, DNS_OK)
    assert feature(row, "signal_dbm") == -70.0
    assert feature(row, "bitrate_mbps") == 60.0
    assert feature(row, "retry_ratio") == 0.4


def test_a_failed_lookup_counts_as_the_timeout_and_an_unanswered_gateway_as_unreachable():
    row = round_row(RADIO, [], {"sent": 5, "received": 0, "loss_pct": 100.0, "rtt_ms": None},
                    {"ok": False, "latency_ms": None, "rcode": "timeout"})
    assert feature(row, "dns_ms") == DNS_TIMEOUT_MS
    assert feature(row, "rtt_ms") == UNREACHABLE_RTT_MS
    assert feature(row, "loss_pct") == 100.0


def test_unmeasured_values_are_none_not_zero():
    row = round_row(None, [], None, None)
    assert row == [None] * len(FEATURES)


def test_a_gap_takes_the_last_value_before_it_else_the_first_after_it():
    raw = np.full((4, len(FEATURES)), np.nan)
    raw[1, 0], raw[3, 0] = -60.0, -70.0
    filled = fill_gaps(raw)
    assert filled[:, 0].tolist() == [-60.0, -60.0, -60.0, -70.0]


def test_a_feature_never_measured_in_the_window_takes_its_healthy_default():
    filled = fill_gaps(np.full((3, len(FEATURES)), np.nan))
    assert filled[:, 1].tolist() == [FEATURES[1].healthy_default] * 3


def test_scaled_values_are_clipped_so_one_wild_reading_cannot_dominate():
    rows = [[-60.0, -95.0, 0.1, 0.05, 150.0, 1e9, 0.0, 20.0]] * 2
    window = window_array(rows)
    assert window.dtype == np.float32 and window.shape == (2, len(FEATURES))
    assert window.max() == pytest.approx(4.0)


def test_rows_of_the_wrong_width_are_refused_naming_the_features():
    with pytest.raises(ValueError, match="signal_dbm"):
        window_array([[1.0, 2.0]])
