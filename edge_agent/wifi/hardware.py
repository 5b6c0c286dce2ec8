"""What the radio hardware allows, decided from its `iw phy` capabilities: how to move the access point (a
channel switch announcement, or a hostapd restart where policy allows it), which channels it may move to, and
the device card's summary of both. Pure functions: reading the capabilities is the radio backend's job.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from edge_agent.wifi.channels import Band, Channel, blocks
from edge_agent.wifi.phy import PhyCapabilities, PhyChannel


class SwitchMethod(str, enum.Enum):
    CSA = "csa"  # CHAN_SWITCH: stations follow the announcement without dropping
    RESTART = "restart"  # rewrite hostapd.conf and restart: every station reconnects
    NONE = "none"  # neither: the driver cannot announce and policy forbids restarting


def switch_method(phy: PhyCapabilities | None, restart_allowed: bool) -> SwitchMethod:
    """CSA unless the phy's command list is known and lacks `channel_switch` (an unknown list is tried: hostapd's
    FAIL still leads to the fallback); then a restart only where policy allows it."""
    if phy is None or phy.supports_channel_switch is not False:
        return SwitchMethod.CSA
    return SwitchMethod.RESTART if restart_allowed else SwitchMethod.NONE


def phy_channel(phy: PhyCapabilities | None, channel: Channel) -> PhyChannel | None:
    return None if phy is None else next((c for c in phy.channels if c.channel == channel), None)


def channel_refusal(phy: PhyCapabilities | None, channel: Channel, allow_dfs: bool = True) -> str | None:
    """Why the radio must not move to `channel`, or None. Disabled and no-IR channels are refused (no AP may start
    there); a radar channel (iw prints it no-IR too, until a channel availability check clears it) only without
    `allow_dfs`. A channel the phy does not list is refused when the phy lists others of its band; a phy that
    lists none of the band (an excerpt, or no phy read) refuses nothing of it."""
    if phy is None:
        return None
    listed = phy_channel(phy, channel)
    if listed is None:
        if any(c.channel.band is channel.band for c in phy.channels):
            return f"the radio does not list channel {channel} (iw phy)"
        return None
    if listed.disabled:
        return f"channel {channel} is disabled on this radio (iw phy: regulatory domain or hardware)"
    if listed.radar:
        return None if allow_dfs else f"channel {channel} needs radar detection (DFS) and policy does not allow DFS"
    if listed.no_ir:
        return f"channel {channel} is no-IR on this radio (iw phy): an access point may not start there"
    return None


def block_refusal(phy: PhyCapabilities | None, primary: Channel, width_mhz: int, allow_dfs: bool = True,
                  centre_number: int | None = None) -> str | None:
    """Why the radio must not use `primary` at `width_mhz`: the first refusal of any 20 MHz channel its bonded
    block spans (a wide channel transmits on all of them), or None. A width the channel cannot hold is for the
    channel plane to refuse, not this."""
    found = blocks(primary, width_mhz)
    spectrum = next((b for b in found if b.centre_number == centre_number), found[0]) if found else None
    members = spectrum.members if spectrum is not None else (primary,)
    for member in sorted(members, key=lambda c: c != primary):  # the primary's own reason first
        refusal = channel_refusal(phy, member, allow_dfs)
        if refusal is not None:
            return refusal if member == primary else f"its {width_mhz} MHz channel spans {refusal}"
    return None


@dataclass(frozen=True)
class RadioHardware:
    """One radio as read at start: its phy capabilities (None when they could not be read, with the reason in
    `notes`) and whether `iw survey dump` gave busy-time counters (None: not known)."""

    interface: str
    phy: PhyCapabilities | None
    survey: bool | None
    notes: tuple[str, ...] = ()

    def card(self, restart_allowed: bool) -> dict[str, Any]:
        """The `radio` entry of the meta device card."""
        phy = self.phy
        return {
            "interface": self.interface,
            "phy": None if phy is None else phy.name,
            "bands": [] if phy is None else [band.value for band in phy.bands],
            "channel_switch": None if phy is None else phy.supports_channel_switch,
            "switch_method": switch_method(phy, restart_allowed).value,
            "survey": self.survey,
            "channels": {} if phy is None else _channels_by_band(phy),
            "notes": [*self.notes, *(() if phy is None else phy.notes)],
        }


def _channels_by_band(phy: PhyCapabilities) -> dict[str, dict[str, list[int]]]:
    """Per band, channel numbers by what regulation allows: usable, radar (DFS), no_ir, disabled."""
    result: dict[str, dict[str, list[int]]] = {}
    for band in Band:
        listed = [c for c in phy.channels if c.channel.band is band]
        if not listed:
            continue
        result[band.value] = {
            "usable": [c.channel.number for c in listed if c.usable_for_ap],
            "radar": [c.channel.number for c in listed if c.radar and not c.disabled],
            "no_ir": [c.channel.number for c in listed if c.no_ir and not c.radar and not c.disabled],
            "disabled": [c.channel.number for c in listed if c.disabled],
        }
    return result
