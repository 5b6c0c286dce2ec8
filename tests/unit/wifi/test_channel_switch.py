"""Channel switching against a fake hostapd that keeps state: CSA success, CSA FAIL with and without the
restart fallback, a switch that never finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.wifi.channel_switch import ChannelSwitcher, chan_switch_command
from edge_agent.wifi.hostapd_ctrl import HostapdControl

from .fake_hostapd import FakeHostapd


@pytest.mark.parametrize(("channel", "width", "expected"), [
    (6, 20, "CHAN_SWITCH 5 2437 bandwidth=20 ht"),
    (1, 40, "CHAN_SWITCH 5 2412 bandwidth=40 sec_channel_offset=1 center_freq1=2422 ht"),
    (11, 40, "CHAN_SWITCH 5 2462 bandwidth=40 sec_channel_offset=-1 center_freq1=2452 ht"),
    (40, 80, "CHAN_SWITCH 5 5200 bandwidth=80 sec_channel_offset=-1 center_freq1=5210 ht"),
    (149, 80, "CHAN_SWITCH 5 5745 bandwidth=80 sec_channel_offset=1 center_freq1=5775 ht"),
])
def test_chan_switch_command_keeps_the_width_and_names_the_centre(channel, width, expected):
    assert chan_switch_command(channel, width, ht=True, vht=False, he=False) == expected


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
