"""The shared range checks: which dBm readings and frequencies are possible, and the note for those that are not."""

from __future__ import annotations

import pytest

from edge_agent.wifi.fields import checked_count, checked_freq, checked_level, checked_noise, checked_rate, width_mhz


@pytest.mark.parametrize("level", [-120.0, -95.0, -1.0])
def test_levels_from_minus_120_to_just_below_0_dbm_are_kept(level):
    notes: list[str] = []
    assert checked_level(level, "signal", notes) == level
    assert notes == []


@pytest.mark.parametrize(("level", "note"), [
    (0.0, "signal 0 dBm is not a reading: drivers report 0 when they measured nothing"),
    (5.0, "signal 5 dBm is impossible: a level received over the air is below 0 dBm"),
    (-121.0, "signal -121 dBm is below -120 dBm, where no Wi-Fi radio can hear"),
    (-256.0, "signal -256 dBm is the driver's 'not available' (a missing level as /proc/net/wireless prints it)"),
    (9999.0, "signal 9999 dBm is wpa_supplicant's 'not available' (the driver reported no value)"),
])
def test_impossible_levels_are_dropped_with_the_reason(level, note):
    notes: list[str] = []
    assert checked_level(level, "signal", notes) is None
    assert notes == [note]


@pytest.mark.parametrize(("text", "freq"), [("2437", 2437), ("2437.0", 2437), ("5180 MHz [in use]", 5180)])
def test_frequency_text_is_read_as_whole_mhz(text, freq):
    assert checked_freq(text, "freq", []) == freq


@pytest.mark.parametrize("text", ["2399", "7201", "N/A", "2437.5"])
def test_frequency_outside_the_bands_or_unreadable_is_dropped_with_a_note(text):
    notes: list[str] = []
    assert checked_freq(text, "freq", notes) is None
    assert len(notes) == 1


def test_negative_counter_is_dropped_with_a_note():
    notes: list[str] = []
    assert checked_count("-5 ms", "busy time", notes) is None
    assert notes == ["busy time -5 is negative, which a counter cannot be"]


def test_64_bit_counter_keeps_every_digit():
    assert checked_count("18446744073577465064 us", "Toffset", []) == 18446744073577465064


@pytest.mark.parametrize(("text", "width"), [
    ("20 MHz (no HT)", 20), ("40 MHz", 40), ("80+80 MHz", 160), ("80+80 or 160 MHz", 160), ("320 MHz", 320),
    ("unknown", None),
])
def test_width_text_is_read_as_occupied_mhz(text, width):
    assert width_mhz(text) == width


@pytest.mark.parametrize("noise", [-120.0, -95.0, -60.0, -40.0])
def test_plausible_noise_floors_are_kept(noise):
    assert checked_noise(noise, "noise", []) == noise


@pytest.mark.parametrize("noise", [-9.0, -39.0, -121.0, 0.0, -256.0])
def test_a_noise_floor_outside_its_range_is_invalid_with_a_note(noise):
    notes: list[str] = []
    assert checked_noise(noise, "noise", notes) is None and notes


def test_a_rate_above_the_fastest_wifi_rate_is_invalid_and_real_eht_rates_are_kept():
    notes: list[str] = []
    assert checked_rate(4803.8, "tx bitrate", notes) == 4803.8  # 320 MHz EHT-MCS 11 NSS 2, recorded on Intel
    assert checked_rate(99999.0, "tx bitrate", notes) is None and "fastest" in notes[0]
