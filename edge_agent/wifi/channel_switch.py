"""Moving the access point to another channel: CHAN_SWITCH (a channel switch announcement, so stations follow
without dropping), wait for AP-CSA-FINISHED, verify STATUS and that the stations came back. Where the driver
cannot announce a switch (its `iw phy` commands lack channel_switch, or hostapd answers FAIL, as many Raspberry
Pi drivers do), fall back to a configuration change and a hostapd restart, if the caller allows it. A channel the
phy lists as disabled or no-IR is never switched to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.wifi.channels import Band, Channel, as_channel, blocks
from edge_agent.wifi.hardware import SwitchMethod, block_refusal, switch_method
from edge_agent.wifi.hostapd_ctrl import HostapdControl, HostapdError
from edge_agent.wifi.hostapd_replies import HostapdStatus
from edge_agent.wifi.phy import PhyCapabilities

CSA_BEACONS = 5  # beacons announcing the switch before it happens (about half a second)


def chan_switch_command(
    channel: int | Channel,
    width_mhz: int,
    ht: bool,
    vht: bool,
    he: bool,
    eht: bool = False,
    *,
    band: Band | None = None,
    centre_number: int | None = None,
) -> str:
    """The CHAN_SWITCH line for `channel` at `width_mhz` (the width must not change mid-switch), as hostapd's
    ctrl_iface checks it: the bonded block's centre in center_freq1, the secondary channel's side in
    sec_channel_offset, and the generation flags the width and band need.

    A bare number is in `band` (the radio's own); `centre_number` picks between the two 320 MHz blocks a
    6 GHz primary can be in. ValueError when the channel does not exist or cannot be used at that width.
    """
    primary = as_channel(channel, band)
    candidates = blocks(primary, width_mhz)
    if not candidates:
        raise ValueError(f"channel {primary} cannot be the primary of a {width_mhz} MHz channel")
    block = next((b for b in candidates if b.centre_number == centre_number), candidates[0])
    parts = [f"CHAN_SWITCH {CSA_BEACONS} {primary.freq_mhz}", f"bandwidth={width_mhz}"]
    if width_mhz > 20:
        parts += [f"sec_channel_offset={block.secondary_offset}", f"center_freq1={block.centre_mhz}"]
    parts += [flag for flag, on in _flags(primary.band, width_mhz, ht, vht, he, eht) if on]
    return " ".join(parts)


def _flags(band: Band, width_mhz: int, ht: bool, vht: bool, he: bool, eht: bool) -> tuple[tuple[str, bool], ...]:
    """Which of ht/vht/he/eht the switch announces: the radio's own, plus what the width needs (40 MHz is HT,
    80 and 160 MHz on 5 GHz are VHT, 320 MHz is EHT); 6 GHz is HE or newer only, without HT/VHT elements."""
    eht = eht or width_mhz == 320
    he = he or eht or band is Band.GHZ_6
    if band is Band.GHZ_6:
        return (("he", he), ("eht", eht))
    ht = ht or he or width_mhz >= 40
    vht = band is Band.GHZ_5 and (vht or he or width_mhz >= 80)
    return (("ht", ht), ("vht", vht), ("he", he), ("eht", eht))


@dataclass(frozen=True)
class SwitchResult:
    outcome: str  # "switched" | "restarted" | "failed"
    from_channel: int | None
    to_channel: int
    reason: str
    stations_before: int
    stations_after: int | None
    band: Band | None = None  # the radio's band, which a switch never leaves

    def to_dict(self) -> dict:
        return {**self.__dict__, "band": None if self.band is None else Band(self.band).value}


class ChannelSwitcher:
    def __init__(
        self,
        control: HostapdControl,
        restart_on_channel: Callable[[int], None] | None = None,
        wait_s: float = 10.0,
        ht: bool | None = None,
        vht: bool | None = None,
        he: bool | None = None,
        eht: bool | None = None,
        phy: PhyCapabilities | None = None,
    ):
        """`restart_on_channel(channel)` rewrites hostapd's channel and restarts it (None: not allowed).
        The ht/vht/he/eht modes default to what hostapd's STATUS says is enabled (HT where it says nothing).
        `phy` is the radio's `iw phy` capabilities: which channels it may use, and whether it can announce a
        switch at all (None: not known, CHAN_SWITCH is tried)."""
        self.control = control
        self.restart_on_channel = restart_on_channel
        self.wait_s = wait_s
        self.modes = (ht, vht, he, eht)
        self.phy = phy

    def switch(self, channel: int | Channel) -> SwitchResult:
        """Move to `channel`, which stays in the radio's band: a bare number is a channel of that band."""
        before = self.control.status()
        stations_before = len(self.control.stations().stations)
        number = channel.number if isinstance(channel, Channel) else channel
        try:
            target = as_channel(channel, before.band)
            if before.band is not None and target.band is not before.band:
                raise ValueError(f"channel {target} is not in the radio's band ({before.band.value}); a channel "
                                 "switch stays in its band")
            centre = _same_320_set(before, target)
            command = chan_switch_command(target, before.width_mhz or 20, *self._modes(before), centre_number=centre)
        except ValueError as exc:
            return SwitchResult("failed", before.channel, number, str(exc), stations_before, None, before.band)
        # Radar channels are the policy's call (the planner's allow_dfs); disabled and no-IR ones are never usable.
        refusal = block_refusal(self.phy, target, before.width_mhz or 20, allow_dfs=True, centre_number=centre)
        if refusal is not None:
            return SwitchResult("failed", before.channel, target.number, refusal, stations_before, None, target.band)
        if switch_method(self.phy, restart_allowed=True) is not SwitchMethod.CSA:
            return self._fallback(before, target, stations_before, "the driver cannot announce a channel switch "
                                  "(no channel_switch among its iw phy commands)")
        self.control.attach()
        try:
            reply = self.control.request(command).strip()
            if reply != "OK":
                return self._fallback(before, target, stations_before, f"CHAN_SWITCH answered {reply!r}")
            finished = self._wait_for("AP-CSA-FINISHED")
        finally:
            self._detach_quietly()
        if not finished:
            return SwitchResult("failed", before.channel, target.number, f"no AP-CSA-FINISHED within "
                                f"{self.wait_s:g} s", stations_before, None, target.band)
        return self._verify(before.channel, target, stations_before, "switched", "announced and finished")

    def _modes(self, status: HostapdStatus) -> tuple[bool, bool, bool, bool]:
        enabled = set(status.standards) or {"n"}
        return tuple(  # type: ignore[return-value]
            given if given is not None else standard in enabled
            for given, standard in zip(self.modes, ("n", "ac", "ax", "be"), strict=True)
        )

    def _fallback(self, before: HostapdStatus, target: Channel, stations_before: int, why: str) -> SwitchResult:
        if self.restart_on_channel is None:
            return SwitchResult("failed", before.channel, target.number, f"{why} and a restart is not allowed by "
                                "policy", stations_before, None, target.band)
        self.restart_on_channel(target.number)  # hostapd.conf's channel= is a number in the radio's band
        return self._verify(before.channel, target, stations_before, "restarted",
                            f"{why}: restarted hostapd on the new channel")

    def _verify(self, current: int | None, target: Channel, stations_before: int, outcome: str,
                how: str) -> SwitchResult:
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                status = self.control.status()
                stations = len(self.control.stations().stations)
            except HostapdError:
                status, stations = None, None  # hostapd is still coming back after a restart
            if status is not None and status.primary == target and stations is not None \
                    and stations >= stations_before:
                return SwitchResult(outcome, current, target.number, f"{how}; {stations} of {stations_before} "
                                    "stations back", stations_before, stations, target.band)
            if time.monotonic() >= deadline:
                seen = "unknown" if status is None or status.primary is None else status.primary
                return SwitchResult("failed", current, target.number, f"{how}, but after {self.wait_s:g} s the "
                                    f"channel is {seen} with {stations} of {stations_before} stations",
                                    stations_before, stations, target.band)
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


def _same_320_set(status: HostapdStatus, target: Channel) -> int | None:
    """At 320 MHz, the centre of `target`'s block in the same channel set as the current one (centres 31, 95,
    159 or 63, 127, 191), so a switch keeps the operator's choice; None otherwise."""
    if status.width_mhz != 320 or status.centre_mhz is None or status.primary is None:
        return None
    current = next((b for b in blocks(status.primary, 320) if b.centre_mhz == status.centre_mhz), None)
    if current is None:
        return None
    return next((b.centre_number for b in blocks(target, 320) if b.centre_number % 64 == current.centre_number % 64),
                None)
