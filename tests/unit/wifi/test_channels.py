"""Frequency to channel numbering across the 2.4, 5 and 6 GHz bands."""

from __future__ import annotations

import pytest

from edge_agent.wifi.channels import (
    CHANNELS,
    PREFERRED_6GHZ,
    WIDTHS_MHZ,
    Band,
    Channel,
    band_for_freq,
    block,
    blocks,
    channel_at,
    channel_for_freq,
    freq_for_channel,
    overlap,
)


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


# --- the band-aware channel plane (issue 19) ---

def every_channel():
    return [Channel(band, number) for band in Band for number in CHANNELS[band]]


def test_6_ghz_frequencies_keep_their_band():
    # measured on the old code: 5955 MHz -> channel 1 -> 2412 MHz
    assert channel_at(5955) == Channel(Band.GHZ_6, 1)
    assert freq_for_channel(Channel(Band.GHZ_6, 1)) == 5955
    assert freq_for_channel(1, Band.GHZ_6) == 5955 and freq_for_channel(1, Band.GHZ_2_4) == 2412


def test_a_number_only_6_ghz_has_is_read_as_6_ghz():
    assert freq_for_channel(233) == 7115  # was 6165


@pytest.mark.parametrize("freq", [5960, 5010, 5940, 2417 + 1, 58320, 60480, 0])
def test_a_frequency_between_centres_is_no_channel(freq):
    assert channel_for_freq(freq) is None
    assert channel_at(freq) is None


@pytest.mark.parametrize(("band", "number"), [
    (Band.GHZ_2_4, 0), (Band.GHZ_2_4, 15), (Band.GHZ_5, 50), (Band.GHZ_5, 68), (Band.GHZ_5, 145), (Band.GHZ_5, 181),
    (Band.GHZ_6, 3), (Band.GHZ_6, 0), (Band.GHZ_6, 237), (Band.GHZ_6, 4),
])
def test_a_number_that_is_no_channel_of_its_band_is_refused(band, number):
    with pytest.raises(ValueError):
        Channel(band, number)
    with pytest.raises(ValueError):
        freq_for_channel(number, band)


@pytest.mark.parametrize("channel", every_channel(), ids=str)
def test_every_channel_round_trips_through_its_frequency(channel):
    assert channel_at(channel.freq_mhz) == channel
    assert band_for_freq(channel.freq_mhz) is channel.band


def test_6_ghz_has_59_channels_of_20_mhz_plus_channel_2_and_15_preferred_scanning_channels():
    assert len(CHANNELS[Band.GHZ_6]) == 60 and Channel(Band.GHZ_6, 2).freq_mhz == 5935
    assert PREFERRED_6GHZ == (5, 21, 37, 53, 69, 85, 101, 117, 133, 149, 165, 181, 197, 213, 229)
    assert Channel(Band.GHZ_6, 37).is_preferred and not Channel(Band.GHZ_6, 33).is_preferred


def centres(band: Band, width: int) -> set[int]:
    return {b.centre_number for c in CHANNELS[band] for b in blocks(Channel(band, c), width)}


def test_bonded_centres_are_those_of_the_operating_classes():
    # IEEE 802.11 Annex E: 5 GHz classes 116-130, 6 GHz classes 132-134 and 137
    assert centres(Band.GHZ_5, 80) == {42, 58, 106, 122, 138, 155, 171}
    assert centres(Band.GHZ_5, 160) == {50, 114, 163}
    assert centres(Band.GHZ_6, 40) == set(range(3, 228, 8))
    assert centres(Band.GHZ_6, 80) == set(range(7, 216, 16))
    assert centres(Band.GHZ_6, 160) == set(range(15, 208, 32))
    assert centres(Band.GHZ_6, 320) == {31, 63, 95, 127, 159, 191}
    assert centres(Band.GHZ_2_4, 80) == set() and centres(Band.GHZ_5, 320) == set()


@pytest.mark.parametrize("channel", every_channel(), ids=str)
def test_every_block_is_its_width_of_adjacent_channels_around_its_centre(channel):
    for width in WIDTHS_MHZ[channel.band]:
        for found in blocks(channel, width):
            freqs = [m.freq_mhz for m in found.members]
            assert channel in found.members
            if channel.band is not Band.GHZ_2_4:
                assert len(freqs) == width // 20 and all(b - a == 20 for a, b in zip(freqs, freqs[1:], strict=False))
            assert found.centre_mhz == (freqs[0] + freqs[-1]) // 2
            assert (found.low_mhz, found.high_mhz) == (found.centre_mhz - width // 2, found.centre_mhz + width // 2)


def test_a_6_ghz_primary_can_be_in_two_320_mhz_channels_and_the_first_set_is_the_default():
    # recorded (iw_info__canonical_checkbox...): "channel 85 (6375 MHz), width: 320 MHz, center1: 6265 MHz"
    assert [b.centre_mhz for b in blocks(Channel(Band.GHZ_6, 85), 320)] == [6425, 6265]
    assert block(Channel(Band.GHZ_6, 85), 320, centre_number=63).centre_mhz == 6265
    assert block(Channel(Band.GHZ_6, 205), 320).centre_number == 191  # only the second set reaches 205


def test_transmissions_in_different_bands_never_overlap():
    assert overlap(block(Channel(Band.GHZ_2_4, 1), 20), block(Channel(Band.GHZ_6, 1), 20)) == 0.0


def test_2_4_ghz_neighbours_share_air_four_channels_apart_and_5_ghz_neighbours_do_not():
    def at(band, number, width=20):
        return block(Channel(band, number), width)

    assert overlap(at(Band.GHZ_2_4, 3), at(Band.GHZ_2_4, 1)) == pytest.approx(0.6)
    assert overlap(at(Band.GHZ_2_4, 6), at(Band.GHZ_2_4, 11)) == 0.0
    assert overlap(at(Band.GHZ_5, 36), at(Band.GHZ_5, 40)) == 0.0
    # a 20 MHz neighbour inside our 80 MHz channel takes all of its own spectrum from us
    assert overlap(at(Band.GHZ_5, 36, 80), at(Band.GHZ_5, 44)) == 1.0
    assert overlap(at(Band.GHZ_6, 37, 160), at(Band.GHZ_6, 69, 80)) == 0.0
