"""Probe rounds at any interval → the window classifier's time grid: the window spans seconds, not rounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.ml.window_features import FEATURE_NAMES, fill_gaps
from edge_agent.ml.window_resample import WindowGrid, connectivity_coverage, resample

GRID = WindowGrid(150.0, 30)
RTT = FEATURE_NAMES.index("rtt_ms")
LOSS = FEATURE_NAMES.index("loss_pct")
DNS = FEATURE_NAMES.index("dns_ms")
WIDTH = len(FEATURE_NAMES)


def rounds(interval: float, end: float = 1000.0, span: float = 400.0, jitter: float = 0.0, seed: int = 0):
    """Round times from end - span to end, `interval` apart (± jitter), and rows whose RTT steps from 2 ms to
    200 ms at end - 102.5 s (mid-slot, so no round sits on a slot edge)."""
    rng = np.random.default_rng(seed)
    times, t = [], end
    while t > end - span:
        times.append(t)
        t -= interval * (1 + rng.uniform(-jitter, jitter))
    times = np.array(times[::-1])
    rows = np.full((len(times), WIDTH), np.nan)
    rows[:, RTT] = np.where(times > end - 102.5, 200.0, 2.0)
    rows[:, LOSS] = 0.0
    return times, rows


@pytest.mark.parametrize("interval", [1.0, 2.0, 5.0, 10.0, 7.3])
def test_the_window_covers_the_same_seconds_at_any_probe_interval(interval):
    times, rows = rounds(interval)
    window = fill_gaps(resample(times, rows, times[-1], GRID))
    assert window.shape == (30, WIDTH)
    # The step sits 102.5 s before the end: slots 0-9 (150-100 s ago) before it, slots 10-29 after.
    assert window[:9, RTT].tolist() == [2.0] * 9
    assert window[10:, RTT].tolist() == [200.0] * 20


def test_at_one_second_the_window_is_150_rounds_not_the_last_30():
    times, rows = rounds(1.0)
    window = resample(times, rows, times[-1], GRID)
    assert not np.isnan(window[:, RTT]).any()
    assert window[0, RTT] == 2.0  # 150 s back, before the step; the last 30 rounds would all be 200 ms


@pytest.mark.parametrize("jitter", [0.1, 0.3])
def test_jittered_intervals_give_the_same_window_as_regular_ones(jitter):
    regular = fill_gaps(resample(*rounds(5.0)[:2], 1000.0, GRID))
    times, rows = rounds(5.0, jitter=jitter, seed=3)
    jittered = fill_gaps(resample(times, rows, times[-1], GRID))
    assert np.count_nonzero(jittered[:, RTT] != regular[:, RTT]) <= 1  # at most the slot holding the step


def test_a_slot_is_the_mean_of_its_rounds_and_ignores_unmeasured_values():
    times = [996.0, 997.0, 998.0, 999.0, 1000.0]
    rows = np.full((5, WIDTH), np.nan)
    rows[:, LOSS] = [0.0, 0.0, 20.0, 0.0, np.nan]
    window = resample(times, rows, 1000.0, GRID)
    assert window[-1, LOSS] == pytest.approx(5.0)
    assert np.isnan(window[-1, DNS]) and np.isnan(window[:-1]).all()


def test_rounds_outside_the_window_are_ignored_and_order_does_not_matter():
    times = [1000.0, 700.0, 850.0, 1100.0]  # 850 is exactly 150 s back: outside (the window is (850, 1000])
    rows = np.full((4, WIDTH), np.nan)
    rows[:, RTT] = [3.0, 500.0, 600.0, 700.0]
    window = resample(times, rows, 1000.0, GRID)
    assert window[-1, RTT] == 3.0 and np.isnan(window[:-1, RTT]).all()


def test_a_gap_in_the_rounds_is_carried_over_and_lowers_the_coverage():
    times, rows = rounds(2.0)
    keep = (times <= 900.0) | (times > 960.0)  # the agent stalled for 60 s
    window = resample(times[keep], rows[keep], times[-1], GRID)
    # The window is (850, 1000]: slots 10-21 cover the stall, (900, 960].
    assert np.isnan(window[10:22, RTT]).all() and not np.isnan(window[[9, 22], RTT]).any()
    assert not np.isnan(fill_gaps(window)).any()
    assert connectivity_coverage(window, GRID, max_gap_s=30.0) == pytest.approx(24 / 30)
    assert connectivity_coverage(window, GRID, max_gap_s=60.0) == 1.0


@pytest.mark.parametrize("interval", [1.0, 10.0, 20.0])
def test_regular_probes_cover_the_whole_window(interval):
    times, rows = rounds(interval)
    assert connectivity_coverage(resample(times, rows, times[-1], GRID), GRID, max_gap_s=30.0) == 1.0


def test_nothing_measured_covers_nothing():
    assert connectivity_coverage(resample([], [], 0.0, GRID), GRID, max_gap_s=30.0) == 0.0


def test_the_first_slots_count_as_covered_by_a_round_just_before_the_window():
    times, rows = rounds(10.0)  # rounds at ..., 850, 860: the first 5 s slot (850, 855] has none
    window = resample(times, rows, times[-1], GRID)
    assert np.isnan(window[0, RTT])
    assert connectivity_coverage(window, GRID, max_gap_s=30.0) == 1.0


def test_bad_input_is_refused_with_what_is_wrong():
    with pytest.raises(ValueError, match="2 rows but 1 times"):
        resample([1.0], np.zeros((2, WIDTH)), 1.0, GRID)
    with pytest.raises(ValueError, match="finite"):
        resample([float("nan")], np.zeros((1, WIDTH)), 1.0, GRID)
    with pytest.raises(ValueError, match="signal_dbm"):
        resample([1.0], [[1.0, 2.0]], 1.0, GRID)
    with pytest.raises(ValueError, match="positive span"):
        WindowGrid(0.0, 30)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 300.0), st.floats(-1e3, 1e3)), min_size=1, max_size=80))
def test_every_round_in_the_window_lands_in_exactly_one_slot(stamped):
    times = np.array([t for t, _ in stamped])
    rows = np.ones((len(times), WIDTH))
    rows[:, RTT] = [v for _, v in stamped]
    end = 250.0
    window = resample(times, rows, end, GRID)
    inside = (times > end - GRID.window_s) & (times <= end)
    filled = ~np.isnan(window[:, LOSS])
    assert np.nansum(window[:, LOSS]) == filled.sum()  # a slot's mean of ones is one
    slots = np.clip(np.ceil((times[inside] - (end - GRID.window_s)) / GRID.slot_s) - 1, 0, 29).astype(int)
    assert set(np.flatnonzero(filled)) == set(slots.tolist())
    for slot in set(slots.tolist()):
        assert window[slot, RTT] == pytest.approx(rows[inside, RTT][slots == slot].mean())
