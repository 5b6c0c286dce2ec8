"""`iw phy` capabilities against recorded outputs: channels with their regulatory flags, and CSA support."""

from __future__ import annotations

import pytest

from edge_agent.wifi import ParseError
from edge_agent.wifi.channels import Band, Channel
from edge_agent.wifi.phy import parse_phy

from .samples import sample

PI3 = "iw_phy__raspberrypi_linux_issue6130_pi3-brcmfmac_excerpt.txt"
MT7992 = "iw_phy__openwrt_mt76_issue1078_mt7992e_excerpt.txt"
SIX_GHZ = "iw_phy__lakinduakash_linux-wifi-hotspot_pr466_iw-list-6ghz_excerpt.txt"


def test_raspberry_pi_brcmfmac_cannot_announce_a_channel_switch():
    phy = parse_phy(sample(PI3))
    assert phy.supports_channel_switch is False
    assert "set_channel" in phy.commands and len(phy.commands) == 19


def test_raspberry_pi_brcmfmac_5_ghz_channels_and_flags():
    channels = {c.channel.number: c for c in parse_phy(sample(PI3)).channels}
    assert sorted(channels) == [124, 128, 132, 136, 140, 144, 149, 153, 157, 161, 165]
    dfs = channels[124]
    assert (dfs.max_power_dbm, dfs.no_ir, dfs.radar, dfs.disabled) == (20.0, True, True, False)
    assert not dfs.usable_for_ap
    assert channels[149].disabled and not channels[149].radar and channels[149].max_power_dbm is None


def test_mt7992_excerpt_lists_5_ghz_channels_without_a_commands_list():
    phy = parse_phy(sample(MT7992))
    assert [c.channel for c in phy.channels] == [Channel(Band.GHZ_5, n) for n in range(36, 65, 4)]
    assert [c.usable_for_ap for c in phy.channels] == [True] * 4 + [False] * 4
    assert [c.radar for c in phy.channels] == [False] * 4 + [True] * 4
    assert (phy.commands, phy.supports_channel_switch, phy.bands, phy.name) == (None, None, (Band.GHZ_5,), None)


def test_6_ghz_list_reads_no_ir_and_disabled_channels():
    phy = parse_phy(sample(SIX_GHZ))
    six = [c for c in phy.channels if c.channel.band is Band.GHZ_6]
    assert [c.channel.number for c in six] == list(range(1, 126, 4))
    assert all(c.no_ir and not c.disabled and c.max_power_dbm == 22.0 for c in six if c.channel.number <= 93)
    assert all(c.disabled for c in six if c.channel.number >= 97)
    assert phy.bands == (Band.GHZ_6,) and phy.notes == ()


def test_a_wiphy_header_and_channel_switch_command():
    text = ("Wiphy phy1\n\tBand 1:\n\t\tFrequencies:\n\t\t\t* 2412 MHz [1] (20.0 dBm)\n"
            "\t\t\t* 2484 MHz [14] (disabled)\n\tSupported commands:\n\t\t * new_interface\n\t\t * channel_switch\n"
            "\tsoftware interface modes (can always be added):\n\t\t * AP/VLAN\n")
    phy = parse_phy(text)
    assert (phy.name, phy.supports_channel_switch, phy.commands) == ("phy1", True, ("new_interface", "channel_switch"))
    assert [(c.channel.number, c.disabled) for c in phy.channels] == [(1, False), (14, True)]


def test_a_60_ghz_channel_is_left_out_with_a_note():
    phy = parse_phy("\t\tFrequencies:\n\t\t\t* 58320.0 MHz [1] (40.0 dBm)\n\t\t\t* 5180.0 MHz [36] (23.0 dBm)\n")
    assert [c.channel for c in phy.channels] == [Channel(Band.GHZ_5, 36)] and phy.notes


@pytest.mark.parametrize("text", ["", "command failed: No such device (-19)\n", "Interface wlan0\n\ttype AP\n"])
def test_output_that_is_no_phy_listing_raises(text):
    with pytest.raises(ParseError):
        parse_phy(text)
