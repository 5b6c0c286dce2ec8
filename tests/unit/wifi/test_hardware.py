"""Knowing the hardware: the switch method and the usable channels follow the radio's `iw phy` capabilities,
read from the recorded phys (a Raspberry Pi's brcmfmac without channel_switch, an MT7992 excerpt, a 6 GHz list)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.collectors.wifi import RadioUnavailable
from edge_agent.remediation.settings import ChannelPolicy
from edge_agent.wifi.channel_action import ChannelPlanner
from edge_agent.wifi.channel_switch import ChannelSwitcher
from edge_agent.wifi.channels import Band, Channel
from edge_agent.wifi.hardware import RadioHardware, SwitchMethod, block_refusal, channel_refusal, switch_method
from edge_agent.wifi.hostapd_ctrl import HostapdControl
from edge_agent.wifi.phy import parse_phy
from edge_agent.wifi.radio import HostapdRadio

from .samples import sample
from .test_channel_action import BandRadio, busy
from .test_channel_switch import StatefulHostapd

PI3 = parse_phy(sample("iw_phy__raspberrypi_linux_issue6130_pi3-brcmfmac_excerpt.txt"))
MT7992 = parse_phy(sample("iw_phy__openwrt_mt76_issue1078_mt7992e_excerpt.txt"))
SIX_GHZ = parse_phy(sample("iw_phy__lakinduakash_linux-wifi-hotspot_pr466_iw-list-6ghz_excerpt.txt"))
CSA_24 = parse_phy("Wiphy phy0\n\tBand 1:\n\t\tFrequencies:\n" + "".join(
    f"\t\t\t* {2407 + 5 * n} MHz [{n}] (20.0 dBm)\n" for n in range(1, 12))
    + "\t\t\t* 2467 MHz [12] (disabled)\n\t\t\t* 2472 MHz [13] (no IR)\n"
    "\tSupported commands:\n\t\t * new_interface\n\t\t * channel_switch\n")
NO_CSA_24 = parse_phy("Wiphy phy0\n\tBand 1:\n\t\tFrequencies:\n" + "".join(
    f"\t\t\t* {2407 + 5 * n} MHz [{n}] (20.0 dBm)\n" for n in range(1, 12))
    + "\t\t\t* 2467 MHz [12] (disabled)\n\tSupported commands:\n\t\t * new_interface\n\t\t * set_channel\n")


@pytest.mark.parametrize(("phy", "restart", "method"), [
    (PI3, False, SwitchMethod.NONE),  # the recorded Pi: no channel_switch among its commands
    (PI3, True, SwitchMethod.RESTART),
    (CSA_24, False, SwitchMethod.CSA),
    (MT7992, False, SwitchMethod.CSA),  # the excerpt holds no command list: unknown, CSA is tried
    (None, True, SwitchMethod.CSA),
])
def test_the_switch_method_follows_the_drivers_commands_and_the_policy(phy, restart, method):
    assert switch_method(phy, restart) is method


@pytest.mark.parametrize(("phy", "channel", "allow_dfs", "refused"), [
    (PI3, Channel(Band.GHZ_5, 149), True, "disabled"),
    (PI3, Channel(Band.GHZ_5, 124), False, "radar"),
    (PI3, Channel(Band.GHZ_5, 124), True, None),  # DFS: iw prints it no-IR until the CAC; allowed by policy
    (PI3, Channel(Band.GHZ_5, 36), True, "does not list"),  # the phy lists 5 GHz, not this channel
    (PI3, Channel(Band.GHZ_2_4, 6), False, None),  # the excerpt lists no 2.4 GHz: nothing known to refuse
    (SIX_GHZ, Channel(Band.GHZ_6, 37), True, "no-IR"),
    (SIX_GHZ, Channel(Band.GHZ_6, 101), True, "disabled"),
    (MT7992, Channel(Band.GHZ_5, 40), False, None),
    (MT7992, Channel(Band.GHZ_5, 52), False, "radar"),
    (CSA_24, Channel(Band.GHZ_2_4, 13), True, "no-IR"),
    (CSA_24, Channel(Band.GHZ_2_4, 12), True, "disabled"),
    (None, Channel(Band.GHZ_6, 37), False, None),
])
def test_channels_the_phy_forbids_are_refused_with_the_reason(phy, channel, allow_dfs, refused):
    reason = channel_refusal(phy, channel, allow_dfs)
    assert reason is None if refused is None else refused in reason


@pytest.mark.parametrize(("primary", "width", "centre", "refused"), [
    (Channel(Band.GHZ_6, 93), 20, None, None),
    (Channel(Band.GHZ_6, 85), 160, None, None),  # 65-93: all inside the usable 1-93
    (Channel(Band.GHZ_6, 69), 320, None, "spans"),  # the 320 MHz channel centred on 95 spans 65-125
    (Channel(Band.GHZ_6, 69), 320, 63, None),  # the one centred on 63 spans 33-93
    (Channel(Band.GHZ_6, 101), 80, None, "channel 101 (6GHz) is disabled"),
])
def test_a_wide_channel_is_refused_when_any_20_mhz_channel_it_spans_is(primary, width, centre, refused):
    text = "\t\tFrequencies:\n" + "".join(
        f"\t\t\t* {5950 + 5 * n}.0 MHz [{n}] (23.0 dBm)\n" for n in range(1, 94, 4)) + "".join(
        f"\t\t\t* {5950 + 5 * n}.0 MHz [{n}] (disabled)\n" for n in range(97, 234, 4))
    reason = block_refusal(parse_phy(text), primary, width, centre_number=centre)
    assert reason is None if refused is None else refused in reason and "disabled" in reason


def test_the_device_card_summarises_bands_channels_and_methods():
    card = RadioHardware("wlan0", PI3, survey=False, notes=("no survey: unsupported",)).card(restart_allowed=False)
    assert (card["bands"], card["channel_switch"], card["switch_method"], card["survey"]) == (
        ["5GHz"], False, "none", False)
    five = card["channels"]["5GHz"]
    assert five["radar"] == [124, 128, 132, 136, 140] and five["disabled"] == [144, 149, 153, 157, 161, 165]
    assert five["usable"] == [] and card["notes"] == ["no survey: unsupported"]
    unknown = RadioHardware("wlan0", None, None, ("radio capabilities unknown: iw missing",)).card(True)
    assert (unknown["phy"], unknown["channel_switch"], unknown["switch_method"], unknown["channels"]) == (
        None, None, "csa", {})


@pytest.fixture
def ctrl_dir(short_tmp: Path) -> Path:
    return short_tmp


def test_a_driver_without_channel_switch_is_never_sent_chan_switch_and_restarts_when_allowed(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=True)  # would accept it: the phy must decide, not luck
    restarted = []

    def restart_on_channel(channel: int) -> None:
        restarted.append(channel)
        hostapd.channel = channel

    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, restart_on_channel, wait_s=2, phy=NO_CSA_24).switch(11)
    hostapd.close()
    assert not any(c.startswith("CHAN_SWITCH") for c in hostapd.commands)
    assert restarted == [11] and result.outcome == "restarted" and "channel_switch" in result.reason


def test_a_driver_without_channel_switch_and_no_restart_fails_without_touching_hostapd(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=True)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        result = ChannelSwitcher(control, None, wait_s=2, phy=NO_CSA_24).switch(11)
    hostapd.close()
    assert not any(c.startswith("CHAN_SWITCH") for c in hostapd.commands) and hostapd.channel == 6
    assert result.outcome == "failed" and "not allowed by policy" in result.reason


def test_a_switch_to_a_channel_the_phy_disables_is_refused_before_hostapd_hears_it(ctrl_dir):
    hostapd = StatefulHostapd(ctrl_dir, csa_supported=True)
    with HostapdControl(ctrl_dir, "wlan0") as control:
        switcher = ChannelSwitcher(control, lambda channel: None, wait_s=2, phy=CSA_24)
        disabled, no_ir = switcher.switch(12), switcher.switch(13)
        allowed = switcher.switch(11)
    hostapd.close()
    assert disabled.outcome == no_ir.outcome == "failed" and "disabled" in disabled.reason and "no-IR" in no_ir.reason
    assert allowed.outcome == "switched" and hostapd.channel == 11
    assert [c for c in hostapd.commands if c.startswith("CHAN_SWITCH")] == ["CHAN_SWITCH 5 2462 bandwidth=20 ht"]


class PhyRadio(BandRadio):
    def __init__(self, phy, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phy = phy

    def phy_capabilities(self, interface):
        return self.phy


def test_the_planner_never_picks_a_channel_the_phy_forbids():
    # 6 GHz: the recorded list has 1-93 no-IR and 97+ disabled; only 53 and 69 are left usable here
    text = sample("iw_phy__lakinduakash_linux-wifi-hotspot_pr466_iw-list-6ghz_excerpt.txt")
    text = text.replace("[53] (22.0 dBm) (no IR)", "[53] (22.0 dBm)").replace("[69] (22.0 dBm) (no IR)",
                                                                                "[69] (22.0 dBm)")
    phy = parse_phy(text)
    assert channel_refusal(phy, Channel(Band.GHZ_6, 53)) is None, "the edited sample must free channel 53"
    # the quietest preferred channels (5, 21, 101, 117) are all no-IR or disabled on this radio
    surveys = [*busy(Band.GHZ_6, range(1, 234, 4), 0.0), *busy(Band.GHZ_6, (37,), 0.9),
               *busy(Band.GHZ_6, (53,), 0.3), *busy(Band.GHZ_6, (69,), 0.2)]
    radio = PhyRadio(phy, Channel(Band.GHZ_6, 37), 20, surveys)
    result = ChannelPlanner(radio, ChannelPolicy(min_dwell_s=0), lambda: 0.0).move("wlan2")
    assert result.ok and radio.switched_to == [Channel(Band.GHZ_6, 69)]
    assert {s["channel"] for s in result.data["scores"]} == {37, 53, 69}


def test_the_planner_keeps_dfs_channels_out_without_allow_dfs_even_when_listed():
    surveys = [*busy(Band.GHZ_5, (36,), 0.9), *busy(Band.GHZ_5, (40, 44, 48), 0.5), *busy(Band.GHZ_5, (52,), 0.0)]
    radio = PhyRadio(MT7992, Channel(Band.GHZ_5, 36), 20, surveys)
    ChannelPlanner(radio, ChannelPolicy(min_dwell_s=0, allowed_channels=[36, 40, 52]), lambda: 0.0).move("wlan1")
    assert radio.switched_to == [Channel(Band.GHZ_5, 40)]
    radio = PhyRadio(MT7992, Channel(Band.GHZ_5, 36), 20, surveys)
    policy = ChannelPolicy(min_dwell_s=0, allowed_channels=[36, 40, 52], allow_dfs=True)
    ChannelPlanner(radio, policy, lambda: 0.0).move("wlan1")
    assert radio.switched_to == [Channel(Band.GHZ_5, 52)]


def fake_iw(outputs: dict[str, str]):
    def run(argv: list[str]) -> str:
        key = " ".join(argv)
        if key not in outputs:
            raise RadioUnavailable(f"{key} failed (255): command failed: Operation not supported (-95)")
        return outputs[key]
    return run


def test_the_radio_reads_its_phy_by_wiphy_index_and_the_survey_once_at_start(short_tmp):
    survey = "Survey data from wlan0\n\tfrequency:\t\t\t5180 MHz [in use]\n\tnoise:\t\t\t\t-92 dBm\n"
    calls: list[str] = []
    run = fake_iw({"iw dev wlan0 info": "Interface wlan0\n\tifindex 3\n\twiphy 1\n\ttype AP\n",
                   "iw phy phy#1 info": sample("iw_phy__raspberrypi_linux_issue6130_pi3-brcmfmac_excerpt.txt"),
                   "iw dev wlan0 survey dump": survey})
    radio = HostapdRadio(short_tmp, run=lambda argv: calls.append(" ".join(argv)) or run(argv))
    assert radio.phy_capabilities("wlan0") is None  # nothing read before the start
    hardware = radio.hardware("wlan0")
    assert hardware.phy is not None and hardware.phy.supports_channel_switch is False
    assert hardware.survey is False and "no busy-time counters" in hardware.notes[0]
    assert radio.hardware("wlan0") is hardware and len(calls) == 3
    assert radio.phy_capabilities("wlan0") is hardware.phy


def test_a_radio_whose_phy_cannot_be_read_says_why_and_keeps_csa():
    radio = HostapdRadio(Path("/nonexistent"), run=fake_iw({}))
    hardware = radio.hardware("wlan0")
    assert hardware.phy is None and hardware.survey is False
    assert "Operation not supported" in hardware.notes[0] and hardware.card(False)["switch_method"] == "csa"
