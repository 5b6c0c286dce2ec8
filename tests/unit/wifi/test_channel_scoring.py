"""Channel scores from constructed survey and scan data, and the decision to move (or, mostly, not to)."""

from __future__ import annotations

import pytest

from edge_agent.wifi.channel_scoring import (
    ChannelSurvey,
    Neighbour,
    candidates,
    decide,
    interference,
    neighbour_load,
    overlap,
    score_channels,
    surveys_from_deltas,
)
from edge_agent.wifi.channels import Band, Channel
from edge_agent.wifi.iw import SurveyEntry

ALL_24 = list(range(1, 14))


def numbers(channels: list[Channel]) -> list[int]:
    return [c.number for c in channels]


def survey(channel: int, busy_pct: float, noise: float = -95.0, transmit_ms: int | None = None) -> ChannelSurvey:
    return ChannelSurvey(channel, active_ms=1000, busy_ms=int(busy_pct * 10), transmit_ms=transmit_ms,
                         noise_dbm=noise)


def test_our_own_transmissions_are_not_counted_as_interference():
    assert interference(ChannelSurvey(6, 1000, 600, transmit_ms=500, noise_dbm=None), None) == pytest.approx(0.2)


def test_a_noise_floor_6_db_above_the_quietest_channel_counts_four_times():
    assert interference(survey(6, 10, noise=-89.0), -95.0) == pytest.approx(0.4)


def test_counters_that_cannot_be_true_give_no_interference():
    assert interference(ChannelSurvey(6, 1000, 1200), None) is None
    assert interference(ChannelSurvey(6, 0, 0), None) is None


def test_2_4_ghz_neighbours_overlap_within_four_channels():
    assert [overlap(6, c) for c in (6, 7, 9, 10, 11)] == pytest.approx([1.0, 0.8, 0.4, 0.2, 0.0])
    assert overlap(36, 40) == 0.0 and overlap(36, 36) == 1.0


def test_loud_neighbours_weigh_more_than_faint_ones():
    assert neighbour_load(6, [Neighbour(6, -45.0)]) == 1.0
    assert neighbour_load(6, [Neighbour(6, -95.0)]) == 0.0
    assert neighbour_load(6, [Neighbour(6, -70.0)]) == pytest.approx(0.5)


def test_2_4_ghz_candidates_are_the_non_overlapping_channels_and_dfs_needs_permission():
    assert numbers(candidates(ALL_24, Band.GHZ_2_4, allow_dfs=False)) == [1, 6, 11]
    assert numbers(candidates([36, 52, 100, 149], Band.GHZ_5, allow_dfs=False)) == [36, 149]
    assert numbers(candidates([36, 52, 100, 149], Band.GHZ_5, allow_dfs=True)) == [36, 52, 100, 149]


def test_the_quiet_channel_wins_and_neighbours_break_a_near_tie():
    scores = score_channels(
        [survey(1, 12), survey(6, 70), survey(11, 12)],
        [Neighbour(11, -50.0), Neighbour(10, -60.0)],
        [1, 6, 11],
    )
    assert [s.channel for s in scores] == [1, 11, 6]


def test_an_unmeasured_channel_is_never_preferred_over_measured_ones_on_neighbours_alone():
    scores = score_channels([survey(1, 30), survey(6, 80)], [], [1, 6, 11])
    assert scores[0].channel == 1
    assert next(s for s in scores if s.channel == 11).score == pytest.approx(0.8)


def test_exact_ties_prefer_the_lower_channel():
    assert [s.channel for s in score_channels([survey(1, 20), survey(11, 20)], [], [11, 1])] == [1, 11]


def test_decide_moves_to_a_clearly_better_channel():
    scores = score_channels([survey(1, 10), survey(6, 75), survey(11, 40)], [], [1, 6, 11])
    decision = decide(scores, current=6, seconds_since_last_switch=None, min_dwell_s=600)
    assert decision.target == 1 and "0.10" in decision.reason and "0.75" in decision.reason


def test_decide_stays_when_the_best_is_only_a_little_better():
    scores = score_channels([survey(1, 30), survey(6, 36)], [], [1, 6])
    assert decide(scores, current=6, seconds_since_last_switch=None, min_dwell_s=600).target is None


def test_decide_stays_within_the_minimum_dwell_even_when_another_channel_is_much_better():
    scores = score_channels([survey(1, 5), survey(6, 90)], [], [1, 6])
    decision = decide(scores, current=6, seconds_since_last_switch=120, min_dwell_s=600)
    assert decision.target is None and "dwell" in decision.reason


def test_decide_leaves_a_channel_that_is_not_allowed_at_once():
    scores = score_channels([survey(1, 50), survey(11, 40)], [], [1, 11])
    assert decide(scores, current=13, seconds_since_last_switch=10, min_dwell_s=600).target == 11


def test_interference_oscillating_between_two_channels_switches_at_most_once_per_dwell():
    """Every 60 s the interferer jumps between channel 1 and channel 6 for an hour; dwell is 15 minutes."""
    dwell_s, current, last_switch, switches = 900.0, 6, None, []
    for minute in range(60):
        noisy = 6 if minute % 2 == 0 else 1
        surveys = [survey(c, 85 if c == noisy else 10) for c in (1, 6, 11)]
        now = minute * 60.0
        since = None if last_switch is None else now - last_switch
        decision = decide(score_channels(surveys, [], [1, 6, 11]), current, since, dwell_s)
        if decision.target is not None:
            switches.append(now)
            current, last_switch = decision.target, now
    gaps = [b - a for a, b in zip(switches, switches[1:], strict=False)]
    assert switches and all(gap >= dwell_s for gap in gaps)
    assert len(switches) <= 60 * 60 / dwell_s + 1


def entry(freq: int, active: int | None, busy: int | None, transmit: int | None = None) -> SurveyEntry:
    return SurveyEntry(freq_mhz=freq, channel=None, in_use=False, noise_dbm=-92.0, active_ms=active, busy_ms=busy,
                       receive_ms=None, transmit_ms=transmit)


def test_survey_deltas_become_channel_surveys_and_a_counter_reset_is_left_out():
    pairs = [
        (entry(2412, 1000, 100), entry(2412, 2000, 400)),      # channel 1: 300 of 1000 ms
        (entry(2437, 50_000, 9_000), entry(2437, 1_000, 100)),  # channel 6: driver reset, counters went back
        (entry(2462, 1000, None), entry(2462, 2000, None)),    # channel 11: no busy counter
    ]
    [only] = surveys_from_deltas(pairs)
    assert (only.channel, only.active_ms, only.busy_ms, only.noise_dbm) == (1, 1000, 300, -92.0)


# --- bands (issue 19) ---

def test_2_4_and_6_ghz_surveys_of_channel_1_stay_two_channels():
    # measured on the old code: 2412 and 5955 both became ChannelSurvey(channel=1) and one was lost
    surveys = surveys_from_deltas([
        (entry(2412, 1000, 0), entry(2412, 2000, 100)),   # 2.4 GHz channel 1: 10 % busy
        (entry(5955, 1000, 0), entry(5955, 2000, 900)),   # 6 GHz channel 1: 90 % busy
    ])
    assert {(s.band, s.channel) for s in surveys} == {(Band.GHZ_2_4, 1), (Band.GHZ_6, 1)}
    [score] = score_channels(surveys, [], [Channel(Band.GHZ_2_4, 1)])
    assert score.interference == pytest.approx(0.1)


def test_a_6_ghz_neighbour_adds_no_load_to_a_2_4_ghz_channel():
    loud_6ghz = Neighbour(1, -45.0, Band.GHZ_6)
    assert neighbour_load(Channel(Band.GHZ_2_4, 1), [loud_6ghz]) == 0.0
    assert neighbour_load(Channel(Band.GHZ_6, 1), [loud_6ghz]) == 1.0
    assert overlap(Channel(Band.GHZ_2_4, 3), Channel(Band.GHZ_2_4, 1)) == pytest.approx(0.6)
    assert overlap(Channel(Band.GHZ_2_4, 1), Channel(Band.GHZ_6, 1)) == 0.0


def test_a_wide_neighbour_loads_every_channel_it_covers():
    wide = Neighbour(37, -45.0, Band.GHZ_6, width_mhz=160)  # 33-61
    assert [neighbour_load(Channel(Band.GHZ_6, c), [wide]) for c in (29, 33, 61, 65)] == [0.0, 1.0, 1.0, 0.0]


def test_6_ghz_candidates_are_preferred_scanning_channels_that_hold_the_width():
    every = list(range(1, 234, 4))
    assert numbers(candidates(every, Band.GHZ_6, allow_dfs=False)) == list(range(5, 234, 16))
    # 229 holds no 80 MHz channel (the last is 209-221) and no 320 MHz one (the last is 161-221)
    assert 229 not in numbers(candidates(every, Band.GHZ_6, allow_dfs=False, width_mhz=80))
    assert numbers(candidates(every, Band.GHZ_6, allow_dfs=False, width_mhz=320)) == \
        [5, 21, 37, 53, 69, 85, 101, 117, 133, 149, 165, 181, 197, 213]


def test_5_ghz_candidates_at_160_mhz_leave_out_channels_without_a_160_mhz_block():
    every = [*range(36, 65, 4), *range(100, 145, 4), *range(149, 178, 4)]
    chosen = numbers(candidates(every, Band.GHZ_5, allow_dfs=True, width_mhz=160))
    assert 140 not in chosen and 144 not in chosen and 36 in chosen and 165 in chosen


def test_candidates_of_another_band_are_left_out():
    assert candidates([Channel(Band.GHZ_2_4, 6), Channel(Band.GHZ_6, 37)], Band.GHZ_6, allow_dfs=False) == \
        [Channel(Band.GHZ_6, 37)]


def test_a_wide_channel_is_as_busy_as_its_busiest_member():
    surveys = [ChannelSurvey(c, 1000, busy, band=Band.GHZ_5) for c, busy in ((36, 100), (40, 100), (44, 700),
                                                                              (48, 100), (149, 200), (153, 200),
                                                                              (157, 200), (161, 200))]
    scores = score_channels(surveys, [], [Channel(Band.GHZ_5, 36), Channel(Band.GHZ_5, 149)], width_mhz=80)
    assert [(s.channel, s.interference) for s in scores] == [(149, pytest.approx(0.2)), (36, pytest.approx(0.7))]


def test_noise_floors_are_compared_within_a_band_only():
    # a quiet 6 GHz floor must not make every 2.4 GHz channel look noisy
    surveys = [ChannelSurvey(1, 1000, 100, noise_dbm=-90.0, band=Band.GHZ_2_4),
               ChannelSurvey(6, 1000, 100, noise_dbm=-90.0, band=Band.GHZ_2_4),
               ChannelSurvey(37, 1000, 100, noise_dbm=-102.0, band=Band.GHZ_6)]
    scores = score_channels(surveys, [], [1, 6])
    assert [s.interference for s in scores] == [pytest.approx(0.1), pytest.approx(0.1)]


def test_scores_and_decisions_carry_the_band():
    scores = score_channels([ChannelSurvey(37, 1000, 800, band=Band.GHZ_6),
                             ChannelSurvey(53, 1000, 100, band=Band.GHZ_6)], [],
                            [Channel(Band.GHZ_6, 37), Channel(Band.GHZ_6, 53)])
    decision = decide(scores, Channel(Band.GHZ_6, 37), None, 0)
    assert (decision.target, decision.band) == (53, Band.GHZ_6)
    assert scores[0].to_dict()["band"] == "6GHz"
