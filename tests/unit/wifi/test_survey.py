"""Channel load from two survey readings: a ratio in [0, 1] or None, never a negative or >100 % busy ratio."""

from __future__ import annotations

from dataclasses import replace

import pytest

from edge_agent.wifi.iw import SurveyEntry, parse_survey_dump
from edge_agent.wifi.survey import channel_load

from .samples import sample

BEFORE = SurveyEntry(freq_mhz=2437, channel=6, in_use=True, noise_dbm=-90.0, active_ms=10_000, busy_ms=4_000,
                     receive_ms=3_000, transmit_ms=500)


def later(**counters: int | None) -> SurveyEntry:
    return replace(BEFORE, **counters)


def test_busy_ratio_is_busy_delta_over_active_delta():
    load = channel_load(BEFORE, later(active_ms=12_000, busy_ms=4_500, receive_ms=3_300, transmit_ms=600))
    assert (load.freq_mhz, load.active_ms) == (2437, 2_000)
    assert (load.busy_ratio, load.receive_ratio, load.transmit_ratio) == (0.25, 0.15, 0.05)


def test_load_between_two_readings_of_the_openwrt_sample_channel():
    in_use = parse_survey_dump(sample("iw_survey_dump__openwrt_openwrt_issue17489.txt")).in_use
    after = replace(in_use, active_ms=in_use.active_ms + 1_000, busy_ms=in_use.busy_ms + 400,
                    receive_ms=in_use.receive_ms + 300, transmit_ms=in_use.transmit_ms + 100)
    load = channel_load(in_use, after)
    assert (load.busy_ratio, load.receive_ratio, load.transmit_ratio) == (0.4, 0.3, 0.1)


def test_fully_busy_channel_is_ratio_one():
    assert channel_load(BEFORE, later(active_ms=11_000, busy_ms=5_000)).busy_ratio == 1.0


def test_idle_channel_is_ratio_zero():
    assert channel_load(BEFORE, later(active_ms=11_000)).busy_ratio == 0.0


def test_active_time_going_backwards_gives_no_ratio():
    # The driver reset its counters (channel switch, firmware restart) between the readings.
    assert channel_load(BEFORE, later(active_ms=500, busy_ms=100)) is None


def test_busy_time_going_backwards_gives_no_ratio():
    assert channel_load(BEFORE, later(active_ms=12_000, busy_ms=3_000)) is None


def test_busy_advancing_more_than_active_gives_no_ratio():
    assert channel_load(BEFORE, later(active_ms=11_000, busy_ms=5_001)) is None


def test_active_time_not_advancing_gives_no_ratio():
    assert channel_load(BEFORE, later()) is None


@pytest.mark.parametrize("missing", ["active_ms", "busy_ms"])
def test_missing_counter_gives_no_ratio(missing):
    counters = {"active_ms": 12_000, "busy_ms": 4_500, missing: None}
    assert channel_load(BEFORE, later(**counters)) is None


def test_readings_of_different_channels_give_no_ratio():
    assert channel_load(BEFORE, replace(BEFORE, freq_mhz=2412, active_ms=12_000)) is None


def test_readings_without_frequency_give_no_ratio():
    unknown = replace(BEFORE, freq_mhz=None)
    assert channel_load(unknown, replace(unknown, active_ms=12_000)) is None


def test_driver_without_receive_time_gives_busy_but_no_receive_ratio():
    # p54 counts active, busy and transmit time only.
    p54 = parse_survey_dump(sample("iw_survey_dump__linux_p54_commit_0d78156e.txt")).in_use
    load = channel_load(p54, replace(p54, active_ms=p54.active_ms + 1_000, busy_ms=p54.busy_ms + 100,
                                     transmit_ms=p54.transmit_ms + 50))
    assert (load.busy_ratio, load.receive_ratio, load.transmit_ratio) == (0.1, None, 0.05)


def test_receive_time_going_backwards_drops_only_the_receive_ratio():
    load = channel_load(BEFORE, later(active_ms=12_000, busy_ms=4_500, receive_ms=100, transmit_ms=600))
    assert (load.busy_ratio, load.receive_ratio, load.transmit_ratio) == (0.25, None, 0.05)


def test_transmit_advancing_more_than_active_drops_only_the_transmit_ratio():
    load = channel_load(BEFORE, later(active_ms=12_000, busy_ms=4_500, transmit_ms=5_000))
    assert (load.busy_ratio, load.transmit_ratio) == (0.25, None)


def test_survey_without_counters_gives_no_ratio():
    no_counters = parse_survey_dump(sample("iw_survey_dump__greearb_ath10k-ct_issue8_no-counters.txt")).in_use
    assert channel_load(no_counters, no_counters) is None
