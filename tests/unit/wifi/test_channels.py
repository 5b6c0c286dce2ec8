"""Frequency to channel numbering across the 2.4, 5 and 6 GHz bands."""

from __future__ import annotations

import pytest

from edge_agent.wifi.channels import Band, band_for_freq, channel_for_freq, freq_for_channel


@pytest.mark.parametrize(("freq", "channel"), [
    (2412, 1), (2437, 6), (2472, 13), (2484, 14),
    (5180, 36), (5210, 42), (5500, 100), (5825, 165), (5885, 177), (4920, 184),
    (5935, 2), (5955, 1), (6135, 37), (7115, 233),
])
def test_channel_centre_frequencies_map_to_their_channel(freq, channel):
    assert channel_for_freq(freq) == channel


@pytest.mark.parametrize("freq", [2400, 2413, 2477, 2500, 5181, 5930, 7120, 900, 60480])
def test_frequency_that_is_no_channel_centre_has_no_channel(freq):
    assert channel_for_freq(freq) is None


def test_unknown_frequency_has_no_channel():
    assert channel_for_freq(None) is None


@pytest.mark.parametrize(("freq", "band"), [
    (2412, Band.GHZ_2_4), (2484, Band.GHZ_2_4), (5180, Band.GHZ_5), (5885, Band.GHZ_5),
    (5935, Band.GHZ_6), (6135, Band.GHZ_6), (2300, None), (7200, None),
])
def test_frequency_belongs_to_its_band(freq, band):
    assert band_for_freq(freq) is band


@pytest.mark.parametrize("channel, freq_mhz", [(1, 2412), (6, 2437), (13, 2472), (14, 2484), (36, 5180), (149, 5745)])
def test_channel_numbers_map_to_their_centre_frequency_and_back(channel, freq_mhz):
    assert freq_for_channel(channel) == freq_mhz
    assert channel_for_freq(freq_mhz) == channel
