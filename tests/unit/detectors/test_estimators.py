"""Loss rates with a confidence bound, and the robust baseline that learns only healthy rounds."""

from __future__ import annotations

import random

import pytest

from edge_agent.detectors.estimators import LossWindow, RobustBaseline, wilson_interval, z_for

Z95 = z_for(0.95)


def test_the_one_sided_95_percent_quantile():
    assert z_for(0.95) == pytest.approx(1.645, abs=1e-3)


@pytest.mark.parametrize("confidence", [0.5, 1.0, 1.5])
def test_a_confidence_outside_the_open_interval_is_refused(confidence):
    with pytest.raises(ValueError, match="confidence"):
        z_for(confidence)


def test_no_loss_in_few_probes_is_not_proof_of_a_clean_line():
    low, high = wilson_interval(0, 5, Z95)
    assert low == 0 and high > 0.3


def test_the_interval_narrows_around_the_rate_with_more_probes():
    narrow, wide = wilson_interval(15, 100, Z95), wilson_interval(3, 20, Z95)
    assert wide[0] < narrow[0] < 0.15 < narrow[1] < wide[1]


def test_no_trials_say_nothing():
    assert wilson_interval(0, 0, Z95) == (0.0, 1.0)


def window(size: int = 100, recent: int = 40, min_probes: int = 10) -> LossWindow:
    return LossWindow(size, recent, min_probes)


def test_one_unlucky_round_of_five_decides_nothing():
    loss = window()
    loss.add(5, 1)
    assert loss.verdict(0.10, Z95).above is None


def test_heavy_loss_is_called_within_three_rounds():
    loss = window()
    for lost in (3, 2, 2):
        assert loss.verdict(0.10, Z95).above is not True
        loss.add(5, lost)
    assert loss.verdict(0.10, Z95).above is True


def test_one_burst_round_in_a_clean_line_is_not_a_lossy_line():
    loss = window()
    for _ in range(12):
        loss.add(5, 0)
    loss.add(5, 5)
    verdicts = []
    for _ in range(12):
        loss.add(5, 0)
        verdicts.append(loss.verdict(0.10, Z95).above)
    assert True not in verdicts


def test_the_onset_of_loss_shows_before_the_clean_rounds_leave_the_window():
    loss = window()
    for _ in range(20):
        loss.add(5, 0)
    verdicts = []
    for _ in range(5):
        loss.add(5, 2)
        verdicts.append(loss.verdict(0.10, Z95).above)
    assert True in verdicts[:4]


def test_a_clean_line_is_called_clean_once_enough_probes_say_so():
    loss = window()
    verdicts = []
    for _ in range(6):
        loss.add(5, 0)
        verdicts.append(loss.verdict(0.10, Z95).above)
    assert verdicts[:2] == [None, None] and verdicts[-1] is False


@pytest.mark.parametrize("seed", range(6))
def test_loss_just_over_the_limit_is_called_and_never_looks_clean_long_enough_to_resolve(seed):
    # 15 % random loss against a 10 % limit for two minutes: the measured storm of 14 opens and 15 resolves.
    rng = random.Random(seed)
    loss = window()
    verdicts = ""
    for _ in range(120):
        loss.add(5, sum(rng.random() < 0.15 for _ in range(5)))
        verdicts += {True: "T", False: "F", None: "-"}[loss.verdict(0.10, Z95).above]
    assert "T" in verdicts[:35]
    assert "FFF" not in verdicts[10:]


def test_loss_well_under_the_limit_is_never_called_above():
    rng = random.Random(4)
    loss = window()
    for _ in range(500):
        loss.add(5, sum(rng.random() < 0.02 for _ in range(5)))
        assert loss.verdict(0.10, Z95).above is not True


def test_the_recent_probes_alone_give_the_all_clear_after_a_repair():
    loss = window()
    for _ in range(20):
        loss.add(5, 2)
    for _ in range(8):
        loss.add(5, 0)
    verdict = loss.verdict(0.10, Z95)
    assert verdict.above is False and verdict.rate_pct > 10  # the window still holds the lossy rounds


def test_the_window_keeps_whole_rounds_up_to_its_size():
    loss = window(size=20)
    for _ in range(10):
        loss.add(5, 1)
    assert loss.counts() == (4, 20)


def test_the_baseline_learns_rounds_only_after_their_quarantine():
    baseline = RobustBaseline(keep=50, delay=3, warmup=5, floor=0.0)
    for value in (2.0, 2.0, 2.0):
        baseline.offer(value, suspicious=False)
    assert baseline.rounds == 0


def test_suspicion_throws_the_quarantined_rounds_away():
    baseline = RobustBaseline(keep=50, delay=3, warmup=2, floor=0.0)
    for _ in range(10):
        baseline.offer(2.0, suspicious=False)
    for value in (40.0, 60.0):  # the fault's first rounds, before anything is noticed
        baseline.offer(value, suspicious=False)
    baseline.offer(80.0, suspicious=True)
    for _ in range(3):
        baseline.offer(2.0, suspicious=False)
    assert baseline.median() == 2.0 and max(baseline._values) == 2.0


def test_the_level_never_drops_below_the_floor_and_the_median_is_what_was_measured():
    baseline = RobustBaseline(keep=50, delay=0, warmup=1, floor=1.0)
    for _ in range(5):
        baseline.offer(0.04, suspicious=False)
    assert baseline.median() == 0.04 and baseline.level() == 1.0


def test_the_spread_is_robust_to_a_few_outliers():
    baseline = RobustBaseline(keep=50, delay=0, warmup=1, floor=0.0)
    for value in [2.0, 2.1, 1.9, 2.0, 2.2, 1.8, 2.0, 250.0]:
        baseline.offer(value, suspicious=False)
    assert baseline.median() == pytest.approx(2.0) and baseline.mad() < 0.5
