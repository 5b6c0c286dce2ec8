"""hostapd.conf moved to a new channel for the restart fallback: wider channels take their centre along."""

from __future__ import annotations

import pytest

from edge_agent.wifi.channel_action import rewrite_hostapd_channel
from edge_agent.wifi.hostapd_conf import conf_band

VHT80 = "hw_mode=a\nchannel=36\nht_capab=[HT40+][SHORT-GI-20]\nieee80211ac=1\nvht_oper_chwidth=1\n" \
        "vht_oper_centr_freq_seg0_idx=42\n"
EHT320_6GHZ = "hw_mode=a\nop_class=137\nchannel=37\nieee80211ax=1\nieee80211be=1\nhe_oper_chwidth=2\n" \
              "he_oper_centr_freq_seg0_idx=47\neht_oper_chwidth=9\neht_oper_centr_freq_seg0_idx=63\n"


def test_a_20_mhz_conf_changes_only_its_channel_line():
    assert rewrite_hostapd_channel("hw_mode=g\nchannel=6\nssid=home\n", 11) == "hw_mode=g\nchannel=11\nssid=home\n"
    assert rewrite_hostapd_channel("ssid=home\n", 11) == "ssid=home\nchannel=11\n"


def test_an_80_mhz_conf_moves_its_centre_and_ht40_side():
    moved = rewrite_hostapd_channel(VHT80, 153)
    assert "channel=153\n" in moved and "vht_oper_centr_freq_seg0_idx=155\n" in moved
    assert "ht_capab=[HT40-][SHORT-GI-20]\n" in moved  # 153 is the upper channel of its pair (149, 153)


def test_a_6_ghz_320_mhz_conf_keeps_its_channel_set_and_moves_the_160_mhz_he_centre():
    moved = rewrite_hostapd_channel(EHT320_6GHZ, 101)
    assert "eht_oper_centr_freq_seg0_idx=127\n" in moved  # set 2 (63 -> 127), not set 1's 95
    assert "he_oper_centr_freq_seg0_idx=111\n" in moved


def test_a_channel_that_cannot_hold_the_width_is_refused():
    vht160 = VHT80.replace("vht_oper_chwidth=1", "vht_oper_chwidth=2").replace("=42", "=50")
    with pytest.raises(ValueError):
        rewrite_hostapd_channel(vht160, 140)  # 132-144 is the last 5 GHz run below 149: no 160 MHz there
    with pytest.raises(ValueError):
        rewrite_hostapd_channel(EHT320_6GHZ, 233)


@pytest.mark.parametrize(("conf", "band"), [("hw_mode=g\n", "2.4GHz"), ("hw_mode=a\n", "5GHz"),
                                            ("hw_mode=a\nop_class=131\n", "6GHz"), ("ssid=x\n", None)])
def test_the_band_is_read_from_op_class_and_hw_mode(conf, band):
    found = conf_band(conf)
    assert (None if found is None else found.value) == band
