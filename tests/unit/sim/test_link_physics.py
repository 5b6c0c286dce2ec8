"""Generated metric windows: repeatable, balanced, and each fault moves the metrics physics says it should."""

from __future__ import annotations

import numpy as np

from edge_agent.ml.window_features import FEATURE_NAMES
from edge_agent.sim.link_physics import LABELS, generate_windows, phy_rate_for_signal, retry_share_for_signal


def column(windows, name):
    return windows[..., FEATURE_NAMES.index(name)]


def test_the_same_seed_gives_the_same_windows_and_another_seed_others():
    a, la = generate_windows(20, 30, seed=1)
    b, lb = generate_windows(20, 30, seed=1)
    c, _ = generate_windows(20, 30, seed=2)
    assert np.array_equal(a, b, equal_nan=True) and np.array_equal(la, lb)
    assert not np.array_equal(a, c, equal_nan=True)


def test_labels_are_balanced():
    _, labels = generate_windows(50, 30, seed=3)
    assert np.bincount(labels).tolist() == [10] * len(LABELS)


def test_each_fault_moves_its_own_metrics_at_the_end_of_the_window():
    windows, labels = generate_windows(500, 30, seed=4)
    last = windows[:, -6:]

    def mean(label, name):
        return np.nanmean(column(last[labels == LABELS.index(label)], name))

    assert mean("interference", "busy_ratio") > mean("healthy", "busy_ratio") + 0.25
    assert mean("interference", "noise_dbm") > mean("healthy", "noise_dbm") + 8
    assert mean("weak_signal", "signal_dbm") < -70 < mean("healthy", "signal_dbm")
    assert mean("uplink_degradation", "rtt_ms") > 10 * mean("healthy", "rtt_ms")
    assert mean("dns_trouble", "dns_ms") > 200 > mean("healthy", "dns_ms")


def test_a_weaker_signal_means_more_retries_and_a_lower_rate():
    assert retry_share_for_signal(-85.0) > retry_share_for_signal(-50.0)
    assert phy_rate_for_signal(-85.0) < phy_rate_for_signal(-50.0)
