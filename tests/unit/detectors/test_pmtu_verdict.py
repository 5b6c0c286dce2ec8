"""A black-hole verdict stands only on an unloaded path: the reference echo against its recent best."""

from __future__ import annotations

import pytest

from edge_agent.detectors.pmtu_verdict import BASELINE_WINDOW_S, ReferenceRtts, black_hole_judgeable


def test_a_reference_echo_near_its_best_is_judged_and_a_delayed_one_is_not():
    history = ReferenceRtts()
    assert black_hole_judgeable(history, 0.0, 30.0) == (False, "no earlier check of this path to compare with")
    assert black_hole_judgeable(history, 30.0, 10.0)[0]
    assert black_hole_judgeable(history, 60.0, 45.0)[0]  # 3 x 10 + 20 ms: an internet path's jitter
    judgeable, why = black_hole_judgeable(history, 90.0, 60.0)
    assert not judgeable and why.startswith("the path is loaded: the reference echo took 60.0 ms against 10.0 ms")


def test_a_first_check_is_judged_only_when_its_reference_echo_is_quick_in_any_terms():
    assert black_hole_judgeable(ReferenceRtts(), 0.0, 0.3)[0]  # a LAN, or a server nearby
    assert not black_hole_judgeable(ReferenceRtts(), 0.0, 85.0)[0]  # maybe far, maybe queued: the next check says


def test_the_best_is_that_of_the_last_half_hour_so_a_slower_new_route_is_learnt():
    history = ReferenceRtts()
    black_hole_judgeable(history, 0.0, 1.0)
    assert not black_hole_judgeable(history, 100.0, 40.0)[0]  # the route now crosses an ocean
    assert black_hole_judgeable(history, BASELINE_WINDOW_S + 1.0, 41.0)[0]


@pytest.mark.parametrize("rtt", [None, float("nan"), "12", [1]])
def test_an_unknown_or_malformed_round_trip_is_never_judged(rtt):
    history = ReferenceRtts()
    black_hole_judgeable(history, 0.0, 1.0)
    assert black_hole_judgeable(history, 1.0, rtt) == (False, "the reference echo's round trip is unknown")
