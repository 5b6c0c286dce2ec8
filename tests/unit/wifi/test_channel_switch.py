"""Channel switching against a fake hostapd that keeps state: CSA success, CSA FAIL with and without the
restart fallback, a switch that never finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.wifi.channel_switch import ChannelSwitcher, chan_switch_command
from edge_agent.wifi.channels import CHANNELS, WIDTHS_MHZ, Band, Channel, band_for_freq, blocks, channel_for_freq
from edge_agent.wifi.hostapd_ctrl import HostapdControl

from .fake_hostapd import FakeHostapd


@pytest.mark.parametrize(("channel", "width", "expected"), [
    (6, 20, "CHAN_SWITCH 5 2437 bandwidth=20 ht"),
    (1, 40, "CHAN_SWITCH 5 2412 bandwidth=40 sec_channel_offset=1 center_freq1=2422 ht"),
    (11, 40, "CHAN_SWITCH 5 2462 bandwidth=40 sec_channel_offset=-1 center_freq1=2452 ht"),
    # 80 MHz on 5 GHz is VHT: before, the line said only "ht", which switches to no 80 MHz channel at all
    (40, 80, "CHAN_SWITCH 5 5200 bandwidth=80 sec_channel_offset=-1 center_freq1=5210 ht vht"),
    (149, 80, "CHAN_SWITCH 5 5745 bandwidth=80 sec_channel_offset=1 center_freq1=5775 ht vht"),
])
def test_chan_switch_command_keeps_the_width_and_names_the_centre(channel, width, expected):
    assert chan_switch_command(channel, width, ht=True, vht=False, he=False) == expected


@pytest.mark.parametrize(("band", "channel", "width", "expected"), [
    # the measured bug: channel 37 on a 6 GHz AP was sent as 5185 MHz
    (Band.GHZ_6, 37, 20, "CHAN_SWITCH 5 6135 bandwidth=20 he"),
    (Band.GHZ_6, 1, 40, "CHAN_SWITCH 5 5955 bandwidth=40 sec_channel_offset=1 center_freq1=5965 he"),
    (Band.GHZ_6, 37, 160, "CHAN_SWITCH 5 6135 bandwidth=160 sec_channel_offset=-1 center_freq1=6185 he"),
    (Band.GHZ_6, 37, 320, "CHAN_SWITCH 5 6135 bandwidth=320 sec_channel_offset=-1 center_freq1=6105 he eht"),
    (Band.GHZ_6, 233, 20, "CHAN_SWITCH 5 7115 bandwidth=20 he"),
    (Band.GHZ_6, 2, 20, "CHAN_SWITCH 5 5935 bandwidth=20 he"),
    (Band.GHZ_5, 100, 160, "CHAN_SWITCH 5 5500 bandwidth=160 sec_channel_offset=1 center_freq1=5570 ht vht"),
    (Band.GHZ_5, 64, 160, "CHAN_SWITCH 5 5320 bandwidth=160 sec_channel_offset=-1 center_freq1=5250 ht vht"),
])
def test_chan_switch_command_in_each_band_and_width(band, channel, width, expected):
    assert chan_switch_command(channel, width, ht=False, vht=False, he=False, band=band) == expected


def test_a_6_ghz_320_mhz_switch_keeps_the_requested_channel_set():
    # 6 GHz channel 85 is in the 320 MHz channels centred on 95 (set 1) and on 63 (set 2); the recorded Intel
    # station (iw_dev_info) was on the second: "channel 85 (6375 MHz), width: 320 MHz, center1: 6265 MHz"
    line = chan_switch_command(85, 320, False, False, True, True, band=Band.GHZ_6, centre_number=63)
    assert "center_freq1=6265" in line and "sec_channel_offset=-1" in line


def test_he_and_eht_radios_announce_their_generations():
    assert chan_switch_command(36, 80, True, True, True, True, band=Band.GHZ_5).endswith("ht vht he eht")
    assert chan_switch_command(6, 20, True, False, True, band=Band.GHZ_2_4).endswith("ht he")


@pytest.mark.parametrize(("band", "channel", "width"), [
    (Band.GHZ_6, 233, 80), (Band.GHZ_6, 225, 320), (Band.GHZ_6, 2, 40), (Band.GHZ_5, 140, 160),
    (Band.GHZ_5, 144, 320), (Band.GHZ_2_4, 14, 40), (Band.GHZ_2_4, 6, 80), (Band.GHZ_5, 50, 20),
    (Band.GHZ_6, 3, 20), (Band.GHZ_2_4, 15, 20),
])
def test_no_command_for_a_channel_that_does_not_exist_at_that_width(band, channel, width):
    with pytest.raises(ValueError):
        chan_switch_command(channel, width, True, True, True, True, band=band)


def every_usable_channel():
    for band in Band:
        for number in CHANNELS[band]:
            for width in WIDTHS_MHZ[band]:
                for found in blocks(Channel(band, number), width):
                    yield band, number, width, found.centre_number


@pytest.mark.parametrize(("band", "number", "width", "centre"), list(every_usable_channel()))
def test_every_command_passes_hostapds_own_checks_and_names_a_real_centre(band, number, width, centre):
    line = chan_switch_command(number, width, ht=True, vht=False, he=False, band=band, centre_number=centre)
    assert hostapd_rejects(line) is None, line
    params = command_params(line)
    assert params["freq"] == Channel(band, number).freq_mhz
    if width > 20:
        assert channel_for_freq(params["center_freq1"]) == centre
        assert band_for_freq(params["center_freq1"]) is band


def command_params(line: str) -> dict:
    words = line.split()
    params = {"count": int(words[1]), "freq": int(words[2]), "flags": set()}
    for word in words[3:]:
        key, found, value = word.partition("=")
        if found:
            params[key] = int(value)
        else:
            params["flags"].add(key)
    return params


def _width_of_6ghz_centre(index: int) -> int | None:
    """hostapd's center_idx_to_bw_6ghz, as widths."""
    if index == 2 or index % 4 == 1:
        return 20
    for modulo, remainder, width in ((8, 3, 40), (16, 7, 80), (32, 15, 160)):
        if index % modulo == remainder:
            return width
    return 320 if index % 32 == 31 and index < 192 else None


def hostapd_rejects(line: str) -> str | None:
    """Why hostapd's ctrl_iface (hostapd_ctrl_check_freq_params, read from hostap's hostapd/ctrl_iface.c) would
    refuse this CHAN_SWITCH, or None: the rules for each bandwidth, re-stated here as an independent check."""
    p = command_params(line)
    freq, width = p["freq"], p.get("bandwidth", 0)
    cf1, offset = p.get("center_freq1", 0), p.get("sec_channel_offset", 0)
    if 5935 <= freq <= 7115 and cf1:
        index = (cf1 - 5925) // 5 if freq == 5935 else (cf1 - 5950) // 5
        if _width_of_6ghz_centre(index) != width:
            return f"6 GHz centre index {index} is no {width} MHz centre"
    allowed = {
        20: lambda: (not cf1 or cf1 == freq) and not offset,
        40: lambda: offset in (1, -1) and (not cf1 or cf1 == freq + 10 * offset),
        80: lambda: cf1 and offset in (1, -1) and cf1 - freq in ((-10, 30) if offset == 1 else (10, -30)),
        160: lambda: cf1 and offset in (1, -1) and cf1 - freq in ((70, 30, -10, -50) if offset == 1
                                                                   else (50, 10, -30, -70)),
        320: lambda: cf1 and offset in (1, -1) and cf1 - freq in ((150, 110, 70, 30, -10, -50, -90, -130)
                                                                   if offset == 1 else
                                                                   (130, 90, 50, 10, -30, -70, -110, -150)),
    }
    if width not in allowed or not allowed[width]():
        return f"bandwidth {width} with center_freq1={cf1} sec_channel_offset={offset}"
    if 5000 < freq < 5900 and width >= 80 and not p["flags"] & {"vht", "he", "eht"}:
        return "80 MHz and wider on 5 GHz need VHT, HE or EHT"
    if width == 320 and "eht" not in p["flags"]:
        return "320 MHz needs EHT"
    if 5935 <= freq <= 7115 and p["flags"] & {"ht", "vht"}:
        return "6 GHz carries no HT/VHT operation"
    return None


class StatefulHostapd:
    """Replies like hostapd on a radio: STATUS shows the current channel; CHAN_SWITCH moves it (or FAILs)."""

    def __init__(self, ctrl_dir: Path, csa_supported: bool, finishes: bool = True):
        self.channel, self.stations = 6, 2
        self.csa_supported, self.finishes = csa_supported, finishes
        self.server = FakeHostapd(ctrl_dir, self._answer)
        self.commands = self.server.commands

    def _answer(self, command: str) -> list[str]:
        name = command.split()[0]
        if name == "STATUS":
            freq = 2407 + 5 * self.channel
            return [f"state=ENABLED\nfreq={freq}\nchannel={self.channel}\nsecondary_channel=0\n"]
        if name == "STA-FIRST":
            return ["02:00:00:00:00:01\nflags=[AUTH][ASSOC][AUTHORIZED]\n"] if self.stations else [""]
        if name == "STA-NEXT":
            return ["02:00:00:00:00:02\nflags=[AUTH][ASSOC][AUTHORIZED]\n"] if command.endswith(":01") else [""]
        if name in ("ATTACH", "DETACH"):
            return ["OK\n"]
        if name == "CHAN_SWITCH":
            if not self.csa_supported:
                return ["FAIL\n"]
            if not self.finishes:
                return ["OK\n"]
            self.channel = (int(command.split()[2]) - 2407) // 5
            return ["OK\n", f"<3>AP-CSA-FINISHED freq={command.split()[2]} dfs=0"]
        return ["UNKNOWN COMMAND\n"]

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def ctrl_dir(short_tmp: Path) -> Path:
    return short_tmp


def test_a_radio_with_csa_switches_and_the_stations_stay(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=True)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, wait_s=2).switch(1)
    hostapd.close()
    assert (result.outcome, result.from_channel, result.to_channel) == ("switched", 6, 1)
    assert (result.stations_before, result.stations_after) == (2, 2)
    assert "CHAN_SWITCH 5 2412 bandwidth=20 ht" in hostapd.commands


def test_csa_fail_falls_back_to_a_restart_on_the_new_channel_when_allowed(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=False)
    restarted = []

    def restart_on_channel(channel: int) -> None:
        restarted.append(channel)
        hostapd.channel = channel  # what rewriting hostapd.conf and restarting it achieves

    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, restart_on_channel, wait_s=2).switch(11)
    hostapd.close()
    assert restarted == [11]
    assert result.outcome == "restarted" and "answered 'FAIL'" in result.reason


def test_csa_fail_without_the_restart_fallback_fails_and_changes_nothing(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=False)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, None, wait_s=2).switch(11)
    hostapd.close()
    assert result.outcome == "failed" and "not allowed by policy" in result.reason
    assert hostapd.channel == 6


def test_a_switch_that_never_finishes_is_a_failure_named_as_such(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=True, finishes=False)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, wait_s=0.5).switch(1)
    hostapd.close()
    assert result.outcome == "failed" and "AP-CSA-FINISHED" in result.reason


class SixGhzHostapd(StatefulHostapd):
    """A 6 GHz EHT access point at 160 MHz on channel 37, as STATUS shows it."""

    def __init__(self, ctrl_dir: Path):
        super().__init__(ctrl_dir, csa_supported=True)
        self.channel = 37

    def _answer(self, command: str) -> list[str]:
        if command == "STATUS":
            return [f"state=ENABLED\nfreq={5950 + 5 * self.channel}\nchannel={self.channel}\nsecondary_channel=-1\n"
                    "ieee80211n=0\nieee80211ac=0\nieee80211ax=1\nieee80211be=1\nhe_oper_chwidth=2\n"
                    "he_oper_centr_freq_seg0_idx=47\neht_oper_chwidth=2\neht_oper_centr_freq_seg0_idx=47\n"]
        if command.startswith("CHAN_SWITCH"):
            self.channel = (int(command.split()[2]) - 5950) // 5
            return ["OK\n", f"<3>AP-CSA-FINISHED freq={command.split()[2]} dfs=0"]
        return super()._answer(command)


def test_a_6_ghz_access_point_switches_within_6_ghz_at_its_width(ctrl_dir):
    hostapd = SixGhzHostapd(ctrl_dir)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, wait_s=2).switch(69)  # a bare number is the radio's band's
    hostapd.close()
    assert (result.outcome, result.from_channel, result.to_channel, result.band) == ("switched", 37, 69, Band.GHZ_6)
    assert "CHAN_SWITCH 5 6295 bandwidth=160 sec_channel_offset=-1 center_freq1=6345 he eht" in hostapd.commands


def test_a_switch_to_another_band_or_a_channel_without_the_width_is_refused_before_hostapd_hears_it(ctrl_dir):
    hostapd = SixGhzHostapd(ctrl_dir)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        other_band = ChannelSwitcher(control, wait_s=1).switch(Channel(Band.GHZ_5, 36))
        too_narrow = ChannelSwitcher(control, wait_s=1).switch(233)  # 233 holds no 160 MHz channel
    hostapd.close()
    assert other_band.outcome == too_narrow.outcome == "failed"
    assert "band" in other_band.reason and "160 MHz" in too_narrow.reason
    assert not any(c.startswith("CHAN_SWITCH") for c in hostapd.commands)
