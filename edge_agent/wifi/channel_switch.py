"""Moving the access point to another channel: CHAN_SWITCH (a channel switch announcement, so stations follow
without dropping), wait for AP-CSA-FINISHED, verify STATUS and that the stations came back. Where the driver
cannot announce a switch (hostapd answers FAIL, as many Raspberry Pi drivers do), fall back to a configuration
change and a hostapd restart, if the caller allows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.wifi.channels import freq_for_channel
from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError

CSA_BEACONS = 5  # beacons announcing the switch before it happens (about half a second)

# 5 GHz channel groups and the centre channel of their 80 MHz block
_VHT80_CENTRES = {range(36, 49): 42, range(52, 65): 58, range(100, 113): 106, range(116, 129): 122,
                  range(132, 145): 138, range(149, 162): 155}


def chan_switch_command(channel: int, width_mhz: int, ht: bool, vht: bool, he: bool) -> str:
    """The CHAN_SWITCH line for `channel` at the current mode's width (the width must not change mid-switch)."""
    freq = freq_for_channel(channel)
    parts = [f"CHAN_SWITCH {CSA_BEACONS} {freq}"]
    # The secondary 20 MHz sits above on the lower channel of each 40 MHz pair and below on the upper one
    # (on 2.4 GHz: above for channels 1-7).
    offset = (1 if channel <= 7 else -1) if channel <= 14 else (1 if (channel // 4) % 2 == 1 else -1)
    if width_mhz == 40:
        parts += ["bandwidth=40", f"sec_channel_offset={offset}", f"center_freq1={freq + 10 * offset}"]
    elif width_mhz == 80 and channel > 14:
        centre = next((c for group, c in _VHT80_CENTRES.items() if channel in group), None)
        if centre is None:
            raise ValueError(f"channel {channel} has no 80 MHz block")
        parts += ["bandwidth=80", f"sec_channel_offset={offset}", f"center_freq1={freq_for_channel(centre)}"]
    else:
        parts += ["bandwidth=20"]
    parts += [flag for flag, on in (("ht", ht), ("vht", vht), ("he", he)) if on]
    return " ".join(parts)


@dataclass(frozen=True)
class SwitchResult:
    outcome: str  # "switched" | "restarted" | "failed"
    from_channel: int | None
    to_channel: int
    reason: str
    stations_before: int
    stations_after: int | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class ChannelSwitcher:
    def __init__(
        self,
        control: HostapdControl,
        restart_on_channel: Callable[[int], None] | None = None,
        wait_s: float = 10.0,
        ht: bool = True,
        vht: bool = False,
        he: bool = False,
    ):
        """`restart_on_channel(channel)` rewrites hostapd's channel and restarts it (None: not allowed)."""
        self.control = control
        self.restart_on_channel = restart_on_channel
        self.wait_s = wait_s
        self.modes = (ht, vht, he)

    def switch(self, channel: int) -> SwitchResult:
        before = self.control.status()
        stations_before = len(self.control.stations().stations)
        command = chan_switch_command(channel, before.width_mhz or 20, *self.modes)
        self.control.attach()
        try:
            reply = self.control.request(command).strip()
            if reply != "OK":
                return self._fallback(before.channel, channel, stations_before, reply)
            finished = self._wait_for("AP-CSA-FINISHED")
        finally:
            self._detach_quietly()
        if not finished:
            return SwitchResult("failed", before.channel, channel, f"no AP-CSA-FINISHED within {self.wait_s:g} s",
                                stations_before, None)
        return self._verify(before.channel, channel, stations_before, "switched", "announced and finished")

    def _fallback(self, current: int | None, channel: int, stations_before: int, reply: str) -> SwitchResult:
        if self.restart_on_channel is None:
            return SwitchResult("failed", current, channel, f"CHAN_SWITCH answered {reply!r} and a restart is not "
                                "allowed by policy", stations_before, None)
        self.restart_on_channel(channel)
        return self._verify(current, channel, stations_before, "restarted",
                            f"CHAN_SWITCH answered {reply!r}: restarted hostapd on the new channel")

    def _verify(self, current: int | None, channel: int, stations_before: int, outcome: str, how: str) -> SwitchResult:
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                status = self.control.status()
                stations = len(self.control.stations().stations)
            except HostapdError:
                status, stations = None, None  # hostapd is still coming back after a restart
            if status is not None and status.channel == channel and stations is not None \
                    and stations >= stations_before:
                return SwitchResult(outcome, current, channel, f"{how}; {stations} of {stations_before} stations "
                                    "back", stations_before, stations)
            if time.monotonic() >= deadline:
                seen = "unknown" if status is None else status.channel
                return SwitchResult("failed", current, channel, f"{how}, but after {self.wait_s:g} s the channel "
                                    f"is {seen} with {stations} of {stations_before} stations", stations_before,
                                    stations)
            time.sleep(0.2)

    def _wait_for(self, event_name: str) -> bool:
        deadline = time.monotonic() + self.wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            if any(e.startswith(event_name) for e in self.control.events(wait_s=min(remaining, 0.5))):
                return True
        return False

    def _detach_quietly(self) -> None:
        try:
            self.control.detach()
        except HostapdError:
            pass  # hostapd restarted or is gone: nothing to detach from
