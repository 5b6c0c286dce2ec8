"""Parser for `iw phy` / `iw phy X info` / `iw list`: what the radio hardware can do.

Read for the channels each band offers (with the regulatory flags that forbid starting an AP there: disabled,
no-IR, radar detection) and for the supported commands, where `channel_switch` says whether the driver can
announce a channel switch (CSA) at all. Excerpts are accepted: a paste that starts inside a band or stops
before the commands gives what it holds, and None for what it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_agent.wifi import ParseError
from edge_agent.wifi.channels import Band, Channel, channel_at
from edge_agent.wifi.fields import checked_freq, checked_line, first_number

# "* 5260.0 MHz [52] (20.0 dBm) (no IR, radar detection)"; older iw prints "5260 MHz". Matched from the item's
# start; the tail (power and flags in parentheses) is read with plain string operations.
_FREQUENCY_ITEM = re.compile(r"(?P<freq>[0-9]+(?:\.[0-9]+)?)\s*MHz\s*\[(?P<channel>[0-9]+)\](?P<tail>.*)")
_WIPHY_HEADER = re.compile(r"Wiphy\s+(?P<name>\S+)")
# Flags iw prints for channels where an AP may not start on its own (initiate radiation).
_NO_IR_FLAGS = frozenset({"no IR", "passive scan", "passive scanning", "no IBSS"})


@dataclass(frozen=True)
class PhyChannel:
    """One channel the radio lists, with what regulation allows there."""

    channel: Channel
    max_power_dbm: float | None
    disabled: bool
    no_ir: bool  # may not transmit first: no AP can start here (no IR, passive scan)
    radar: bool  # DFS: radar detection (a channel availability check) before transmitting

    @property
    def usable_for_ap(self) -> bool:
        return not (self.disabled or self.no_ir)


@dataclass(frozen=True)
class PhyCapabilities:
    """What `iw phy` says about one radio."""

    name: str | None  # "phy0"; None in an excerpt without the Wiphy line
    channels: tuple[PhyChannel, ...]
    commands: tuple[str, ...] | None  # None: the output held no "Supported commands" list
    notes: tuple[str, ...] = ()

    @property
    def bands(self) -> tuple[Band, ...]:
        """Bands with at least one channel that is not disabled, in band order."""
        present = {c.channel.band for c in self.channels if not c.disabled}
        return tuple(band for band in Band if band in present)

    @property
    def supports_channel_switch(self) -> bool | None:
        """Whether the driver takes CSA (`channel_switch` among the commands); None when the list is missing."""
        return None if self.commands is None else "channel_switch" in self.commands


def parse_phy(text: str) -> PhyCapabilities:
    """Parse `iw phy X info` (or `iw list`, one radio). ParseError when it lists neither frequencies nor
    commands: then it is no phy output."""
    name: str | None = None
    section: str | None = "start"  # an excerpt may begin inside a frequency list, before any heading
    channels: list[PhyChannel] = []
    commands: list[str] | None = None
    notes: list[str] = []
    for raw in text.splitlines():
        line = checked_line(raw, "iw phy").strip()
        if not line:
            continue
        header = _WIPHY_HEADER.fullmatch(line)
        if header is not None:
            if name is not None:
                notes.append(f"a second radio ({header['name']}) follows {name}; only {name} was read")
                break
            name = header["name"]
            continue
        if not line.startswith("*"):
            section = line.rstrip(":") if line.endswith(":") else None
            if section == "Supported commands":
                commands = []
            continue
        item = line[1:].strip()
        if section == "Frequencies" or section == "start" and _FREQUENCY_ITEM.match(item):
            channel = _channel_item(item, notes)
            if channel is not None:
                channels.append(channel)
        elif section == "Supported commands" and commands is not None:
            commands.append(item)
    if not channels and commands is None:
        reason = "empty output" if not text.strip() else "no 'Frequencies:' or 'Supported commands:' list"
        raise ParseError("iw phy", reason)
    return PhyCapabilities(name, tuple(channels), None if commands is None else tuple(commands), tuple(notes))


def _channel_item(item: str, notes: list[str]) -> PhyChannel | None:
    match = _FREQUENCY_ITEM.match(item)
    if match is None:
        notes.append(f"frequency item {item[:40]!r} is not '<MHz> MHz [<channel>]'")
        return None
    what = f"phy channel [{match['channel'][:8]}]"
    freq = checked_freq(match["freq"], what, notes)
    channel = channel_at(freq)
    if channel is None:
        if freq is not None:
            notes.append(f"{what} at {freq} MHz is no 2.4/5/6 GHz channel; left out")
        return None
    if match["channel"] != str(channel.number):
        notes.append(f"{what} at {freq} MHz is channel {channel}; the frequency is used")
    flags = _flags(match["tail"])
    power = next((first_number(f, what) for f in flags if f.endswith("dBm")), None)
    return PhyChannel(
        channel=channel,
        max_power_dbm=power,
        disabled="disabled" in flags,
        no_ir=bool(_NO_IR_FLAGS & flags),
        radar="radar detection" in flags,
    )


def _flags(tail: str) -> set[str]:
    """ "(20.0 dBm) (no IR, radar detection)" -> {"20.0 dBm", "no IR", "radar detection"}."""
    flags = set()
    for group in tail.split(")"):
        _, opened, inside = group.partition("(")
        if opened:
            flags.update(part.strip() for part in inside.split(",") if part.strip())
    return flags
